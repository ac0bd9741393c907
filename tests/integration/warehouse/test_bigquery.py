"""The warehouse on BigQuery, against a real BigQuery API (bqemulator on 127.0.0.1): the lake's
export loaded with load jobs and a ledger, dbt_dwh built twice, the checks and the read path, and
every fact and mart equal to the DuckDB warehouse built from the same lake."""

from __future__ import annotations

import datetime as dt
import math
import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extract.lake.export import export_oltp
from extract.pipelines import run_source
from extract.runtime.dbt_invoke import run_dbt
from extract.runtime.query import QueryError, run_query
from extract.sources.hr.ingest import ingest_file
from extract.warehouse.bigquery import FILE_COLUMN, BigQueryLake, load_lake_to_bigquery
from tests.conftest import bq_environment
from tests.support import HR_SEED, new_database, settings_for

pytestmark = pytest.mark.integration

DAY1 = dt.date(2024, 1, 1)
DAY2 = DAY1 + dt.timedelta(days=30)


def build(settings: Any, work: Path, project: str, *args: str) -> Any:
    run = run_dbt(project, list(args), settings, target_path=work)
    assert run.returncode == 0, run.stdout[-4000:]
    return run


def normalized(value: Any) -> Any:
    """A value as both warehouses agree on it: numbers to 6 significant places, instants in
    UTC, dates and times as text."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal | float | int):
        number = float(value)
        return 0.0 if number == 0 else round(number, 6 - int(math.floor(math.log10(abs(number)))))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def rows_by_name(columns: list[str], rows: list[tuple]) -> tuple[list[str], list[tuple]]:
    order = sorted(range(len(columns)), key=lambda i: columns[i])
    return (
        [columns[i] for i in order],
        sorted((tuple(normalized(row[i]) for i in order) for row in rows), key=repr),
    )


@pytest.fixture(scope="module")
def chain(base_dsn, bq_emulator, tmp_path_factory):
    """Two Yelp days, two years of LA 311 and the HR seed through dbt_oltp and the lake export;
    the DuckDB warehouse built from that lake; the same lake loaded into BigQuery and dbt_dwh
    built there twice (the second run takes the incremental merge path)."""
    from extract.sandbox import SandboxConfig, SandboxServer

    work = tmp_path_factory.mktemp("bigquery")
    server = SandboxServer(
        SandboxConfig(counties=2, businesses_per_county=25, socrata_rows_per_year=300)
    ).start()
    try:
        with new_database(base_dsn) as dsn:
            settings = settings_for(
                work / "home", dsn, server, GOURMAND_SOCRATA_BASE_URL=server.url
            )
            run_source("states", settings=settings, to_lake=False)
            run_source("census", settings=settings, to_lake=False)
            run_source("socrata", settings=settings, options={"mode": "full"}, to_lake=False)
            for name in ("departments", "jobs", "employees"):
                ingest_file(settings, name, HR_SEED / f"{name}.csv")
            for day in (DAY1, DAY2):
                run_source("yelp", day=day, settings=settings, to_lake=False)
                build(settings, work / "oltp", "dbt_oltp", "run")
                export_oltp(settings)
            build(settings, work / "duckdb", "dbt_dwh", "build")

            bq = settings.with_(**{
                "warehouse": "bigquery",
                "bq_endpoint": bq_emulator.url,
                "bq_project": bq_environment(bq_emulator)["GOURMAND_BQ_PROJECT"],
            })  # fmt: skip
            loads = [load_lake_to_bigquery(bq)]
            builds = [build(bq, work / "bigquery", "dbt_dwh", "build")]
            loads.append(load_lake_to_bigquery(bq))
            builds.append(build(bq, work / "bigquery", "dbt_dwh", "build"))
            yield settings, bq, loads, builds
    finally:
        server.stop()


def test_every_lake_file_loads_once(chain):
    settings, bq, loads, _ = chain
    first, second = loads
    assert sum(t.files for t in first.values()) > 0
    assert sum(t.files for t in second.values()) == 0, "a re-run loads nothing again"
    target = BigQueryLake(bq)
    lake_rows = {
        table: duckdb.sql(
            f"select count(*) from read_parquet('{settings.home}/lake/oltp/{table}/*.parquet')"
        ).fetchall()[0][0]
        for table in first
    }
    for table, expected in lake_rows.items():
        [row] = target._query(f"select count(*) as n from `{bq.bq_project}.lake.{table}`")
        assert row["n"] == expected == first[table].rows, table
    ledger = target.ledger()
    assert {state for _, state in ledger.values()} == {"loaded"}
    assert len(ledger) == sum(t.files for t in first.values())


def test_facts_and_marts_equal_the_duckdb_warehouse(chain):
    settings, bq, _, _ = chain
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        tables = [
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('dwh', 'marts') order by 1, 2"
            ).fetchall()
        ]
        assert len(tables) >= 25, tables
        for table in tables:
            cursor = con.execute(f"select * from {table}")
            duck = rows_by_name([d[0] for d in cursor.description], cursor.fetchall())
            columns, rows = run_query(
                f"select * from {table}", target="warehouse", settings=bq, internal=True
            )
            assert rows_by_name(columns, rows) == duck, table
    finally:
        con.close()


def test_the_second_build_ran_the_incremental_path(chain):
    _, _, _, builds = chain
    assert all(b.returncode == 0 for b in builds)
    second = builds[1].stdout
    assert "fct_business_holding" in second and "fct_service_request" in second


def test_the_warehouse_checks_and_reconciliations_judge_bigquery_as_duckdb(chain):
    """The same verdicts and observations on both warehouses; the reconciliations pass. (The
    two survey days are 30 days apart, so `fact_rows_every_day`, a warning, finds the days
    between without facts on both.)"""
    from expectations.catalog import CHECKS
    from expectations.suites import run_checks

    settings, bq, _, _ = chain
    assets = sorted({c.asset for c in CHECKS if c.layer in ("warehouse", "reconciliation")})

    def verdicts(target: Any) -> dict[str, tuple[bool, str]]:
        outcomes = [o for asset in assets for o in run_checks(target, asset, [])]
        return {o.check: (o.passed, o.observed) for o in outcomes}

    on_bigquery = verdicts(bq)
    assert on_bigquery == verdicts(settings)
    assert len(on_bigquery) == len([c for c in CHECKS if c.asset in assets])
    assert all(passed for name, (passed, _) in on_bigquery.items() if name.startswith("reconcile"))
    assert on_bigquery["fact_rows_every_day"] == (False, "holdings: 29 of 31 rows unexpected")


def test_the_read_path_is_select_only(chain):
    _, bq, _, _ = chain
    columns, rows = run_query("select count(*) as n from marts.days_to_close_by_agency",
                              target="warehouse", settings=bq)  # fmt: skip
    assert columns == ["n"] and rows[0][0] > 0
    for statement in (
        "delete from dwh.dim_date where true",
        "create table marts.x as select 1 as a",
        "drop table marts.days_to_close_by_agency",
    ):
        with pytest.raises(QueryError, match="read-only"):
            run_query(statement, target="warehouse", settings=bq)
    assert run_query("select count(*) from marts.days_to_close_by_agency",
                     target="warehouse", settings=bq)[1] == rows  # fmt: skip


KILLED_LOAD = """
import os, sys
from pathlib import Path
from extract.settings import load_settings
from extract.warehouse.bigquery import load_lake_to_bigquery

