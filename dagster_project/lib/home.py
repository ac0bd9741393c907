"""The Dagster home of a Gourmand home: created on first use, telemetry off, and one pool slot
for the OLTP model. (The warehouse's runs take turns through its build lease instead:
extract/runtime/publication.py.)"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from extract.settings import Settings

OLTP_POOL = "oltp_model"

# what the first versions wrote, without the header line: replaced like a generated file
LEGACY_CONFIG = """\
telemetry:
  enabled: false
# Ops that declare a pool get one slot per pool: duckdb_warehouse (the dbt_dwh assets), so two
# runs never write the warehouse file at once, and oltp_model (the dbt_oltp build).
concurrency:
  pools:
    default_limit: 1
"""
GENERATED = (
    "# Written by gourmand (dagster_project/lib/home.py); remove this line to keep your edits."
)
# the header before the module moved into lib/: a file that starts with it is still generated
# (and names the event log's old module path, so it must be rewritten)
EARLIER_GENERATED = (
    "# Written by gourmand (dagster_project/home.py); remove this line to keep your edits.",
)
INSTANCE_CONFIG = """\
{generated}
telemetry:
  enabled: false
# Ops that declare a pool get one slot per pool: oltp_model (the dbt_oltp build). The warehouse's
# runs take turns through its build lease (extract/runtime/publication.py).
concurrency:
  pools:
    default_limit: 1
# Dagster's SQLite event log with its connections kept open (dagster_project/lib/upstream.py): the
# same files, a third of the time per event
event_log_storage:
  module: dagster_project.lib.upstream
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {runs}
"""


def ensure_dagster_home(settings: Settings) -> Path:
    """The home's Dagster folder with its dagster.yaml; a generated one is rewritten when this
    project's settings for it change (or the home moved), an edited one is left alone."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    wanted = INSTANCE_CONFIG.format(
        generated=GENERATED, runs=settings.dagster_home / "history" / "runs"
    )
    current = config.read_text() if config.exists() else None
    generated = (
        current is None
        or current.startswith((GENERATED, *EARLIER_GENERATED))
        or current == LEGACY_CONFIG
    )
    if current != wanted and generated:
        beside = config.with_name(f".dagster.yaml.{os.getpid()}")
        beside.write_text(wanted)
        beside.replace(config)
    return settings.dagster_home


def instance_for(settings: Settings) -> Any:
    """The home's Dagster instance (runs started here show in its UI)."""
    from dagster import DagsterInstance

    return DagsterInstance.from_config(str(ensure_dagster_home(settings)))
