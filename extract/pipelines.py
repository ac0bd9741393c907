"""Running a source: dlt into the OLTP Postgres, then the same rows into the lake.

`run_source()` (one batch) and `run_days()` (a daily source's days) are the one code path
behind the CLI, the demo and the Dagster assets. A load is one dlt load package: nothing is
loaded when extraction fails, and re-running a batch replaces it. What differs between sources
is declared in the registry (extract/sources/registry.py: each source's spec, its layout and
hooks, extract/sources/spec.py); the runner never asks a source's name.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo

from extract.lake import files as lake_mod
from extract.runtime.locks import home_lock, source_lock
from extract.runtime.postgres import connect, oltp_dsn
from extract.settings import Settings
from extract.sources.accounting import LOADS_TABLE, REJECTS_TABLE
from extract.sources.registry import SOURCES
from extract.sources.spec import SourceRun, SourceSpec, TableResult

__all__ = ["SOURCES", "SourceRun", "SourceSpec", "TableResult", "run_days", "run_source"]


# rows per batch and table: {batch: {table: rows}}
Counts = dict[str, dict[str, int]]


def make_pipeline(spec: SourceSpec, settings: Settings) -> dlt.Pipeline:
    destination = dlt.destinations.postgres(
        credentials=oltp_dsn(settings), replace_strategy="insert-from-staging"
    )
    return dlt.pipeline(
        pipeline_name=f"gourmand_{spec.name}",
        destination=destination,
        dataset_name=spec.dataset,
        pipelines_dir=str(settings.dlt_dir),
    )


def ensure_rejects_table(spec: SourceSpec, settings: Settings) -> None:
    """Create an empty `_rejects` until the first reject arrives.

    dlt creates a table only when rows arrive, but queries and dbt sources rely on the table
    being there. The columns are exactly those dlt would create, so when it first loads rejects
    it finds the table complete and alters nothing.
    """
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            f'CREATE TABLE IF NOT EXISTS {spec.dataset}."{REJECTS_TABLE}" ('
            "resource varchar NOT NULL, batch varchar NOT NULL, reason varchar NOT NULL, "
            "payload varchar, context varchar, extracted_at timestamp with time zone NOT NULL, "
            "_dlt_load_id varchar NOT NULL, _dlt_id varchar NOT NULL UNIQUE)"
        )
    conn.close()


def _ensure_indexes(spec: SourceSpec, settings: Settings) -> None:
    """The spec's indexes on its raw tables (dlt creates none), once the tables exist."""
    if not spec.indexes:
        return
    with connect(settings) as conn, conn.cursor() as cur:
        for table, indexes in spec.indexes.items():
            cur.execute("SELECT to_regclass(%s)", (f'{spec.dataset}."{table}"',))
            if cur.fetchone()[0] is None:
                continue
            for columns in indexes:
                name = f"{table}__{'_'.join(columns)}"
                quoted = ", ".join(f'"{c}"' for c in columns)
                cur.execute(
                    f'CREATE INDEX IF NOT EXISTS "{name}" ON {spec.dataset}."{table}" ({quoted})'
                )
    conn.close()


def _prune_superseded(
    spec: SourceSpec, settings: Settings, batch: str, load_ids: list[str], resources: Sequence[str]
) -> None:
    """Drop `_rejects` rows of this batch written by an earlier load of it.

    delete-insert replaces only keys present in the new load, so a re-run that rejects nothing
    would otherwise keep the rejects of the first run.
    """
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (f"{spec.dataset}.{REJECTS_TABLE}",))
        if cur.fetchone()[0] is not None:
            cur.execute(
                f'DELETE FROM {spec.dataset}."{REJECTS_TABLE}" '
                "WHERE batch = %s AND resource = ANY(%s) AND NOT (_dlt_load_id = ANY(%s))",
                (batch, list(resources), load_ids),
            )
    conn.close()


def export_to_lake(
    spec: SourceSpec,
    settings: Settings,
    batch: str,
    load_ids: list[str],
    tables: Sequence[str],
) -> dict[str, list[str]]:
    """Mirror what this load wrote into the lake partitions of this batch."""
    import adbc_driver_postgresql.dbapi as adbc

    lake = lake_mod.open_lake(settings)
    written: dict[str, list[str]] = {}
    ds = spec.dataset
    with adbc.connect(oltp_dsn(settings)) as conn:
        cur = conn.cursor()
        for table in tables:
            if table in (REJECTS_TABLE, LOADS_TABLE):
                # all rows of the batch, whichever resources this run selected
                column = "batch"
                sql = f'SELECT * FROM {ds}."{table}" WHERE batch = $1'
                cur.execute(sql, (batch,))
            elif spec.daily:
                # a load of several days: this day's rows of it
                column = spec.partition_column or ""
                sql = (f'SELECT * FROM {ds}."{table}" '
                       f'WHERE _dlt_load_id = ANY($1) AND "{column}" = $2::date')  # fmt: skip
                cur.execute(sql, (list(load_ids), batch))
            else:
                column = spec.partition_column or ""
                sql = f'SELECT * FROM {ds}."{table}" WHERE _dlt_load_id = ANY($1)'
                cur.execute(sql, (list(load_ids),))
            data = cur.fetch_arrow_table()
            folder = f"raw/{spec.name}/{table}"
            if column:
                folder = f"{folder}/{column}={batch}"
            written[table] = lake_mod.write_partition(lake, folder, data)
        cur.close()
    return written


