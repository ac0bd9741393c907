from datetime import UTC, date, datetime

import pytest

from extract.sources.accounting import Rejected
from extract.sources.yelp.parse import parse_business, price_level

NOW = datetime(2024, 1, 2, tzinfo=UTC)
DAY = date(2024, 1, 1)


def business(**overrides):
    raw = {
        "id": "Xq3v9LmPz2Yk8TbW1cRs0A", "alias": "sample", "name": "Sample Taqueria",
        "image_url": "", "is_closed": False, "url": "https://www.yelp.com/biz/sample",
        "review_count": 212, "categories": [{"alias": "mexican", "title": "Mexican"}],
        "rating": 4.5, "coordinates": {"latitude": 34.05, "longitude": -118.24},
        "transactions": ["delivery"], "price": "$",
        "location": {"address1": "100 S Main St", "city": "Los Angeles", "zip_code": "90012",
                     "country": "US", "state": "CA",
                     "display_address": ["100 S Main St", "Los Angeles, CA 90012"]},
        "phone": "+12135550100", "display_phone": "(213) 555-0100", "distance": 812.4,
    }  # fmt: skip
    raw.update(overrides)
    return raw


@pytest.mark.parametrize(
    ("symbol", "level"),
    [("$", 1), ("$$", 2), ("$$$", 3), ("$$$$", 4), (None, None), ("€€", None), ("", None)],
)
def test_price_symbols_map_to_levels(symbol, level):
    assert price_level(symbol) == level


def test_business_is_flattened_with_day_and_extraction_time():
    row = parse_business(business(), DAY, "Los Angeles County, California", NOW)
    assert row["surveyed_on"] == DAY and row["extracted_at"] == NOW
    assert row["latitude"] == 34.05 and row["state"] == "CA" and row["price_level"] == 1
    assert row["categories"] == [{"alias": "mexican", "title": "Mexican"}]
    assert row["display_address"] == "100 S Main St, Los Angeles, CA 90012"


def test_absent_price_key_is_not_an_error():
    raw = business()
    del raw["price"]
    row = parse_business(raw, DAY, "x", NOW)
    assert row["price"] is None and row["price_level"] is None


def test_out_of_range_values_are_kept_for_the_quality_checks():
    row = parse_business(business(rating=7.0, review_count=-3), DAY, "x", NOW)
    assert row["rating"] == 7.0 and row["review_count"] == -3


def test_new_fields_are_kept_not_dropped():
    row = parse_business(business(business_hours=[{"open": []}]), DAY, "x", NOW)
    assert row["business_hours"] == '[{"open": []}]'


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"id": None}, "id"),
        ({"rating": "four and a half"}, "rating"),
        ({"review_count": "12"}, "review_count"),
        ({"coordinates": "34,-118"}, "coordinates"),
        ({"categories": "mexican"}, "categories"),
    ],
)
def test_structurally_broken_records_are_rejected_with_a_reason(overrides, reason):
    with pytest.raises(Rejected, match=reason):
        parse_business(business(**overrides), DAY, "x", NOW)


def test_missing_id_is_rejected():
    raw = business()
    del raw["id"]
    with pytest.raises(Rejected, match="missing field 'id'"):
        parse_business(raw, DAY, "x", NOW)


@pytest.mark.parametrize(
    ("created", "kept"),
    [
        ("2003-12-31 23:59:59", False),
        ("0001-01-01 00:00:00", False),
        ("2024-01-05 09:00:00", False),  # two days after the survey
        ("2004-01-01 00:00:00", True),
        ("2024-01-03 22:00:00", True),
        ("2024-01-04 07:00:00", True),  # Pacific time runs behind: the next day is plausible
    ],
)
def test_review_dates_outside_the_plausible_range_are_rejected(created, kept):
    from datetime import date, datetime

    from extract.sources.yelp.parse import parse_review

    review = {"id": "r1", "rating": 4, "time_created": created, "user": {"id": "u1"}}
    args = (review, "b1", date(2024, 1, 3), datetime(2024, 1, 3, 12))
    if kept:
        assert parse_review(*args)["time_created"] == datetime.fromisoformat(created)
    else:
        with pytest.raises(Rejected, match="time_created' out of the plausible range"):
            parse_review(*args)
