"""Every source the runner knows (`SOURCES`), and the one place where the settings become the
sources' parameters.

Each source is a package in dlt's verified-sources shape: its `@dlt.source` function in its
`__init__.py`, its helpers in modules beside it, and its configuration (base URL, key, locations,
the HTTP timeout and retries...) as that function's parameters, plain values. Nothing in a
source reads the settings for its configuration: the build hooks here read them (with the
services' addresses from `endpoints.py`) and pass them; the runner (extract/pipelines.py) builds
each load's source through its spec's `build` and never asks a source's name.

HR is not here. Its data does not come through dlt or the runner: the HR system pushes files
into a drop folder or rows to the ingest API (`gourmand serve`), and `extract/sources/hr/ingest.py`
checks them against the data dictionary and upserts them with SQL; a batch is a file or a
request, not a day or a name the runner could ask for, and nothing is pulled. A spec for it would
leave `build`, the batches and the lake layout empty, and the runner's `run_source` could not
run it, so HR keeps its own path (`hr/`, its Dagster assets and sensor, the ingest API).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from extract.settings import Settings
from extract.sources import census, socrata, states, yelp
from extract.sources.accounting import BatchLedger
from extract.sources.endpoints import socrata_url, source_urls
from extract.sources.rest import HttpPolicy
from extract.sources.socrata import loads as socrata_loads
from extract.sources.socrata import runner as socrata_runner
from extract.sources.socrata.pages import LoadStats, good_pages
from extract.sources.spec import Options, Say, SourceRun, SourceSpec
from extract.sources.yelp.locations import loaded_counties

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["SOURCES", "http_policy"]


def http_policy(settings: Settings) -> HttpPolicy:
    """The timeout and retry policy of every request to a service (GOURMAND_HTTP_*)."""
    return HttpPolicy(
        timeout=settings.http_timeout,
        max_attempts=settings.http_max_attempts,
        backoff=settings.http_backoff,
        max_delay=settings.http_max_delay,
    )


def _states(settings: Settings, _days: list[date], _options: Options) -> Any:
    return states.states_source(source_urls(settings)["states"], http=http_policy(settings))


def _census(settings: Settings, _days: list[date], _options: Options) -> Any:
    return census.census_source(
        source_urls(settings)["census"], settings.census_api_key, http=http_policy(settings)
    )


def _yelp_locations(settings: Settings) -> list[str]:
    """Where to search: GOURMAND_YELP_LOCATIONS, else the Census counties already loaded; at
    most GOURMAND_YELP_MAX_LOCATIONS of them (0: all)."""
    names = list(settings.yelp_locations) or loaded_counties(settings)
    if settings.yelp_max_locations:
        names = names[: settings.yelp_max_locations]
    return names


def _yelp(settings: Settings, days: list[date], _options: Options) -> Any:
    if not days:
        raise ValueError("the yelp source needs a survey day")
    return yelp.yelp_source(
        source_urls(settings)["yelp"],
        days,
        _yelp_locations(settings),
        api_key=settings.yelp_api_key,
        # the sandbox replays any day sent as `day=`; the live API only describes today
        send_day=settings.sources_mode != "live",
        concurrency=settings.yelp_concurrency,
        http=http_policy(settings),
    )


def _socrata_config(settings: Settings) -> dict[str, Any]:
    """The portal, its app token, the dataset id of each year (none: LA 311's own) and the
    HTTP policy: what a full load's source and an update's pages are given."""
    return {
        "base_url": socrata_url(settings),
        "app_token": settings.socrata_app_token,
        "datasets": dict(settings.socrata_datasets) or None,
        "http": http_policy(settings),
    }


def _socrata(settings: Settings, _days: list[date], options: Options) -> Any:
    return socrata.socrata_source(
        **_socrata_config(settings),
        mode=options["mode"],
        years=options["years"],
        since=options["since"],
        stored_updates=socrata_loads.stored_updates(settings),
        stats=options["stats"],
        # a reset merges into the table it replaces, then drops what it did not reload
        into_empty=not options["reset"] and socrata_loads.prepare_bulk(settings),
    )


def _socrata_options(settings: Settings, options: Options | None) -> dict[str, Any]:
    return socrata_runner.resolve_options(settings, options, default_years=settings.socrata_years)


def _socrata_update(
    spec: SourceSpec, settings: Settings, options: Options, batch: str, to_lake: bool, say: Say
) -> SourceRun | None:
    config = _socrata_config(settings)

    def pages(
        ledger: BatchLedger, mode: str, years: Sequence[int], since: str | None, stats: LoadStats
    ) -> Iterator[pa.Table]:
        return good_pages(ledger=ledger, mode=mode, years=years, since=since, stats=stats, **config)

    return socrata_runner.update(spec, settings, options, batch, to_lake, say, pages=pages)


# Every source the runner knows, by name.
SOURCES: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in (
        SourceSpec(
            "states", states.DATASET, states.RESOURCES, _states, batch=lambda _o: states.BATCH
        ),
        SourceSpec(
            "census",
            census.DATASET,
            census.RESOURCES,
            _census,
            batch=lambda _o: census.VINTAGE,
            partition_column="vintage",
        ),
        SourceSpec(
            "yelp",
            yelp.DATASET,
            yelp.RESOURCES,
            _yelp,
            partition_column=yelp.PARTITION_COLUMN,
            indexes=yelp.INDEXES,
        ),
        SourceSpec(
            "socrata",
            socrata.DATASET,
            socrata.RESOURCES,
            _socrata,
            batch=socrata_runner.batch_for,
            partition_column="batch",
            resolve_options=_socrata_options,
            load_instead=_socrata_update,
            dlt_config=socrata_runner.DLT_CONFIG,
            # Arrow pages go to Postgres as Parquet files (ADBC ingest), not INSERT statements
            loader_file_format="parquet",
            # it counts its own updates (it looks each page's keys up anyway): no table scans
            counts_updates=True,
            after_load=socrata_runner.after_load,
        ),
    )
}