def _row_totals(settings: Settings, spec: SourceSpec, batches: Sequence[str]) -> Counts:
    """Rows per batch and table of a dataset (none before its first load): a daily source's
    tables counted per day of `batches`, any other's whole (its one batch)."""
    totals: Counts = {batch: {} for batch in batches}
    dataset = spec.dataset
    with connect(settings, read_only=True) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_name NOT LIKE '\\_dlt%%'",
            (dataset,),
        )
        for (table,) in cur.fetchall():
            if not spec.daily:
                cur.execute(f'SELECT count(*) FROM {dataset}."{table}"')
                totals[batches[0]][table] = cur.fetchone()[0]
                continue
            ledger = table in (REJECTS_TABLE, LOADS_TABLE)
            by = "batch" if ledger else spec.partition_column
            cur.execute(
                f'SELECT "{by}"::text, count(*) FROM {dataset}."{table}" '
                f'WHERE "{by}" = ANY(%s{"" if ledger else "::date[]"}) GROUP BY 1',
                (list(batches),),
            )
            for batch, n in cur.fetchall():
                totals[batch][table] = n
    conn.close()
    return totals


def _written_by_batch(
    settings: Settings, spec: SourceSpec, batches: Sequence[str], load_ids: list[str],
    written: dict[str, int],
) -> Counts:  # fmt: skip
    """Rows this load wrote, per batch and table: dlt's own counts for a one-batch load, else
    the rows carrying its load ids, per day."""
    if len(batches) == 1:
        return {batches[0]: dict(written)}
    counts: Counts = {batch: {} for batch in batches}
    with connect(settings, read_only=True) as conn, conn.cursor() as cur:
        for table in written:
            by = "batch" if table in (REJECTS_TABLE, LOADS_TABLE) else spec.partition_column
            cur.execute(
                f'SELECT "{by}"::text, count(*) FROM {spec.dataset}."{table}" '
                "WHERE _dlt_load_id = ANY(%s) GROUP BY 1",
                (load_ids,),
            )
            for batch, n in cur.fetchall():
                if batch in counts:
                    counts[batch][table] = n
    conn.close()
    return counts


def split_merge(before: int, written: int, after: int) -> tuple[int, int]:
    """(inserted, updated) of a delete-insert load that wrote `written` rows into a table that
    held `before` rows and now holds `after`: it removed before + written - after old rows, and
    each written row that took an old row's place is an update."""
    removed = max(before + written - after, 0)
    updated = min(removed, written)
    return written - updated, updated


def _tables_written(info: LoadInfo, pipeline: dlt.Pipeline) -> dict[str, int]:
    trace = pipeline.last_trace
    counts: dict[str, int] = {}
    if trace and trace.last_normalize_info:
        for table, rows in trace.last_normalize_info.row_counts.items():
            if not table.startswith("_dlt"):
                counts[table] = counts.get(table, 0) + rows
    return counts


# Survey days loaded together as one dlt load: every dlt run costs about a second of its own
# (configuration, normalize, load jobs) whatever its size, and a day's survey is small; a month
# bounds what one load holds in memory.
DAYS_PER_LOAD = 31


def run_source(
    name: str,
    *,
    day: date | None = None,
    resources: Sequence[str] | None = None,
    settings: Settings,
    to_lake: bool = True,
    on_progress: Callable[[str], None] | None = None,
    options: Mapping[str, Any] | None = None,
) -> SourceRun:
    """Load one batch of one source into Postgres (and the lake); return what landed.

    `options` are the source's own (Socrata's: extract/sources/socrata/runner.py)."""
    spec = SOURCES[name]
    say = on_progress or (lambda _msg: None)
    # one load of a source at a time per home: its dlt pipeline folders, state and raw schema
    # are shared by every run, and two loads at once broke them
    with home_lock(settings, source_lock(name), f"a load of {name}", say):
        resolved = spec.resolve_options(settings, options)
        batch = spec.batch_of(day, resolved)
        if spec.load_instead is not None:
            instead = spec.load_instead(spec, settings, resolved, batch, to_lake, say)
            if instead is not None:
                return instead
        days = [day] if day is not None else []
        (run,) = _load(spec, settings, days, [batch], resources, to_lake, say, resolved)
        return run


