"""Extraction assets: one dlt-backed multi-asset per source, keyed `[dataset, table]`.

The dlt source objects here only describe the resources (dagster-dlt turns them into specs); the
work is `extract.pipelines.run_source`, the same code path as the CLI, so Postgres, the lake and
the summary figures are identical whichever front door started the load.
"""

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from typing import Any

import dlt
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    AssetSpec,
    Backoff,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    multi_asset,
)
from dagster_dlt import build_dlt_asset_specs

from dagster_project.lib.partitions import daily_partitions, single_run
from dagster_project.lib.translators import GourmandDltTranslator, raw_table_key
from extract.pipelines import SOURCES, SourceRun, run_days, run_source
from extract.settings import get_settings
from extract.sources import census, states, yelp
from extract.sources.accounting import LOADS_TABLE

_settings = get_settings()

# A source that is down longer than the HTTP client's own retries fails the step; Dagster runs
# it again later (each batch is replaced on a re-run, so a retry cannot double anything).
EXTRACT_RETRY = RetryPolicy(
    max_retries=_settings.step_retries,
    delay=_settings.step_retry_delay,
    backoff=Backoff.EXPONENTIAL,
)


def _describing_pipeline(name: str) -> dlt.Pipeline:
    """A pipeline object for dagster-dlt's spec building; it never runs, so no credentials."""
    spec = SOURCES[name]
    return dlt.pipeline(
        pipeline_name=f"gourmand_{name}_spec",
        destination="postgres",
        dataset_name=spec.dataset,
        pipelines_dir=str(_settings.dlt_dir / "specs"),
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


def _ledger_spec(source: str) -> AssetSpec:
    """A source's load ledger (`_loads`), written in every load of the source: the OLTP model
    folds the batches whose load ids changed, so it is an upstream of its own."""
    dataset = SOURCES[source].dataset
    return AssetSpec(
        raw_table_key(dataset, LOADS_TABLE),
        group_name="extract",
        kinds={"dlt", "postgres"},
        description=f"{dataset}.{LOADS_TABLE}: one row per resource and batch (received, loaded, "
        "rejected), replaced with a new load id whenever the batch loads again.",
    )


def _extract_assets(source: Any, name: str, *, ledger: bool = False, **options: Any) -> Any:
    """dagster-dlt's `dlt_assets`, plus the retry policy (which that decorator does not take)
    and the source's load ledger: one subsettable multi-asset over the source's resources."""
    short = name.removeprefix("raw_")
    specs = build_dlt_asset_specs(
        dlt_source=source,
        dlt_pipeline=_describing_pipeline(short),
        dagster_dlt_translator=GourmandDltTranslator(),
    )
    return multi_asset(
        name=name,
        specs=[*specs, _ledger_spec(short)] if ledger else specs,
        can_subset=True,
        retry_policy=EXTRACT_RETRY,
        **options,
    )


@_extract_assets(states.states_source(_settings, "http://sandbox/abbreviations.htm"), "raw_states")
def raw_states_assets(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
    """The state and territory abbreviations page, scraped table by table."""
    run = run_source("states", resources=_selected_resources(context), on_progress=context.log.info)
    yield from _results(context, [run])


@_extract_assets(census.census_source(_settings, "http://sandbox/data"), "raw_census")
def raw_census_assets(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
    """County population estimates (vintage 2019), every DATE_CODE."""
    run = run_source("census", resources=_selected_resources(context), on_progress=context.log.info)
    yield from _results(context, [run])


@_extract_assets(
    yelp.yelp_source(_settings, "http://sandbox/v3", "", _settings.start_date, []),
    "raw_yelp",
    ledger=True,
    partitions_def=daily_partitions,
    backfill_policy=single_run,
)
def raw_yelp_assets(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
    """One Yelp survey per partition day; a range of days loads together in this one run."""
    days = [date.fromisoformat(k) for k in context.partition_keys]
    runs = run_days(
        "yelp", days, resources=_selected_resources(context), on_progress=context.log.info
    )
    yield from _results(context, runs)


extract_assets: list[AssetsDefinition] = [raw_states_assets, raw_census_assets, raw_yelp_assets]
