"""Yelp's answers as raw rows: a search result (business), a review, an event, each checked for
structure only (ids present, numbers are numbers, lists are lists) and flattened to the row dlt
loads, or a `Rejected` with the reason. A rating of 7 is well-formed and is loaded; the quality
layer is where value ranges are judged. A field the API adds later is kept (as JSON text)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from extract.sources.accounting import Rejected

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
