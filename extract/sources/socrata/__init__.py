"""Socrata SODA 2.x: LA 311 service requests (MyLA311), one dataset per year.

Full mode loads chosen years whole; update mode loads every request with `updateddate` after
the watermark, across all years. The pages (`pages.py`: CSV into Arrow, typed, rejects) are
merged by dlt into `raw_socrata.service_requests` on `srnumber`. Around the dlt run: the real
dataset ids (`datasets.py`), the watermark, reset and load metadata (`loads.py`), the upsert
path of update loads (`upsert.py`) and the runner's hooks (`runner.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import dlt

from extract.sources.accounting import BatchLedger, to_table
from extract.sources.rest import HttpPolicy
from extract.sources.socrata.pages import (
    DATASET,
    RESOURCE,
    LoadStats,
    batch_name,
    dataset_ids,
    good_pages,
    validate,
)

__all__ = ["DATASET", "RESOURCE", "RESOURCES", "socrata_source"]

RESOURCES = (RESOURCE,)


# section: dlt names a source's config and state sections after its module; the package keeps
# the name of the module `extract/sources/socrata.py` it was, so existing homes' `.dlt` settings
# and pipeline state still apply
@dlt.source(name="socrata", section="socrata")
def socrata_source(
    base_url: str,
    *,
    mode: str,
    years: Sequence[int] = (),
    since: str | None = None,
    app_token: str = "",
    datasets: Mapping[int, str] | None = None,
    http: HttpPolicy,
    stored_updates: Callable[[list[str]], dict[str, Any]] | None = None,
    stats: LoadStats | None = None,
    into_empty: bool = False,
) -> Any:
    """Full mode: the chosen `years`; update mode: `updateddate > since` in each of `years`.

    `base_url`: the portal; `app_token`: Socrata's app token (sent when given); `datasets`: the
    dataset id of each year (None: LA 311's own); `http`: the timeout and retry policy.

    `into_empty`: the table holds nothing yet, so rows are appended (one COPY) instead of
    merged through a staging table; duplicates inside such a load are removed afterwards
    (loads.after_load).

    `stored_updates(srnumbers)` returns the loaded `updateddate` of those requests, so an
    older copy of a request is rejected instead of overwriting the newer one; `stats` collects
    what the pages saw (updates, the newest updateddate) for the load metadata."""
    batch = batch_name(mode, list(years), since)
    validate(mode, years, since, dataset_ids(datasets))  # at once, not when the pipeline pulls

    # bare hints: the key goes on the data table only, not on _rejects/_loads (accounting.py)
    @dlt.resource(
        name=RESOURCE, write_disposition={"disposition": "merge", "strategy": "delete-insert"}
    )
    def service_requests() -> Iterator[Any]:
        ledger = BatchLedger(RESOURCE, batch)
        pages = good_pages(
            base_url, ledger, mode=mode, years=years, since=since, http=http,
            app_token=app_token, datasets=datasets, stored_updates=stored_updates, stats=stats,
        )  # fmt: skip
        for good in pages:
            yield to_table(RESOURCE, good, primary_key="srnumber", append=into_empty)
        yield from ledger.summary_items()

    return service_requests
