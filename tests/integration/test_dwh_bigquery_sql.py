"""dbt_dwh's SQL for BigQuery, without a BigQuery connection: the project parses for the
bigquery target, and every model compiled from the shared SQL transpiles to BigQuery SQL that
parses again (sqlglot, unsupported constructs raise)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DBT = str(Path(sys.executable).with_name("dbt"))


def dbt(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GOURMAND_")}
    full_env.update(
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_LOG_PATH=str(tmp_path / "logs"),
        GOURMAND_HOME=str(tmp_path / "home"),
        GOURMAND_LAKE_URL=str(tmp_path / "lake"),
        **env,
    )
    return subprocess.run(
        [DBT, *args, "--project-dir", str(ROOT / "dbt_dwh"), "--profiles-dir",
         str(ROOT / "profiles")],
        env=full_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_project_parses_for_the_bigquery_target(tmp_path):
    parsed = dbt(tmp_path, "parse", GOURMAND_WAREHOUSE="bigquery")
    assert parsed.returncode == 0, parsed.stdout[-3000:]


def test_every_model_transpiles_to_bigquery(tmp_path):
    (tmp_path / "home").mkdir()
    compiled = dbt(tmp_path, "compile", GOURMAND_WAREHOUSE="duckdb")
    assert compiled.returncode == 0, compiled.stdout[-3000:]
    models = sorted((tmp_path / "target" / "compiled" / "gourmand_dwh" / "models").rglob("*.sql"))
    assert len(models) >= 30, [m.name for m in models]
    failures = {}
    for model in models:
        sql = model.read_text()
        try:
            [bigquery] = sqlglot.transpile(
                sql, read="duckdb", write="bigquery", unsupported_level=ErrorLevel.RAISE
            )
            sqlglot.parse_one(bigquery, read="bigquery", error_level=ErrorLevel.RAISE)
        except sqlglot.errors.SqlglotError as exc:
            failures[model.stem] = str(exc)[:300]
    assert failures == {}


def test_the_bigquery_variants_of_the_dispatched_macros_are_bigquery_sql():
    """The macros dbt picks on BigQuery (dbt_dwh/macros/*.sql `bigquery__*`), rendered for a
    column, parse as BigQuery SQL."""
    import re

    from jinja2 import Environment

    env = Environment()
    source = "\n".join(p.read_text() for p in sorted((ROOT / "dbt_dwh" / "macros").glob("*.sql")))
    module = env.from_string(source).module
    names = re.findall(r"macro (bigquery__\w+)\(", source)
    assert {"bigquery__day_name", "bigquery__latest_version", "bigquery__iso_week"} <= set(names)
    for name in names:
        macro = getattr(module, name)
        if name == "bigquery__latest_version":
            sql = str(macro("lake.business", ["business_id"]))
        else:
            sql = f"select {macro('d')} from t"
        sqlglot.parse_one(sql, read="bigquery", error_level=ErrorLevel.RAISE)
