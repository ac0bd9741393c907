"""Yelp Fusion: businesses per location (limit/offset paging, 1,000 cap), reviews, events.

One run pulls one survey day. Against the sandbox the day is sent as `day=` so past days can be
replayed; against the live API only today can be surveyed. Every business row carries the day it
describes (`surveyed_on`) and when it was extracted, so a daily pull adds one snapshot per
business per day, and re-running a day replaces that day's snapshots (delete-insert on
`surveyed_on`), for every resource. Records that are structurally broken go to `raw_yelp._rejects`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import OffsetPaginator

from extract.runtime.postgres import connect
from extract.settings import Settings
from extract.sources.accounting import BatchLedger, Rejected, to_table
from extract.sources.endpoints import source_urls
from extract.sources.rest import get_json, paginate_json, rest_client
from extract.sources.spec import Options, SourceSpec

DATASET = "raw_yelp"
# What the OLTP model looks up in the daily snapshots: an entity's days, a day's rows.
INDEXES = {
    "businesses": (("id", "surveyed_on"), ("surveyed_on",)),
    "businesses__categories": (("surveyed_on",), ("alias", "surveyed_on")),
    "businesses__transactions": (("surveyed_on",),),
    "reviews": (("id", "surveyed_on"), ("user_id", "surveyed_on"), ("surveyed_on",)),
    "events": (("id", "surveyed_on"), ("surveyed_on",)),
}
PAGE_SIZE = 50
MAX_RESULTS = 1000  # Yelp refuses limit + offset > 1000
PRICE_LEVELS = {"$": 1, "$$": 2, "$$$": 3, "$$$$": 4}


def price_level(price: Any) -> int | None:
    """'$'..'$$$$' -> 1..4; absent or unknown symbols -> None (the key is often missing)."""
    if not isinstance(price, str):
        return None
    return PRICE_LEVELS.get(price.strip())


def _require(record: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in record:
        raise Rejected(f"missing field '{key}'")
    value = record[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise Rejected(f"field '{key}' has type {type(value).__name__}, expected {kind}")
    return value


def _optional_number(record: dict[str, Any], key: str) -> float | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected(f"field '{key}' is not a number: {value!r}")
    return float(value)


def parse_business(raw: Any, surveyed_on: date, location: str, extracted_at: datetime) -> dict:
    """Validate the shape of one search result and flatten it to the raw row dlt loads.

    Only structure is checked here (ids, types); out-of-range values such as a rating of 7 are
    loaded as received, for the quality checks to flag.
    """
    if not isinstance(raw, dict):
        raise Rejected(f"business is a {type(raw).__name__}, not an object")
    business_id = _require(raw, "id", str)
    if not business_id:
        raise Rejected("field 'id' is empty")
    _require(raw, "name", str)
    rating = _optional_number(raw, "rating")
    review_count = raw.get("review_count")
    if review_count is not None and (
        isinstance(review_count, bool) or not isinstance(review_count, int)
    ):
        raise Rejected(f"field 'review_count' is not an integer: {review_count!r}")
    coordinates = raw.get("coordinates") or {}
    if not isinstance(coordinates, dict):
        raise Rejected("field 'coordinates' is not an object")
    loc = raw.get("location") or {}
    if not isinstance(loc, dict):
        raise Rejected("field 'location' is not an object")
    categories = raw.get("categories") or []
    transactions = raw.get("transactions") or []
    if not isinstance(categories, list) or not all(isinstance(c, dict) for c in categories):
        raise Rejected("field 'categories' is not a list of objects")
    if not isinstance(transactions, list) or not all(isinstance(t, str) for t in transactions):
        raise Rejected("field 'transactions' is not a list of strings")

    known = {
        "id", "alias", "name", "image_url", "is_closed", "url", "review_count", "categories",
        "rating", "coordinates", "transactions", "price", "location", "phone", "display_phone",
        "distance",
    }  # fmt: skip
    row: dict[str, Any] = {
        "id": business_id,
        "surveyed_on": surveyed_on,
        "alias": raw.get("alias"),
        "name": raw["name"],
        "image_url": raw.get("image_url"),
        "is_closed": raw.get("is_closed"),
        "url": raw.get("url"),
        "review_count": review_count,
        "rating": rating,
        "price": raw.get("price"),
        "price_level": price_level(raw.get("price")),
        "phone": raw.get("phone"),
        "display_phone": raw.get("display_phone"),
        "distance": _optional_number(raw, "distance"),
        "latitude": _optional_number(coordinates, "latitude"),
        "longitude": _optional_number(coordinates, "longitude"),
        "address1": loc.get("address1"),
        "address2": loc.get("address2"),
        "address3": loc.get("address3"),
        "city": loc.get("city"),
        "zip_code": loc.get("zip_code"),
        "country": loc.get("country"),
        "state": loc.get("state"),
        "display_address": ", ".join(str(p) for p in loc.get("display_address") or []),
        "search_location": location,
        "extracted_at": extracted_at,
        # lists feed the businesses__categories / businesses__transactions resources
        "categories": [{"alias": c.get("alias"), "title": c.get("title")} for c in categories],
        "transactions": list(transactions),
    }
    # A field the API adds later is kept (as JSON text) rather than lost; dlt adds the column.
    for key, value in raw.items():
        if key not in known:
            row[key] = value if isinstance(value, str | int | float | bool) else _json(value)
    return row


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, default=str)


REVIEWS_FROM = datetime(2004, 1, 1)  # Yelp's first year


def parse_review(raw: Any, business_id: str, surveyed_on: date, extracted_at: datetime) -> dict:
    if not isinstance(raw, dict):
        raise Rejected(f"review is a {type(raw).__name__}, not an object")
    review_id = _require(raw, "id", str)
    rating = raw.get("rating")
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int | float)):
        raise Rejected(f"field 'rating' is not a number: {rating!r}")
    user = raw.get("user") or {}
    if not isinstance(user, dict):
        raise Rejected("field 'user' is not an object")
    created = raw.get("time_created")
    try:
        time_created = datetime.strptime(created, "%Y-%m-%d %H:%M:%S") if created else None
    except (TypeError, ValueError) as exc:
        raise Rejected(f"field 'time_created' is not 'YYYY-MM-DD HH:MM:SS': {created!r}") from exc
    # plausible from Yelp's first year to the day after the survey (Pacific time, as Yelp
    # writes it); judged against the survey day, so a replayed day gets the same verdict
    latest = datetime.combine(surveyed_on + timedelta(days=2), datetime.min.time())
    if time_created is not None and not REVIEWS_FROM <= time_created < latest:
        raise Rejected(
            "field 'time_created' out of the plausible range (2004-01-01 to the day after the "
            f"survey): {created!r}"
        )
    row = {
        "id": review_id,
        "business_id": business_id,
        "surveyed_on": surveyed_on,
        "url": raw.get("url"),
        "text": raw.get("text"),
        "rating": rating,
        "time_created": time_created,
        "user_id": user.get("id"),
        "user_profile_url": user.get("profile_url"),
        "user_image_url": user.get("image_url"),
        "user_name": user.get("name"),
        "extracted_at": extracted_at,
    }
    for key, value in raw.items():
        if key not in {"id", "url", "text", "rating", "time_created", "user"}:
            row[key] = value if isinstance(value, str | int | float | bool) else _json(value)
    return row


def parse_event(raw: Any, location: str, surveyed_on: date, extracted_at: datetime) -> dict:
    if not isinstance(raw, dict):
        raise Rejected(f"event is a {type(raw).__name__}, not an object")
    event_id = _require(raw, "id", str)
    loc = raw.get("location") or {}
    if not isinstance(loc, dict):
        raise Rejected("field 'location' is not an object")
    row = {
        "id": event_id,
        "surveyed_on": surveyed_on,
        "search_location": location,
        "name": raw.get("name"),
        "description": raw.get("description"),
        "category": raw.get("category"),
        "image_url": raw.get("image_url"),
        "event_site_url": raw.get("event_site_url"),
        "tickets_url": raw.get("tickets_url"),
        "attending_count": raw.get("attending_count"),
        "interested_count": raw.get("interested_count"),
        "cost": _optional_number(raw, "cost"),
        "cost_max": _optional_number(raw, "cost_max"),
        "is_free": raw.get("is_free"),
        "is_canceled": raw.get("is_canceled"),
        "is_official": raw.get("is_official"),
        "latitude": _optional_number(raw, "latitude"),
        "longitude": _optional_number(raw, "longitude"),
        "time_start": raw.get("time_start"),
        "time_end": raw.get("time_end"),
        "business_id": raw.get("business_id"),
        "address1": loc.get("address1"),
        "city": loc.get("city"),
        "zip_code": loc.get("zip_code"),
        "state": loc.get("state"),
        "country": loc.get("country"),
        "cross_streets": loc.get("cross_streets"),
        "extracted_at": extracted_at,
    }
    return row


class YelpDay:
    """Pulls one survey day; each endpoint is fetched at most once, when first needed."""

    def __init__(
        self,
        settings: Settings,
        base_url: str,
        token: str,
        surveyed_on: date,
        locations: Sequence[str],
        send_day: bool,
    ) -> None:
        self.settings = settings
        self.base_url = base_url
        self.token = token
        self.surveyed_on = surveyed_on
        self.locations = list(locations)
        self.day_params = {"day": surveyed_on.isoformat()} if send_day else {}
        self.extracted_at = datetime.now(UTC)
        self.batch = surveyed_on.isoformat()

    @cached_property
    def client(self) -> RESTClient:
        return rest_client(self.settings, self.base_url, token=self.token)

    def _pages(self, path: str, location: str, selector: str) -> Iterator[list[Any]]:
        paginator = OffsetPaginator(
            limit=PAGE_SIZE,
            offset=0,
            total_path="total",
            maximum_offset=MAX_RESULTS,
            stop_after_empty_page=True,
        )
        params = {"location": location, **self.day_params}
        yield from paginate_json(self.client, path, params, "yelp", paginator, selector)

    @cached_property
    def businesses(self) -> tuple[list[dict], BatchLedger]:
        ledger = BatchLedger("businesses", self.batch, self.extracted_at)
        rows: dict[str, dict] = {}
        for location in self.locations:
            for page in self._pages("/businesses/search", location, "businesses"):
                for raw in page:
                    try:
                        row = parse_business(raw, self.surveyed_on, location, self.extracted_at)
                    except Rejected as exc:
                        ledger.reject(raw, str(exc), context=f"search location={location}")
                        continue
                    if row["id"] in rows:
                        # Neighbouring counties can list the same business; one snapshot a day.
                        ledger.reject(
                            raw,
                            "duplicate of a business already seen this day",
                            context=f"search location={location}",
                        )
                        continue
                    ledger.accept()
                    rows[row["id"]] = row
        return list(rows.values()), ledger

    def _children(self, resource: str, field: str) -> tuple[list[dict], BatchLedger]:
        """Rows of a list field of the day's businesses, keyed by business and day."""
        businesses, _ = self.businesses
        ledger = BatchLedger(resource, self.batch, self.extracted_at)
        rows = []
        for business in businesses:
            for item in business[field]:
                ledger.accept()
                row = {"business_id": business["id"], "surveyed_on": self.surveyed_on}
                row.update(item if isinstance(item, dict) else {"transaction_type": item})
                rows.append(row)
        return rows, ledger

    @cached_property
    def categories(self) -> tuple[list[dict], BatchLedger]:
        return self._children("businesses__categories", "categories")

    @cached_property
    def transactions(self) -> tuple[list[dict], BatchLedger]:
        return self._children("businesses__transactions", "transactions")

    @cached_property
    def reviews(self) -> tuple[list[dict], BatchLedger]:
        businesses, _ = self.businesses
        ledger = BatchLedger("reviews", self.batch, self.extracted_at)
        rows: dict[str, dict] = {}
        # one request per business, a few in flight at once (each thread its own session);
        # the answers are taken in the businesses' order, so the rows come out the same
        clients = threading.local()

        def fetch(business_id: str) -> Any:
            if not hasattr(clients, "client"):
                clients.client = rest_client(self.settings, self.base_url, token=self.token)
            return get_json(
                clients.client, f"/businesses/{business_id}/reviews", self.day_params, "yelp"
            )

        with ThreadPoolExecutor(self.settings.yelp_concurrency) as pool:
            answers = pool.map(fetch, [b["id"] for b in businesses])
            for business, data in zip(businesses, answers, strict=True):
                for raw in data.get("reviews") or []:
                    try:
                        row = parse_review(raw, business["id"], self.surveyed_on, self.extracted_at)
                    except Rejected as exc:
                        ledger.reject(raw, str(exc), context=f"business={business['id']}")
                        continue
                    ledger.accept()
                    rows[row["id"]] = row
        return list(rows.values()), ledger

    @cached_property
    def events(self) -> tuple[list[dict], BatchLedger]:
        ledger = BatchLedger("events", self.batch, self.extracted_at)
        rows: dict[str, dict] = {}
        for location in self.locations:
            for page in self._pages("/events", location, "events"):
                for raw in page:
                    try:
                        row = parse_event(raw, location, self.surveyed_on, self.extracted_at)
                    except Rejected as exc:
                        ledger.reject(raw, str(exc), context=f"events location={location}")
                        continue
                    ledger.accept()
                    rows[row["id"]] = row
        return list(rows.values()), ledger


