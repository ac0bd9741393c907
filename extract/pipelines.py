"""Running a source: dlt into the OLTP Postgres, then the same rows into the lake.

`run_source()` is the one code path behind the CLI, the demo and the Dagster assets. Each call
loads one batch (a Yelp survey day, the Census vintage, the states page) as one dlt load package:
nothing is loaded when extraction fails, and re-running a batch replaces it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo

from extract.lake import files as lake_mod
from extract.runtime.postgres import connect, oltp_dsn
from extract.settings import Settings, get_settings
from extract.sources import census, states, yelp
from extract.sources.accounting import LOADS_TABLE, REJECTS_TABLE
from extract.sources.socrata import source as socrata


@dataclass(frozen=True)
class SourceSpec:
    """How one source is named, batched and laid out in Postgres and the lake."""

    name: str
    dataset: str
    resources: tuple[str, ...]
    daily: bool
    partition_column: str | None  # lake partition folder `<column>=<batch>`, None: whole table
    # indexes the models downstream need on the raw tables: {table: (columns, ...)}
    indexes: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)


SOURCES: dict[str, SourceSpec] = {
    "states": SourceSpec("states", states.DATASET, ("state_abbreviations",), False, None),
    "census": SourceSpec("census", census.DATASET, ("county_population",), False, "vintage"),
    "yelp": SourceSpec(
        "yelp",
        yelp.DATASET,
        ("businesses", "businesses__categories", "businesses__transactions", "reviews", "events"),
        True,
        "surveyed_on",
        yelp.INDEXES,
    ),
    "socrata": SourceSpec("socrata", socrata.DATASET, (socrata.RESOURCE,), False, "batch"),
}


# rows per batch and table: {batch: {table: rows}}
Counts = dict[str, dict[str, int]]


@dataclass
class TableResult:
    dataset: str
    table: str
    rows: int
    seconds: float
    lake_files: list[str] = field(default_factory=list)
    # Every resource merges (delete-insert): of the rows written, `updated` replaced rows that
    # were there before the load (a re-run of a day) and `inserted` are new.
    inserted: int = 0
    updated: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class SourceRun:
    source: str
    batch: str
    seconds: float
    tables: list[TableResult]
    ledger: list[dict[str, Any]]  # the `_loads` rows of this batch: received/loaded/rejected
    load_ids: list[str]
    load: dict[str, Any] = field(default_factory=dict)  # Socrata's load metadata row


def source_urls(settings: Settings) -> dict[str, str]:
    """Base URLs of the three services: the settings' own, or the home's sandbox."""
    if settings.sources_mode == "live" or settings.yelp_base_url:
        missing = [
            n
            for n, v in (
                ("GOURMAND_YELP_BASE_URL", settings.yelp_base_url),
                ("GOURMAND_CENSUS_BASE_URL", settings.census_base_url),
                ("GOURMAND_STATES_URL", settings.states_url),
            )
            if not v
        ]
        if missing:
            raise ValueError(f"set {', '.join(missing)} (or use GOURMAND_SOURCES=sandbox)")
        return {
            "yelp": settings.yelp_base_url or "",
            "census": settings.census_base_url or "",
            "states": settings.states_url or "",
        }
    from extract.sandbox.process import sandbox_url

    base = sandbox_url(settings)
    return {"yelp": f"{base}/v3", "census": f"{base}/data", "states": f"{base}/abbreviations.htm"}


def yelp_locations(settings: Settings) -> list[str]:
    """Where to search: GOURMAND_YELP_LOCATIONS, else the Census counties already loaded."""
    if settings.yelp_locations:
        names = list(settings.yelp_locations)
    else:
        with connect(settings, read_only=True) as conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('raw_census.county_population')")
            if cur.fetchone()[0] is None:
                raise RuntimeError(
                    "Yelp searches the Census counties, and raw_census.county_population is not "
                    "loaded yet: run the census source first or set GOURMAND_YELP_LOCATIONS"
                )
            cur.execute("SELECT DISTINCT name FROM raw_census.county_population ORDER BY name")
            names = [r[0] for r in cur.fetchall()]
        conn.close()
    if settings.yelp_max_locations:
        names = names[: settings.yelp_max_locations]
    if not names:
        raise RuntimeError("no Yelp locations: the Census table is empty")
    return names


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


def socrata_options(settings: Settings, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """mode (full | update), years (full mode; default GOURMAND_SOCRATA_YEARS), since (update
    mode; default the loaded watermark), reset (reload, then drop what the reload did not bring)."""
    from extract.runtime.inputs import parse_timestamp, soql_timestamp
    from extract.sources.socrata import loads as socrata_loads

    opts = dict(options or {})
    mode = opts.get("mode", "full")
    if mode == "update":
        # every year tracked: the configured ones and any loaded in full before
        years = sorted(set(settings.socrata_years) | socrata_loads.loaded_years(settings))
    else:
        years = [int(y) for y in opts.get("years") or settings.socrata_years]
    since = None
    if opts.get("since"):
        since = soql_timestamp(parse_timestamp(str(opts["since"])))
    elif mode == "update":
        recorded = socrata_loads.watermark(settings)
        if recorded:
            since = soql_timestamp(parse_timestamp(recorded, "the recorded watermark"))
    return {
        "mode": mode,
        "years": years,
        "since": since,
        "reset": bool(opts.get("reset")),
        "stats": opts.get("stats") or socrata.LoadStats(),
    }


def socrata_url(settings: Settings) -> str:
    if settings.socrata_base_url:
        return settings.socrata_base_url
    if settings.sources_mode == "live":
        raise ValueError("set GOURMAND_SOCRATA_BASE_URL (or use GOURMAND_SOURCES=sandbox)")
    from extract.sandbox.process import sandbox_url

    return sandbox_url(settings)


def build_source(
    spec: SourceSpec,
    settings: Settings,
    day: date | Sequence[date] | None,
    options: Mapping[str, Any] | None = None,
) -> Any:
    if spec.name == "socrata":
        from extract.sources.socrata import loads as socrata_loads

        opts = socrata_options(settings, options)
        return socrata.socrata_source(
            settings,
            socrata_url(settings),
            mode=opts["mode"],
            years=opts["years"],
            since=opts["since"],
            stored_updates=socrata_loads.stored_updates(settings),
            stats=opts["stats"],
            # a reset merges into the table it replaces, then drops what it did not reload
            into_empty=not opts["reset"] and socrata_loads.prepare_bulk(settings),
        )
    urls = source_urls(settings)
    if spec.name == "states":
        return states.states_source(settings, urls["states"])
    if spec.name == "census":
        return census.census_source(settings, urls["census"], settings.census_api_key)
    if day is None:
        raise ValueError("the yelp source needs a survey day")
    days = [day] if isinstance(day, date) else list(day)
    live = settings.sources_mode == "live"
    today = datetime.now(UTC).date()
    if live and days != [today]:
        other = next((d for d in days if d != today), days[0])
        raise ValueError(f"the live Yelp API only describes today; cannot survey {other}")
    return yelp.yelp_source(
        settings,
        urls["yelp"],
        settings.yelp_api_key,
        days,
        yelp_locations(settings),
        send_day=not live,
    )


def batch_of(spec: SourceSpec, day: date | None, options: Mapping[str, Any] | None = None) -> str:
    if spec.name == "socrata":
        assert options is not None, "socrata batches are named after their resolved options"
        return socrata.batch_name(options["mode"], options["years"], options["since"])
    if spec.daily:
        assert day is not None
        return day.isoformat()
    return census.VINTAGE if spec.name == "census" else states.BATCH


def _ensure_rejects_table(spec: SourceSpec, settings: Settings) -> None:
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


def _export_to_lake(
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
    settings: Settings | None = None,
    to_lake: bool = True,
    on_progress: Callable[[str], None] | None = None,
    options: Mapping[str, Any] | None = None,
) -> SourceRun:
    """Load one batch of one source into Postgres (and the lake); return what landed.

    `options` are the Socrata source's (see `socrata_options`)."""
    settings = settings or get_settings()
    spec = SOURCES[name]
    if name == "socrata":
        options = socrata_options(settings, options)
    batch = batch_of(spec, day, options)
    say = on_progress or (lambda _msg: None)
    started = time.perf_counter()
    if name == "socrata" and options is not None and options["mode"] == "update":
        from extract.sources.socrata import upsert as socrata_upsert

        if socrata_upsert.can_upsert(settings):
            return _socrata_update(spec, settings, options, batch, to_lake, say, started)
    days = [day] if day is not None else []
    (run,) = _load(spec, settings, days, [batch], resources, to_lake, say, options)
    return run


