"""Extraction assets: one multi-asset per source, one asset per table it loads, keyed
`[dataset, table]` (the specs come from the source registry: `lib/translators.py`).

The work is `extract.pipelines.run_source`, the same code path as the CLI, so Postgres, the lake
and the summary figures are identical whichever front door started the load.
"""

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Backoff,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    multi_asset,
)

from dagster_project.lib.partitions import daily_partitions, single_run
from dagster_project.lib.translators import extraction_specs, raw_table_key
from extract.pipelines import SOURCES, SourceRun, run_days, run_source
from extract.settings import Settings


def extract_retry(settings: Settings) -> RetryPolicy:
    """A source that is down longer than the HTTP client's own retries fails the step; Dagster
    runs it again later (each batch is replaced on a re-run, so a retry cannot double anything)."""
    return RetryPolicy(
        max_retries=settings.step_retries,
        delay=settings.step_retry_delay,
        backoff=Backoff.EXPONENTIAL,
    )


def _results(context: AssetExecutionContext, runs: list[SourceRun]) -> Iterator[MaterializeResult]:
    """One MaterializeResult per selected asset, summing the figures of every batch."""
    rows: dict[Any, int] = defaultdict(int)
    inserted: dict[Any, int] = defaultdict(int)
    updated: dict[Any, int] = defaultdict(int)
    seconds: dict[Any, float] = defaultdict(float)
    tables: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    ledger: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    lake_files: dict[Any, int] = defaultdict(int)
    for run in runs:
        touched = set()
        for table in run.tables:
            if table.table.startswith("_"):
                continue  # _rejects/_loads figures come from the ledger below
            key = raw_table_key(table.dataset, table.table)
            touched.add(key)
            if table.table == key.path[-1]:
                # the root table; nested ones are listed in `tables`
                rows[key] += table.rows
                inserted[key] += table.inserted
                updated[key] += table.updated
            tables[key][table.table] += table.rows
            lake_files[key] += len(table.lake_files)
        for key in touched:
            # tables of one source load together: each is charged the load's whole time
            seconds[key] += run.seconds
        for entry in run.ledger:
            for column in ("received", "loaded", "rejected"):
                ledger[entry["resource"]][column] += entry[column]
    for key in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string()):
        resource = key.path[-1]
        secs = seconds.get(key, 0.0)
        figures = ledger.get(resource, {})
        yield MaterializeResult(
            asset_key=key,
            metadata={
                "rows": MetadataValue.int(rows.get(key, 0)),
                "seconds": MetadataValue.float(round(secs, 3)),
                "rows_per_second": MetadataValue.float(
                    round(rows.get(key, 0) / secs, 1) if secs else 0.0
                ),
                "inserted": MetadataValue.int(inserted.get(key, 0)),
                "updated": MetadataValue.int(updated.get(key, 0)),
                "received": MetadataValue.int(figures.get("received", 0)),
                "loaded": MetadataValue.int(figures.get("loaded", 0)),
                "rejected": MetadataValue.int(figures.get("rejected", 0)),
                "tables": MetadataValue.json(dict(tables.get(key, {}))),
                "lake_files": MetadataValue.int(lake_files.get(key, 0)),
                "batches": MetadataValue.text(", ".join(r.batch for r in runs)),
            },
        )


def _selected_resources(context: AssetExecutionContext) -> list[str] | None:
    """The selected resources (None: all of them; the load ledger alone selects them all)."""
    chosen = [key.path[-1] for key in context.selected_asset_keys]
    resources = [name for name in chosen if not name.startswith("_")]
    return resources or None


def _extract_assets(
    settings: Settings, source: str, *, ledger: bool = False, **options: Any
) -> Any:
    """A subsettable multi-asset over one source's tables (and, with `ledger`, its load
    ledger), retried by Dagster when the source stays down; the function's docstring describes
    its tables."""

    def decorate(fn: Any) -> Any:
        return multi_asset(
            name=f"raw_{source}",
            specs=extraction_specs(SOURCES[source], fn.__doc__ or "", ledger=ledger),
            can_subset=True,
            retry_policy=extract_retry(settings),
            **options,
        )(fn)

    return decorate


def extract_assets(settings: Settings) -> list[AssetsDefinition]:
    """The states page, the Census populations and the daily Yelp survey, loaded with
    `settings`."""

    def whole(source: str, description: str) -> AssetsDefinition:
        """A source loaded whole in each run (no partitions): the states page, the Census."""

        def load(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
            run = run_source(
                source,
                resources=_selected_resources(context),
                on_progress=context.log.info,
                settings=settings,
            )
            yield from _results(context, [run])

        load.__doc__ = description  # the tables' description (extraction_specs reads it)
        return _extract_assets(settings, source)(load)

    raw_states_assets = whole(
        "states", "The state and territory abbreviations page, scraped table by table."
    )
    raw_census_assets = whole(
        "census", "County population estimates (vintage 2019), every DATE_CODE."
    )

    @_extract_assets(
        settings,
        "yelp",
        ledger=True,
        partitions_def=daily_partitions(settings),
        backfill_policy=single_run,
    )
    def raw_yelp_assets(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        """One Yelp survey per partition day; a range of days loads together in this one run."""
        days = [date.fromisoformat(k) for k in context.partition_keys]
        runs = run_days(
            "yelp",
            days,
            resources=_selected_resources(context),
            on_progress=context.log.info,
            settings=settings,
        )
        yield from _results(context, runs)

    return [raw_states_assets, raw_census_assets, raw_yelp_assets]
