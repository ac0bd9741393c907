"""The column types the Yelp tables declare up front, so a column that is null all day still
exists (and has its type) after the day's load."""

from __future__ import annotations

from typing import Any


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
CATEGORY_COLUMNS = {**_DAY, **_types(text="business_id alias title")}
TRANSACTION_COLUMNS = {**_DAY, **_types(text="business_id transaction_type")}
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