def run_days(
    name: str,
    days: Sequence[date],
    *,
    resources: Sequence[str] | None = None,
    settings: Settings | None = None,
    to_lake: bool = True,
    on_progress: Callable[[str], None] | None = None,
) -> list[SourceRun]:
    """Load the days of a daily source (Yelp survey days), up to DAYS_PER_LOAD of them per dlt
    load; one SourceRun per day, as if each day had loaded alone."""
    settings = settings or get_settings()
    spec = SOURCES[name]
    if not spec.daily:
        raise ValueError(f"{name} is not loaded by day")
    say = on_progress or (lambda _msg: None)
    ordered = sorted(set(days))
    runs: list[SourceRun] = []
    for first in range(0, len(ordered), DAYS_PER_LOAD):
        chunk = ordered[first : first + DAYS_PER_LOAD]
        batches = [batch_of(spec, d) for d in chunk]
        runs += _load(spec, settings, chunk, batches, resources, to_lake, say, None)
    return runs


def _load(
    spec: SourceSpec,
    settings: Settings,
    days: list[date],
    batches: list[str],
    resources: Sequence[str] | None,
    to_lake: bool,
    say: Callable[[str], None],
    options: Mapping[str, Any] | None,
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
    source = build_source(spec, settings, days or None, options).with_resources(*selected)
    # Socrata counts its own updates (it looks each page's keys up anyway): no table scans
    before = {} if spec.name == "socrata" else _row_totals(settings, spec, batches)
    say(f"{name} {label}: extracting {', '.join(selected)}")
    # Arrow pages go to Postgres as Parquet files (ADBC ingest), not as INSERT statements
    if spec.name == "socrata":
        # Arrow pages carry no _dlt_load_id unless asked: the lake export selects by it
        dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
        # Memory stays flat with volume: files of at most 250k rows, a few loaded at a time
        # (the ADBC loader reads a whole file into memory)
        dlt.config["data_writer.file_max_items"] = socrata.FILE_ROWS
        dlt.config["load.workers"] = socrata.LOAD_WORKERS
        dlt.config["data_writer.buffer_max_items"] = 1  # an Arrow page is one item: write it
        info = pipeline.run(source, loader_file_format="parquet")
    else:
        info = pipeline.run(source)
    info.raise_on_failed_jobs()
    load_seconds = time.perf_counter() - started
    load_ids = list(info.loads_ids)
    written = _written_by_batch(settings, spec, batches, load_ids, _tables_written(info, pipeline))
    _ensure_rejects_table(spec, settings)
    _ensure_indexes(spec, settings)
    for batch in batches:
        _prune_superseded(spec, settings, batch, load_ids, selected)

    after = {} if spec.name == "socrata" else _row_totals(settings, spec, batches)

    lake_files: dict[str, dict[str, list[str]]] = {}
    if to_lake:
        say(f"{name} {label}: exporting to the lake")
        for batch in batches:
            lake_files[batch] = _export_to_lake(
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
    if name == "socrata" and options is not None:
        (run,) = runs
        _after_socrata_load(settings, options, run, load_ids, say)
    return runs


def _after_socrata_load(
    settings: Settings,
    options: Mapping[str, Any],
    run: SourceRun,
    load_ids: list[str],
    say: Callable[[str], None],
) -> None:
    """A full 311 load's reset, its own insert/update split and its load metadata row."""
    from extract.sources.socrata import loads as socrata_loads

    if options["reset"] and options["mode"] == "full":
        removed = socrata_loads.drop_unreloaded(settings, load_ids)
        say(f"socrata {run.batch}: reset, {removed:,} requests the reload did not bring deleted")
    stats = options["stats"]
    main = next((t for t in run.tables if t.table == socrata.RESOURCE), None)
    if main is not None:
        main.updated = stats.existing
        main.inserted = main.rows - stats.existing
    run.load = socrata_loads.after_load(
        settings,
        dedupe=options["mode"] == "full",
        mode=options["mode"],
        years=options["years"] if options["mode"] == "full" else [],
        since=options["since"],
        newest=stats.newest,
        inserted=main.inserted if main else 0,
        updated=main.updated if main else 0,
        rejected=sum(e["rejected"] for e in run.ledger),
        seconds=run.seconds,
    )


def _socrata_update(
    spec: SourceSpec,
    settings: Settings,
    options: Mapping[str, Any],
    batch: str,
    to_lake: bool,
    say: Callable[[str], None],
    started: float,
) -> SourceRun:
    """A 311 update run: the changed requests upserted through a temp table (see
    extract/sources/socrata/upsert.py for why not through dlt), then the same lake copy, load
    metadata, ANALYZE and VACUUM as a full load."""
    from extract.sources.accounting import BatchLedger
    from extract.sources.socrata import loads as socrata_loads
    from extract.sources.socrata import upsert as socrata_upsert

    say(f"socrata {batch}: upserting the requests changed since {options['since']}")
    _ensure_rejects_table(spec, settings)
    ledger = BatchLedger(socrata.RESOURCE, batch)
    stats = options["stats"]
    pages = socrata.good_pages(
        settings, socrata_url(settings), ledger, mode="update", years=options["years"],
        since=options["since"], stats=stats,  # older copies: caught by the upsert itself
    )  # fmt: skip
    load_id = socrata_upsert.load_id()
    inserted, updated = socrata_upsert.upsert(settings, pages, ledger, load_id)
    load_seconds = time.perf_counter() - started
    tables = [
        TableResult(spec.dataset, socrata.RESOURCE, inserted + updated, load_seconds,
                    inserted=inserted, updated=updated),
        TableResult(spec.dataset, LOADS_TABLE, 1, load_seconds),
    ]  # fmt: skip
    if ledger.rejected:
        tables.append(TableResult(spec.dataset, REJECTS_TABLE, ledger.rejected, load_seconds))
    if to_lake:
        say(f"socrata {batch}: exporting to the lake")
        files = _export_to_lake(spec, settings, batch, [load_id], [t.table for t in tables])
        for t in tables:
            t.lake_files = files.get(t.table, [])
    seconds = time.perf_counter() - started
    summary = ledger.summary_row()
    run = SourceRun(
        "socrata", batch, seconds, tables,
        [{k: summary[k] for k in ("resource", "received", "loaded", "rejected")}], [load_id],
    )  # fmt: skip
    run.load = socrata_loads.after_load(
        settings, dedupe=False, mode="update", years=[], since=options["since"],
        newest=stats.newest, inserted=inserted, updated=updated, rejected=ledger.rejected,
        seconds=seconds,
    )  # fmt: skip
    return run
