"""LA 311's hooks for the runner (extract/pipelines.py): its options, its batch names, the
upsert path of update loads, what follows a load (reset, metadata row) and its dlt settings. The
registry (extract/sources/registry.py) puts them in the source's spec with its dlt source, and
hands them what they need of the settings as plain values (the default years, the pages of an
update); `settings` here is the home whose Postgres they read and write."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from extract.settings import Settings
from extract.sources.accounting import LOADS_TABLE, REJECTS_TABLE, BatchLedger
from extract.sources.socrata import loads as socrata_loads
from extract.sources.socrata import pages as socrata
from extract.sources.spec import Options, Say, SourceRun, SourceSpec, TableResult

if TYPE_CHECKING:
    import pyarrow as pa

# the good pages of an update load (socrata.good_pages, configured by the registry):
# (ledger, mode, years, since, stats) -> Arrow pages
UpdatePages = Callable[
    [BatchLedger, str, Sequence[int], "str | None", socrata.LoadStats], Iterator["pa.Table"]
]


def resolve_options(
    settings: Settings, options: Options | None, *, default_years: Sequence[int]
) -> dict[str, Any]:
    """mode (full | update), years (full mode; default `default_years`, GOURMAND_SOCRATA_YEARS),
    since (update mode; default the loaded watermark), reset (reload, then drop what the reload
    did not bring)."""
    from extract.runtime.inputs import parse_timestamp, soql_timestamp

    opts = dict(options or {})
    mode = opts.get("mode", "full")
    if mode == "update":
        # every year tracked: the configured ones and any loaded in full before
        years = sorted(set(default_years) | socrata_loads.loaded_years(settings))
    else:
        years = [int(y) for y in opts.get("years") or default_years]
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


def batch_for(options: Options) -> str:
    return socrata.batch_name(options["mode"], options["years"], options["since"])


def update(
    spec: SourceSpec,
    settings: Settings,
    options: Options,
    batch: str,
    to_lake: bool,
    say: Say,
    *,
    pages: UpdatePages,
) -> SourceRun | None:
    """An update run: the changed requests upserted through a temp table (see upsert.py for why
    not through dlt), then the same lake copy, load metadata, ANALYZE and VACUUM as a full
    load. None (load through dlt) for a full load, or when the table cannot take an upsert."""
    from extract.pipelines import ensure_rejects_table, export_to_lake
    from extract.sources.socrata import upsert as socrata_upsert

    if options["mode"] != "update" or not socrata_upsert.can_upsert(settings):
        return None
    started = time.perf_counter()
    say(f"socrata {batch}: upserting the requests changed since {options['since']}")
    ensure_rejects_table(spec, settings)
    ledger = BatchLedger(socrata.RESOURCE, batch)
    stats = options["stats"]
    # older copies: caught by the upsert itself (no stored_updates lookup per page)
    changed = pages(ledger, "update", options["years"], options["since"], stats)
    load_id = socrata_upsert.load_id()
    inserted, updated = socrata_upsert.upsert(settings, changed, ledger, load_id)
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
        files = export_to_lake(spec, settings, batch, [load_id], [t.table for t in tables])
        for t in tables:
            t.lake_files = files.get(t.table, [])
    seconds = time.perf_counter() - started
    summary = ledger.summary_row()
    run = SourceRun(
        spec.name, batch, seconds, tables,
        [{k: summary[k] for k in ("resource", "received", "loaded", "rejected")}], [load_id],
    )  # fmt: skip
    run.load = socrata_loads.after_load(
        settings, dedupe=False, mode="update", years=[], since=options["since"],
        newest=stats.newest, inserted=inserted, updated=updated, rejected=ledger.rejected,
        seconds=seconds, load_ids=[load_id],
    )  # fmt: skip
    return run


def after_load(settings: Settings, options: Options, run: SourceRun, say: Say) -> None:
    """A full load's reset, its own insert/update split and its load metadata row."""
    if options["reset"] and options["mode"] == "full":
        removed = socrata_loads.drop_unreloaded(settings, run.load_ids)
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
        load_ids=run.load_ids,
    )


# dlt's settings for a full load
DLT_CONFIG = {
    # Arrow pages carry no _dlt_load_id unless asked: the lake export selects by it
    "normalize.parquet_normalizer.add_dlt_load_id": True,
    # Memory stays flat with volume: files of at most 250k rows, a few loaded at a time
    # (the ADBC loader reads a whole file into memory)
    "data_writer.file_max_items": socrata.FILE_ROWS,
    "load.workers": socrata.LOAD_WORKERS,
    "data_writer.buffer_max_items": 1,  # an Arrow page is one item: write it
}