def die(table):
    print("LOADED", table, flush=True)
    os.kill(os.getpid(), 9)

load_lake_to_bigquery(load_settings(dict(os.environ)), after_load=die)
"""


def _killed_after_loading(make_settings, bq_emulator, tmp_path, ids: list[str]):
    """A lake with one file of `ids` in oltp/business, loaded by a process SIGKILLed between
    the load job and the ledger write; (settings, the table's lake folder)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    env = {"GOURMAND_HOME": str(tmp_path / "home"), **bq_environment(bq_emulator)}
    settings = make_settings(**env)
    folder = tmp_path / "home" / "lake" / "oltp" / "business"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"business_id": ids}), folder / "1.parquet")
    child = subprocess.run(
        [sys.executable, "-c", KILLED_LOAD],
        env={**os.environ, **env, "PYTHONPATH": str(settings.project_root)},
        capture_output=True, text=True, timeout=120, cwd=settings.project_root,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    assert "LOADED business" in child.stdout
    return settings, folder


def test_a_load_killed_before_its_ledger_write_loads_nothing_twice(
    make_settings, bq_emulator, tmp_path
):
    settings, folder = _killed_after_loading(make_settings, bq_emulator, tmp_path, ["a", "b", "c"])
    target = BigQueryLake(settings)
    assert target.ledger() == {"oltp/business/1.parquet": ("business", "loading")}

    again = load_lake_to_bigquery(settings)["business"]
    assert (again.recovered, again.files, again.rows) == (1, 0, 0)
    rows = target._query(
        f"select business_id, {FILE_COLUMN} as f from `{settings.bq_project}.lake.business`"
    )
    assert sorted(r["business_id"] for r in rows) == ["a", "b", "c"]
    assert target.ledger() == {"oltp/business/1.parquet": ("business", "loaded")}


def test_a_file_a_killed_load_left_behind_and_the_lake_removed_leaves_no_rows(
    make_settings, bq_emulator, tmp_path
):
    """Killed between the load job and the ledger, then the file is gone from the lake (a
    full-refresh export): the next run deletes its rows as it does a loaded file's."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    settings, folder = _killed_after_loading(make_settings, bq_emulator, tmp_path, ["a", "b"])
    (folder / "1.parquet").unlink()
    pq.write_table(pa.table({"business_id": ["c"]}), folder / "2.parquet")
    again = load_lake_to_bigquery(settings)["business"]
    assert (again.removed, again.files, again.rows) == (1, 1, 1)
    target = BigQueryLake(settings)
    rows = target._query(f"select business_id from `{settings.bq_project}.lake.business`")
    assert [r["business_id"] for r in rows] == ["c"]
    assert target.ledger()["oltp/business/1.parquet"] == ("business", "removed")


def test_files_gone_from_the_lake_leave_the_table(make_settings, bq_emulator, tmp_path):
    """A full-refresh export replaces a table's files: their rows go, the new file's come."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    settings = make_settings(GOURMAND_HOME=str(tmp_path / "home"), **bq_environment(bq_emulator))
    folder = tmp_path / "home" / "lake" / "oltp" / "city"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"city_id": ["x"], "n": [1]}), folder / "old.parquet")
    assert load_lake_to_bigquery(settings)["city"].files == 1
    (folder / "old.parquet").unlink()
    # a later export adds a column; the loader matches columns by name, not position
    pq.write_table(pa.table({"extra": [2.5], "city_id": ["y"], "n": [2]}), folder / "new.parquet")
    result = load_lake_to_bigquery(settings)["city"]
    assert (result.removed, result.files) == (1, 1)
    columns, rows = run_query(
        "select city_id, n, extra from lake.city", target="warehouse", settings=settings,
        internal=True,
    )  # fmt: skip
    assert rows == [("y", 2, 2.5)]


