"""Yelp Fusion: businesses per location (limit/offset paging, 1,000 cap), reviews, events.

One run pulls one survey day (`day.py`), or several days as one load. Against the sandbox the
day is sent as `day=` so past days can be replayed; against the live API only today can be
surveyed. Every business row carries the day it describes (`surveyed_on`) and when it was
extracted, so a daily pull adds one snapshot per business per day, and re-running a day replaces
that day's snapshots (delete-insert on `surveyed_on`), for every resource. Records that are
structurally broken (`parse.py`) go to `raw_yelp._rejects`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import dlt

from extract.sources.accounting import BatchLedger, to_table
from extract.sources.rest import HttpPolicy
from extract.sources.yelp.columns import (
    BUSINESS_COLUMNS,
    CATEGORY_COLUMNS,
    EVENT_COLUMNS,
    REVIEW_COLUMNS,
    TRANSACTION_COLUMNS,
)
from extract.sources.yelp.day import YelpDay

DATASET = "raw_yelp"
RESOURCES = (
    "businesses",
    "businesses__categories",
    "businesses__transactions",
    "reviews",
    "events",
)
# the lake's partition folder of every table: the survey day
PARTITION_COLUMN = "surveyed_on"
# What the OLTP model looks up in the daily snapshots: an entity's days, a day's rows.
INDEXES = {
    "businesses": (("id", "surveyed_on"), ("surveyed_on",)),
    "businesses__categories": (("surveyed_on",), ("alias", "surveyed_on")),
    "businesses__transactions": (("surveyed_on",),),
    "reviews": (("id", "surveyed_on"), ("user_id", "surveyed_on"), ("surveyed_on",)),
    "events": (("id", "surveyed_on"), ("surveyed_on",)),
}


def _emit(
    pulled: tuple[list[dict], BatchLedger], drop: tuple[str, ...] = (), **keys: Any
) -> Iterator[Any]:
    """One day's rows of a resource into its table (without the `drop` fields), then the
    day's rejects and `_loads` row."""
    rows, ledger = pulled
    if rows:
        if drop:
            rows = [{k: v for k, v in row.items() if k not in drop} for row in rows]
        yield to_table(ledger.resource, rows, **keys)
    yield from ledger.summary_items()


@dlt.source(name="yelp", max_table_nesting=0)
def yelp_source(
    base_url: str,
    surveyed_on: date | Sequence[date],
    locations: Sequence[str],
    api_key: str = "",
    send_day: bool = True,
    concurrency: int = 1,
    *,
    http: HttpPolicy,
) -> Any:
    """The Yelp survey of one day, or of several days as one load: five resources (tables) over
    one lazily-fetched pull per day.

    `base_url`: the Fusion API (`.../v3`); `locations`: what each day searches; `api_key`: the
    bearer token; `send_day`: send the survey day as `day=` (the sandbox replays any day; the
    live API does not take it, and only describes today); `concurrency`: review requests in
    flight at once; `http`: the timeout and retry policy.

    Categories and transactions are resources of their own, not dlt nested tables, so each
    table is an asset with its own key and carries its business id and day explicitly.
    """
    surveyed = [surveyed_on] if isinstance(surveyed_on, date) else list(surveyed_on)
    if not send_day:
        today = datetime.now(UTC).date()
        other = next((d for d in surveyed if d != today), None)
        if other is not None:
            raise ValueError(f"the live Yelp API only describes today; cannot survey {other}")
    days = [
        YelpDay(base_url, api_key, d, locations, send_day=send_day, concurrency=concurrency,
                http=http)
        for d in surveyed
    ]  # fmt: skip
    merge: Any = {"disposition": "merge", "strategy": "delete-insert"}

    @dlt.resource(name="businesses", write_disposition=merge)
    def businesses() -> Iterator[Any]:
        # One snapshot per business per day: a re-run replaces the day (merge key surveyed_on).
        for day in days:
            yield from _emit(
                day.businesses,
                drop=("categories", "transactions"),
                primary_key=["id", "surveyed_on"],
                merge_key="surveyed_on",
                columns=BUSINESS_COLUMNS,
            )

    @dlt.resource(name="businesses__categories", write_disposition=merge)
    def categories() -> Iterator[Any]:
        for day in days:
            yield from _emit(
                day.categories,
                primary_key=["business_id", "surveyed_on", "alias"],
                merge_key="surveyed_on",
                columns=CATEGORY_COLUMNS,
            )

    @dlt.resource(name="businesses__transactions", write_disposition=merge)
    def transactions() -> Iterator[Any]:
        for day in days:
            yield from _emit(
                day.transactions,
                primary_key=["business_id", "surveyed_on", "transaction_type"],
                merge_key="surveyed_on",
                columns=TRANSACTION_COLUMNS,
            )

    # Reviews and events are daily snapshots too: the OLTP model folds any day in any order,
    # so each day keeps what it said (the newest snapshot wins there, not the latest load).
    @dlt.resource(name="reviews", write_disposition=merge)
    def reviews() -> Iterator[Any]:
        for day in days:
            yield from _emit(
                day.reviews,
                primary_key=["id", "surveyed_on"],
                merge_key="surveyed_on",
                columns=REVIEW_COLUMNS,
            )

    @dlt.resource(name="events", write_disposition=merge)
    def events() -> Iterator[Any]:
        for day in days:
            yield from _emit(
                day.events,
                primary_key=["id", "surveyed_on"],
                merge_key="surveyed_on",
                columns=EVENT_COLUMNS,
            )

    return businesses, categories, transactions, reviews, events