def _emit(
    pulled: tuple[list[dict], BatchLedger], drop: tuple[str, ...] = (), **keys: Any
) -> Iterator[Any]:
    rows, ledger = pulled
    if rows:
        if drop:
            rows = [{k: v for k, v in row.items() if k not in drop} for row in rows]
        yield to_table(ledger.resource, rows, **keys)
    yield from ledger.summary_items()


def _types(
    text: str = "", double: str = "", bigint: str = "", boolean: str = "", timestamp: str = ""
) -> dict[str, Any]:
    """Column types declared up front, so a column that is null all day still exists."""
    kinds = {
        "text": text,
        "double": double,
        "bigint": bigint,
        "bool": boolean,
        "timestamp": timestamp,
    }
    return {
        col: {"data_type": kind, "nullable": True}
        for kind, cols in kinds.items()
        for col in cols.split()
    }


_DAY = {"surveyed_on": {"data_type": "date", "nullable": False}}
BUSINESS_COLUMNS = {
    **_DAY,
    **_types(
        text="alias name image_url url price phone display_phone address1 address2 address3 "
        "city zip_code country state display_address search_location",
        double="rating distance latitude longitude",
        bigint="review_count price_level",
        boolean="is_closed",
        timestamp="extracted_at",
    ),
}
REVIEW_COLUMNS = {
    **_DAY,
    **_types(
        text="business_id url text user_id user_profile_url user_image_url user_name",
        double="rating",
        timestamp="time_created extracted_at",
    ),
}
EVENT_COLUMNS = {
    **_DAY,
    **_types(
        text="search_location name description category image_url event_site_url tickets_url "
        "time_start time_end business_id address1 city zip_code state country cross_streets",
        double="cost cost_max latitude longitude",
        bigint="attending_count interested_count",
        boolean="is_free is_canceled is_official",
        timestamp="extracted_at",
    ),
}


