"""dbt_dwh's SQL for BigQuery, without a BigQuery connection: the project parses for the
bigquery target; every model and data test compiled on DuckDB transpiles to
BigQuery SQL that parses again (sqlglot, unsupported constructs raise); the BigQuery variants
of the dispatched macros are BigQuery SQL; and the project compiles for the bigquery target
itself with the client stubbed out, into SQL sqlglot reads as BigQuery.

sqlglot's parsers are lenient (BigQuery's accepts DuckDB's dayname() or ASOF JOIN), so these are
syntax checks: they catch SQL no dialect parses and constructs sqlglot cannot translate, not
unknown functions or type errors.

Compiling needs no lake files (the staging views only name them) and no warehouse tables; the
incremental facts' own tables exist (empty on DuckDB, stubbed on BigQuery), so their
incremental branch (the `{{ this }}` filters) is what gets compiled and checked."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import sqlglot
from jinja2 import Environment
from sqlglot.errors import ErrorLevel, SqlglotError

from tests.support import ROOT

pytestmark = pytest.mark.integration

PROJECT = ROOT / "dbt_dwh"
DBT = str(Path(sys.executable).with_name("dbt"))

# `python -c OFFLINE_DBT <dbt args>`: dbt with a BigQuery connection that never reaches Google:
# opening it makes no client, relations are never listed, and every relation looked up exists
# as a table (so the incremental models compile their incremental branch).
OFFLINE_DBT = """
import sys
from dbt.adapters.bigquery.connections import BigQueryConnectionManager
from dbt.adapters.bigquery.impl import BigQueryAdapter
from dbt.adapters.bigquery.relation import BigQueryRelation
from dbt.adapters.contracts.connection import ConnectionState
from dbt.cli.main import dbtRunner


class NoClient:
    def close(self):
        pass

    def __getattr__(self, name):
        raise RuntimeError(f"offline: BigQuery client.{name} called")


def open_offline(cls, connection):
    connection.handle = NoClient()
    connection.state = ConnectionState.OPEN
    return connection


def existing_table(self, database, schema, identifier):
    return BigQueryRelation.create(
        database=database, schema=schema, identifier=identifier, type="table"
    )


BigQueryConnectionManager.open = classmethod(open_offline)
BigQueryAdapter.list_relations_without_caching = lambda self, schema_relation: []
BigQueryAdapter.get_relation = existing_table
sys.exit(0 if dbtRunner().invoke(sys.argv[1:]).success else 1)
"""


def dbt(
    tmp_path: Path, *args: str, command: tuple[str, ...] = (DBT,), **env: str
) -> subprocess.CompletedProcess:
    """`dbt <args>` on dbt_dwh with target and logs in tmp_path (the repo's target is left
    alone) and none of the caller's GOURMAND_* settings."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GOURMAND_")}
    full_env.update(
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_LOG_PATH=str(tmp_path / "logs"),
        GOURMAND_HOME=str(tmp_path / "home"),
        **env,
    )
    return subprocess.run(
        [*command, *args, "--project-dir", str(PROJECT), "--profiles-dir", str(ROOT / "profiles")],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_project_parses_for_the_bigquery_target(tmp_path):
    parsed = dbt(tmp_path, "parse", GOURMAND_WAREHOUSE="bigquery")
    assert parsed.returncode == 0, parsed.stdout[-3000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "bigquery"
    # BigQuery compares no INT64 with a string: numeric accepted values must not be quoted
    quoted_numbers = [
        node["unique_id"]
        for node in manifest["nodes"].values()
        if node.get("test_metadata", {}).get("name") == "accepted_values"
        and all(isinstance(v, int | float) for v in node["test_metadata"]["kwargs"]["values"])
        and node["test_metadata"]["kwargs"].get("quote", True)
    ]
    assert quoted_numbers == []


def test_every_compiled_query_transpiles_to_bigquery(tmp_path):
    lake = tmp_path / "lake"
    lake.mkdir()
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        # the facts' tables exist, so is_incremental() holds and the {{ this }} filters compile
        con.execute("create schema dwh")
        con.execute("create table dwh.fct_business_holding (surveyed_on date)")
        con.execute("create table dwh.fct_county_growth (last_edited_at timestamptz)")
        con.execute("create table dwh.fct_service_request (updated_at timestamptz)")
    compiled = dbt(
        tmp_path,
        "compile",
        GOURMAND_WAREHOUSE="duckdb",
        GOURMAND_WAREHOUSE_PATH=str(warehouse),
        GOURMAND_LAKE_URL=lake.as_uri(),
    )
    assert compiled.returncode == 0, compiled.stdout[-3000:]

    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    nodes = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "snapshot", "test")
    ]
    kinds = [node["resource_type"] for node in nodes]
    assert kinds.count("model") >= 30, kinds
    assert "snapshot" not in kinds, "history is valid time from the lake, not dbt snapshots"
    assert kinds.count("test") >= 50, kinds
    incremental = [n for n in nodes if n["config"].get("materialized") == "incremental"]
    assert len(incremental) == 3
    for node in incremental:
        assert f'"dwh"."{node["alias"]}"' in node["compiled_code"], node["unique_id"]

    failures = {}
    for node in nodes:
        sql = node.get("compiled_code")
        if not sql:
            failures[node["unique_id"]] = "not compiled"
            continue
        try:
            [bigquery] = sqlglot.transpile(
                sql, read="duckdb", write="bigquery", unsupported_level=ErrorLevel.RAISE
            )
            sqlglot.parse_one(bigquery, read="bigquery", error_level=ErrorLevel.RAISE)
        except SqlglotError as exc:
            failures[node["unique_id"]] = str(exc)[:300]
    assert failures == {}


