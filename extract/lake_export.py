"""Exporting the OLTP model to the lake: every `oltp` table as Parquet under `<lake>/oltp/<table>/`.

dlt's `sql_database` source reads Postgres (Arrow backend) and its `filesystem` destination writes
Parquet files, one per table and load (`<lake>/oltp/<table>/<load_id>.<file_id>.parquet`).
Incremental by watermark: each table's cursor is `last_edited_at` (every OLTP table has it and
it moves only when a row's content changes), kept in dlt's pipeline state, so a run exports only
what changed since the last successful export and a run with no change writes no file.

Files are only ever appended (dlt's filesystem `merge` degrades to append anyway): the same key
can appear in several files, and an export re-run after a crash can leave a duplicate file. The
warehouse staging therefore keeps, per key, the row with the latest `last_edited_at`.

Every run records what it wrote per table in `lake_export.exports` (Postgres).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dlt

from extract.postgres import connect, oltp_dsn
from extract.settings import Settings, get_settings

SCHEMA = "oltp"
DATASET = "oltp"  # the folder under the lake root
CURSOR = "last_edited_at"
LEDGER = "lake_export.exports"


@dataclass(frozen=True)
class ExportResult:
    load_id: str | None
    seconds: float
    rows: dict[str, int]  # table -> rows written by this run (0: nothing changed)
    full_refresh: bool

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def oltp_tables(settings: Settings) -> list[str]:
    """The tables of schema `oltp` (what dbt_oltp built), sorted."""
    conn = connect(settings, read_only=True)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
            (SCHEMA,),
        )
        names = [r[0] for r in cur.fetchall()]
    conn.close()
    return names


def _destination(settings: Settings) -> Any:
    credentials: dict[str, Any] | None = None
    if settings.lake_url.startswith("s3://"):
        credentials = {"region_name": settings.lake_region}
        if settings.lake_key_id:
            credentials["aws_access_key_id"] = settings.lake_key_id
            credentials["aws_secret_access_key"] = settings.lake_secret
        if settings.lake_endpoint_url:
            credentials["endpoint_url"] = settings.lake_endpoint_url
    return dlt.destinations.filesystem(
        bucket_url=settings.lake_url,
        credentials=credentials,
        layout="{table_name}/{load_id}.{file_id}.{ext}",
    )


class _ExpectedCursorTies(logging.Filter):
    """Drops dlt's warning that many rows share the cursor value: every row one dbt run changed
    carries that run's start time as last_edited_at, so ties are the rule here (see above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "sharing the same value of cursor field" not in record.getMessage()


def make_pipeline(settings: Settings) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name="gourmand_lake_export",
        destination=_destination(settings),
        dataset_name=DATASET,
        pipelines_dir=str(settings.dlt_dir),
    )


def _known_types(sql_type: Any) -> Any:
    """Floats as dlt's `double`: SQLAlchemy 2.1's Float is no longer a Numeric, the only float
    dlt's reflection recognizes (it warns and guesses otherwise)."""
    from sqlalchemy import Float, Numeric

    return Numeric(asdecimal=False) if isinstance(sql_type, Float) else sql_type


def _resources(settings: Settings, tables: Sequence[str]) -> list[Any]:
    from dlt.sources.sql_database import sql_table
    from sqlalchemy import create_engine

    # SQLAlchemy 2.1 maps postgresql:// to psycopg 3; the project ships psycopg2
    dsn = oltp_dsn(settings).replace("postgresql://", "postgresql+psycopg2://", 1)
    # dlt reads the tables round-robin, each generator holding its connection open
    engine = create_engine(dsn, pool_size=len(tables) + 1, max_overflow=2)
    resources = []
    for table in tables:
        resource = sql_table(
            credentials=engine,
            table=table,
            schema=SCHEMA,
            backend="pyarrow",
            reflection_level="full",
            incremental=dlt.sources.incremental(CURSOR),
            type_adapter_callback=_known_types,
            write_disposition="append",
        )
        resources.append(resource)
    return resources


def _run(pipeline: dlt.Pipeline, resources: list[Any], full_refresh: bool) -> Any:
    if full_refresh:
        # drops the tables' files and resets their cursors before loading everything again
        return pipeline.run(resources, loader_file_format="parquet", refresh="drop_resources")
    return pipeline.run(resources, loader_file_format="parquet")


def _record(settings: Settings, result: ExportResult, watermarks: dict[str, Any]) -> None:
    conn = connect(settings)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS lake_export")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {LEDGER} ("
            " exported_at timestamptz NOT NULL, load_id text, table_name text NOT NULL,"
            " rows_written bigint NOT NULL, watermark text, full_refresh boolean NOT NULL,"
            " seconds double precision NOT NULL)"
        )
        now = datetime.now(UTC)
        for table, rows in sorted(result.rows.items()):
            cur.execute(
                f"INSERT INTO {LEDGER} VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (now, result.load_id, table, rows, watermarks.get(table), result.full_refresh,
                 result.seconds),
            )  # fmt: skip
    conn.close()


def _watermarks(pipeline: dlt.Pipeline, tables: Sequence[str]) -> dict[str, Any]:
    """Each table's cursor after the run, from dlt's state (None before the first export)."""
    out: dict[str, Any] = {}
    sources = pipeline.state.get("sources", {})
    for source in sources.values():
        for table, state in source.get("resources", {}).items():
            if table in tables:
                cursor = state.get("incremental", {}).get(CURSOR, {})
                value = cursor.get("last_value")
                out[table] = None if value is None else str(value)
    return out


def export_oltp(
    settings: Settings | None = None,
    *,
    tables: Sequence[str] | None = None,
    full_refresh: bool = False,
) -> ExportResult:
    """Export what changed in `oltp` since the last export (all of it with `full_refresh`,
    which also deletes the tables' earlier files)."""
    settings = settings or get_settings()
    selected = list(tables or oltp_tables(settings))
    if not selected:
        raise RuntimeError("schema oltp has no tables yet: build dbt_oltp first")
    started = time.perf_counter()
    pipeline = make_pipeline(settings)
    if pipeline.has_pending_data:
        # a crashed run's package: its files may be partly written; the staging dedups them
        pipeline.drop_pending_packages()
    resources = _resources(settings, selected)
    ties = _ExpectedCursorTies()
    logging.getLogger("dlt").addFilter(ties)
    try:
        info = _run(pipeline, resources, full_refresh)
    finally:
        logging.getLogger("dlt").removeFilter(ties)
    info.raise_on_failed_jobs()
    counts = {table: 0 for table in selected}
    trace = pipeline.last_trace
    if trace and trace.last_normalize_info:
        for table, rows in trace.last_normalize_info.row_counts.items():
            if table in counts:
                counts[table] += rows
    load_id = info.loads_ids[-1] if info.loads_ids else None
    result = ExportResult(load_id, time.perf_counter() - started, counts, full_refresh)
    _record(settings, result, _watermarks(pipeline, selected))
    return result
