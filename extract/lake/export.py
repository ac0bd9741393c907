"""Exporting the OLTP model to the lake: every `oltp` table as Parquet under `<lake>/oltp/<table>/`.

dlt's `sql_database` source reads Postgres (Arrow backend) and its `filesystem` destination writes
Parquet files, one per table and load (`<lake>/oltp/<table>/<load_id>.<file_id>.parquet`).
Incremental by watermark: each table's cursor is `last_edited_at` (every OLTP table has it and
it moves only when a row's content changes), kept in dlt's pipeline state, so a run exports only
what changed since the last successful export and a run with no change writes no file.

Files are only ever appended (dlt's filesystem `merge` degrades to append anyway): the same key
can appear in several files. The warehouse staging therefore keeps, per key, the row with the
latest `last_edited_at`, unless a tombstone names the key: rows the OLTP model deletes (a day
loaded again no longer lists them) are recorded in `oltp_meta.deleted_rows`, exported with the
tables as `<lake>/oltp/deleted_rows/`, and the staging hides a row deleted after its last edit.

Crash safety: a load's files count once dlt has recorded the load (`_dlt_loads`); files of a load
that never finished (a killed run) are deleted at the start of the next export, which exports
the same rows again (the cursor only moves with a finished load). A full refresh writes every
row of its tables beside the old files and deletes the old files only once the new load is
recorded: readers see the old rows, then both (identical, deduplicated), then the new.

Every run records what it wrote per table in `lake_export.exports` (Postgres).
"""

from __future__ import annotations

import logging
import posixpath
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dlt

from extract.lake import files as lake_mod
from extract.runtime.postgres import connect, oltp_dsn
from extract.settings import Settings, get_settings

SCHEMA = "oltp"
DATASET = "oltp"  # the folder under the lake root
CURSOR = "last_edited_at"
LEDGER = "lake_export.exports"
# rows the OLTP model deleted (macros/folding.sql in dbt_oltp), exported beside the tables
TOMBSTONES = ("oltp_meta", "deleted_rows", "deleted_at")


@dataclass(frozen=True)
class ExportResult:
    load_id: str | None
    seconds: float
    rows: dict[str, int]  # table -> rows written by this run (0: nothing changed)
    full_refresh: bool
    tombstones: int = 0  # tombstones written by this run

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
    lake_mod.use_atomic_local_writes()  # a killed export leaves no truncated Parquet file
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


def _tombstones_exist(settings: Settings) -> bool:
    conn = connect(settings, read_only=True)
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (f"{TOMBSTONES[0]}.{TOMBSTONES[1]}",))
        found = cur.fetchone()[0] is not None
    conn.close()
    return found


def _resources(settings: Settings, tables: Sequence[str], full_refresh: bool) -> list[Any]:
    """One sql_table per table (plus the tombstones), incremental on its cursor; a full refresh
    reads every row and leaves the cursors where they are (the next export then re-reads a few
    rows it already has, which the staging deduplicates)."""
    from dlt.sources.sql_database import sql_table
    from sqlalchemy import create_engine

    # SQLAlchemy 2.1 maps postgresql:// to psycopg 3; the project ships psycopg2
    dsn = oltp_dsn(settings).replace("postgresql://", "postgresql+psycopg2://", 1)
    sources = [(SCHEMA, table, CURSOR) for table in tables]
    if _tombstones_exist(settings):
        sources.append(TOMBSTONES)
    # dlt reads the tables round-robin, each generator holding its connection open
    engine = create_engine(dsn, pool_size=len(sources) + 1, max_overflow=2)
    resources = []
    for schema, table, cursor in sources:
        resource = sql_table(
            credentials=engine,
            table=table,
            schema=schema,
            backend="pyarrow",
            reflection_level="full",
            incremental=None if full_refresh else dlt.sources.incremental(cursor),
            type_adapter_callback=_known_types,
            write_disposition="append",
        )
        resources.append(resource)
    return resources


def _file_load_id(path: str) -> str:
    """`<load_id>.<file_id>.<ext>` (dlt's layout above) -> load_id, which itself holds a dot."""
    return posixpath.basename(path).rsplit(".", 2)[0]


def _finished_loads(lake: lake_mod.Lake) -> set[str]:
    """Load ids dlt recorded as complete (`_dlt_loads/<pipeline>__<load_id>.jsonl`)."""
    folder = lake.path(DATASET, "_dlt_loads")
    if not lake.fs.exists(folder):
        return set()
    return {
        posixpath.basename(p).removesuffix(".jsonl").rsplit("__", 1)[-1]
        for p in lake.fs.ls(folder, detail=False)
    }


def _table_files(lake: lake_mod.Lake) -> dict[str, list[str]]:
    base = lake.path(DATASET)
    if not lake.fs.exists(base):
        return {}
    out = {}
    for folder in lake.fs.ls(base, detail=False):
        name = posixpath.basename(folder.rstrip("/"))
        if not name.startswith(("_", ".")) and lake.fs.isdir(folder):
            out[name] = lake_mod.list_files(lake, posixpath.join(DATASET, name))
    return out


def remove_unfinished(lake: lake_mod.Lake) -> list[str]:
    """Delete data files of loads dlt never recorded as finished (a killed export), and files a
    killed copy left under their temporary names."""
    partials = lake_mod.remove_partials(lake, DATASET)
    finished = _finished_loads(lake)
    stale = [
        path
        for files in _table_files(lake).values()
        for path in files
        if _file_load_id(path) not in finished
    ]
    for path in stale:
        lake.fs.rm(path)
    return partials + stale


def _remove_superseded(lake: lake_mod.Lake, tables: Sequence[str], load_id: str) -> None:
    """After a full refresh: the refreshed tables' files of earlier loads."""
    files = _table_files(lake)
    for table in tables:
        for path in files.get(table, []):
            if _file_load_id(path) != load_id:
                lake.fs.rm(path)


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
        # a killed run's package: exported again from the unmoved cursor instead
        pipeline.drop_pending_packages()
    lake = lake_mod.open_lake(settings)
    remove_unfinished(lake)
    resources = _resources(settings, selected, full_refresh)
    ties = _ExpectedCursorTies()
    logging.getLogger("dlt").addFilter(ties)
    try:
        info = pipeline.run(resources, loader_file_format="parquet")
    finally:
        logging.getLogger("dlt").removeFilter(ties)
    info.raise_on_failed_jobs()
    if full_refresh and info.loads_ids:
        _remove_superseded(lake, [*selected, TOMBSTONES[1]], info.loads_ids[-1])
    counts = {table: 0 for table in selected}
    trace = pipeline.last_trace
    if trace and trace.last_normalize_info:
        for table, rows in trace.last_normalize_info.row_counts.items():
            if table in counts:
                counts[table] += rows
    load_id = info.loads_ids[-1] if info.loads_ids else None
    tombstones = 0
    if trace and trace.last_normalize_info:
        tombstones = trace.last_normalize_info.row_counts.get(TOMBSTONES[1], 0)
    result = ExportResult(load_id, time.perf_counter() - started, counts, full_refresh, tombstones)
    _record(settings, result, _watermarks(pipeline, selected))
    return result