def test_the_bigquery_variants_of_the_dispatched_macros_are_bigquery_sql():
    """Every macro dispatched by adapter.dispatch has a bigquery__ variant (the default is
    Postgres: to_char, extract(isodow)), and each, rendered for a column, parses as BigQuery."""
    source = "\n".join(p.read_text() for p in sorted((PROJECT / "macros").glob("*.sql")))
    dispatched = set(re.findall(r"adapter\.dispatch\('(\w+)'\)", source))
    variants = set(re.findall(r"macro bigquery__(\w+)\(", source))
    assert {"latest_version", "day_name", "iso_day_of_week"} <= dispatched
    assert dispatched <= variants, dispatched - variants

    module = Environment().from_string(source).module
    for name in sorted(variants - {"lake_has_table"}):  # that one asks the adapter, no SQL
        macro = getattr(module, f"bigquery__{name}")
        if name == "latest_version":
            sql = str(macro("`gourmand`.`lake`.`business`", ["business_id"]))
        elif name in ("timestamptz_type", "double_type"):
            sql = f"select cast(null as {macro()}) from days"
        else:
            sql = f"select {macro('date_day')} from days"
        sqlglot.parse_one(sql, read="bigquery", error_level=ErrorLevel.RAISE)


def test_the_project_compiles_for_bigquery_into_bigquery_sql(tmp_path):
    compiled = dbt(
        tmp_path,
        "compile",
        command=(sys.executable, "-c", OFFLINE_DBT),
        GOURMAND_WAREHOUSE="bigquery",
    )
    assert compiled.returncode == 0, (compiled.stdout + compiled.stderr)[-3000:]

    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "bigquery"
    nodes = {
        node["unique_id"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "snapshot", "test")
    }
    assert sum(uid.startswith("model.") for uid in nodes) >= 30
    failures = {}
    for uid, node in nodes.items():
        sql = node.get("compiled_code")
        if not sql:
            failures[uid] = "not compiled"
            continue
        try:
            sqlglot.transpile(
                sql, read="bigquery", write="bigquery", unsupported_level=ErrorLevel.RAISE
            )
        except SqlglotError as exc:
            failures[uid] = str(exc)[:300]
        # the DuckDB spellings must not reach BigQuery: dispatch picked the bigquery__ variants
        for duckdb_only in ("read_parquet", "distinct on", "dayname(", "isodow"):
            if duckdb_only in sql.lower():
                failures[uid] = f"DuckDB's {duckdb_only} in BigQuery SQL"
    assert failures == {}
    dim_date = nodes["model.gourmand_dwh.dim_date"]["compiled_code"]
    assert "format_date('%A', date_day)" in dim_date
    assert "qualify row_number()" in nodes["model.gourmand_dwh.stg_lake__business"]["compiled_code"]
    holding = nodes["model.gourmand_dwh.fct_business_holding"]["compiled_code"]
    # the incremental build reads what it already holds (its watermarks) from itself
    assert "`dwh`.`fct_business_holding`" in holding and "changed_versions" in holding
    # BigQuery has no delete+insert
    strategies = {
        uid: node["config"].get("incremental_strategy")
        for uid, node in nodes.items()
        if node["config"].get("materialized") == "incremental"
    }
    assert len(strategies) == 3
    assert set(strategies.values()) == {"merge"}, strategies