def run_days(
    name: str,
    days: Sequence[date],
    *,
    resources: Sequence[str] | None = None,
    settings: Settings,
    to_lake: bool = True,
    on_progress: Callable[[str], None] | None = None,
) -> list[SourceRun]:
    """Load the days of a daily source (Yelp survey days), up to DAYS_PER_LOAD of them per dlt
    load; one SourceRun per day, as if each day had loaded alone."""
    spec = SOURCES[name]
    if not spec.daily:
        raise ValueError(f"{name} is not loaded by day")
    say = on_progress or (lambda _msg: None)
    ordered = sorted(set(days))
    runs: list[SourceRun] = []
    with home_lock(settings, source_lock(name), f"a load of {name}", say):
        for first in range(0, len(ordered), DAYS_PER_LOAD):
            chunk = ordered[first : first + DAYS_PER_LOAD]
            batches = [spec.batch_of(d, {}) for d in chunk]
            options = spec.resolve_options(settings, None)
            runs += _load(spec, settings, chunk, batches, resources, to_lake, say, options)
    return runs


def _load(
    spec: SourceSpec,
    settings: Settings,
    days: list[date],
    batches: list[str],
    resources: Sequence[str] | None,
    to_lake: bool,
    say: Callable[[str], None],
    options: Mapping[str, Any],
) -> list[SourceRun]:
    """One dlt load of one or more batches (several only for a daily source's days)."""
    name = spec.name
    selected = tuple(resources or spec.resources)
    started = time.perf_counter()
    label = batches[0] if len(batches) == 1 else f"{batches[0]}..{batches[-1]}"

    pipeline = make_pipeline(spec, settings)
    # A package left by a crashed run must not be loaded on top of this batch.
    if pipeline.has_pending_data:
        with warnings.catch_warnings():
            # deprecated for abort_packages(), which records an aborted load; we want no trace
            warnings.simplefilter("ignore")
            pipeline.drop_pending_packages()
    source = spec.build(settings, days, options).with_resources(*selected)
    before = {} if spec.counts_updates else _row_totals(settings, spec, batches)
    say(f"{name} {label}: extracting {', '.join(selected)}")
    for key, value in spec.dlt_config.items():
        dlt.config[key] = value
    if spec.loader_file_format:
        info = pipeline.run(source, loader_file_format=spec.loader_file_format)  # type: ignore[arg-type]
    else:
        info = pipeline.run(source)
    info.raise_on_failed_jobs()
    load_seconds = time.perf_counter() - started
    load_ids = list(info.loads_ids)
    written = _written_by_batch(settings, spec, batches, load_ids, _tables_written(info, pipeline))
    ensure_rejects_table(spec, settings)
    _ensure_indexes(spec, settings)
    for batch in batches:
        _prune_superseded(spec, settings, batch, load_ids, selected)

    after = {} if spec.counts_updates else _row_totals(settings, spec, batches)

    lake_files: dict[str, dict[str, list[str]]] = {}
    if to_lake:
        say(f"{name} {label}: exporting to the lake")
        for batch in batches:
            lake_files[batch] = export_to_lake(
                spec, settings, batch, load_ids, list(written[batch])
            )
    # one load's time, shared evenly among its batches (their sum is the load's)
    seconds = (time.perf_counter() - started) / len(batches)
    load_share = load_seconds / len(batches)

    runs = []
    for batch in batches:
        with connect(settings, read_only=True) as conn, conn.cursor() as cur:
            cur.execute(
                f'SELECT resource, received, loaded, rejected FROM {spec.dataset}."{LOADS_TABLE}" '
                "WHERE batch = %s AND resource = ANY(%s) ORDER BY resource",
                (batch, list(selected)),
            )
            ledger = [
                dict(zip(("resource", "received", "loaded", "rejected"), r, strict=True))
                for r in cur.fetchall()
            ]
        conn.close()
        was, now = before.get(batch, {}), after.get(batch, {})
        tables = [
            TableResult(
                spec.dataset,
                table,
                rows,
                load_share,
                lake_files.get(batch, {}).get(table, []),
                *split_merge(was.get(table, 0), rows, now.get(table, rows)),
            )
            for table, rows in sorted(written[batch].items())
        ]
        runs.append(SourceRun(name, batch, seconds, tables, ledger, load_ids))
    if spec.after_load is not None:
        for run in runs:
            spec.after_load(settings, options, run, say)
    return runs
