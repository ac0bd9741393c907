"""The Dagster home of a Gourmand home: created on first use, telemetry off, and one pool slot
each for the DuckDB warehouse (DuckDB allows one writing process per file) and the OLTP model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from extract.settings import Settings

WAREHOUSE_POOL = "duckdb_warehouse"
OLTP_POOL = "oltp_model"

INSTANCE_CONFIG = """\
telemetry:
  enabled: false
# Ops that declare a pool get one slot per pool: duckdb_warehouse (the dbt_dwh assets), so two
# runs never write the warehouse file at once, and oltp_model (the dbt_oltp build).
concurrency:
  pools:
    default_limit: 1
"""


def ensure_dagster_home(settings: Settings) -> Path:
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists() or "concurrency:" not in config.read_text():
        config.write_text(INSTANCE_CONFIG)
    return settings.dagster_home


def instance_for(settings: Settings) -> Any:
    """The home's Dagster instance (runs started here show in its UI)."""
    from dagster import DagsterInstance

    return DagsterInstance.from_config(str(ensure_dagster_home(settings)))
