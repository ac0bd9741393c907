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
# The five tables: (resource, the YelpDay pull it reads, primary key, columns, fields dropped).
# Each holds one snapshot per row per survey day, and a re-run replaces the day (merge key
# surveyed_on). Reviews and events too: the OLTP model folds any day in any order, so each day
# keeps what it said (the newest snapshot wins there, not the latest load). Categories and
# transactions are resources of their own, not dlt nested tables, so each table is an asset
# with its own key and carries its business id and day explicitly.
TABLES: tuple[tuple[str, str, tuple[str, ...], dict[str, Any], tuple[str, ...]], ...] = (
    ("businesses", "businesses", ("id", "surveyed_on"), BUSINESS_COLUMNS,
     ("categories", "transactions")),
    ("businesses__categories", "categories", ("business_id", "surveyed_on", "alias"),
     CATEGORY_COLUMNS, ()),
    ("businesses__transactions", "transactions",
     ("business_id", "surveyed_on", "transaction_type"), TRANSACTION_COLUMNS, ()),
    ("reviews", "reviews", ("id", "surveyed_on"), REVIEW_COLUMNS, ()),
    ("events", "events", ("id", "surveyed_on"), EVENT_COLUMNS, ()),
)  # fmt: skip
RESOURCES = tuple(table[0] for table in TABLES)
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


def _table(
    days: list[YelpDay],
    name: str,
    pull: str,
    key: tuple[str, ...],
    columns: dict[str, Any],
    drop: tuple[str, ...],
) -> Any:
    """The dlt resource of one table: each day's rows of the pull, then its rejects and
    `_loads` row."""

    def rows() -> Iterator[Any]:
        for day in days:
            yield from _emit(
                getattr(day, pull),
                drop=drop,
                primary_key=list(key),
                merge_key=PARTITION_COLUMN,
                columns=columns,
            )

    return dlt.resource(
        rows, name=name, write_disposition={"disposition": "merge", "strategy": "delete-insert"}
    )


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
    return tuple(_table(days, *table) for table in TABLES)