@dlt.source(name="yelp", max_table_nesting=0)
def yelp_source(
    settings: Settings,
    base_url: str,
    token: str,
    surveyed_on: date | Sequence[date],
    locations: Sequence[str],
    send_day: bool = True,
) -> Any:
    """The Yelp survey of one day, or of several days as one load: five resources (tables) over
    one lazily-fetched pull per day.

    Categories and transactions are resources of their own, not dlt nested tables, so each
    table is an asset with its own key and carries its business id and day explicitly.
    """
    surveyed = [surveyed_on] if isinstance(surveyed_on, date) else list(surveyed_on)
    days = [YelpDay(settings, base_url, token, d, locations, send_day) for d in surveyed]
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
                columns={**_DAY, **_types(text="business_id alias title")},
            )

    @dlt.resource(name="businesses__transactions", write_disposition=merge)
    def transactions() -> Iterator[Any]:
        for day in days:
            yield from _emit(
                day.transactions,
                primary_key=["business_id", "surveyed_on", "transaction_type"],
                merge_key="surveyed_on",
                columns={**_DAY, **_types(text="business_id transaction_type")},
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


def _build(settings: Settings, days: list[date], _options: Options) -> Any:
    if not days:
        raise ValueError("the yelp source needs a survey day")
    live = settings.sources_mode == "live"
    today = datetime.now(UTC).date()
    if live and days != [today]:
        other = next((d for d in days if d != today), days[0])
        raise ValueError(f"the live Yelp API only describes today; cannot survey {other}")
    return yelp_source(
        settings,
        source_urls(settings)["yelp"],
        settings.yelp_api_key,
        days,
        yelp_locations(settings),
        send_day=not live,
    )


SPEC = SourceSpec(
    "yelp",
    DATASET,
    ("businesses", "businesses__categories", "businesses__transactions", "reviews", "events"),
    _build,
    partition_column="surveyed_on",
    indexes=INDEXES,
)