def test_a_gs_lake_loads_from_its_uris(make_settings, bq_emulator, tmp_path, monkeypatch):
    """With a gs:// lake nothing is streamed: the emulator reads each file from its URI (its
    local GCS root stands in for the bucket; GCS itself cannot run here, so the lake's `gs`
    filesystem is a folder view of that same root), then one INSERT stamps and appends it."""
    import importlib

    import pyarrow as pa
    import pyarrow.parquet as pq
    from fsspec.implementations.dirfs import DirFileSystem
    from fsspec.implementations.local import LocalFileSystem

    root = bq_emulator.gcs_root

    class BucketFolders(DirFileSystem):
        protocol = "gs"

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(path=str(root), fs=LocalFileSystem())

        @classmethod
        def _strip_protocol(cls, path: Any) -> Any:
            return path.removeprefix("gs://") if isinstance(path, str) else path

    # fsspec's own name `fsspec.registry` is a read-only view; the module holds the table
    monkeypatch.setitem(importlib.import_module("fsspec.registry")._registry, "gs", BucketFolders)
    bucket = f"lake-{tmp_path.name[-12:].lower().replace('_', '-')}"
    folder = root / bucket / "prod" / "oltp" / "agency"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"agency_id": ["a", "b"], "n": [1, 2]}), folder / "1.parquet")
    settings = make_settings(GOURMAND_LAKE_URL=f"gs://{bucket}/prod", **bq_environment(bq_emulator))
    first = load_lake_to_bigquery(settings)["agency"]
    assert (first.files, first.rows) == (1, 2)
    pq.write_table(pa.table({"n": [3], "agency_id": ["c"]}), folder / "2.parquet")
    second = load_lake_to_bigquery(settings)["agency"]
    assert (second.files, second.rows) == (1, 1)
    assert load_lake_to_bigquery(settings)["agency"].files == 0
    _, rows = run_query(
        f"select agency_id, n, {FILE_COLUMN} from lake.agency order by 1",
        target="warehouse", settings=settings, internal=True,
    )  # fmt: skip
    assert rows == [
        ("a", 1, "oltp/agency/1.parquet"),
        ("b", 2, "oltp/agency/1.parquet"),
        ("c", 3, "oltp/agency/2.parquet"),
    ]
