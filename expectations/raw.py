"""Raw layer: incoming values as they landed, one survey day at a time (bounded memory)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from expectations.catalog import BY_NAME
from expectations.db import pg_frame, pg_value
from expectations.runner import Outcome, expect, merge, validate
from extract.settings import Settings

RATINGS = [step / 2 for step in range(11)]  # 0, 0.5, ..., 5
PRICES = ["$", "$$", "$$$", "$$$$"]
KEY = ("id", "surveyed_on")


def latest_day(settings: Settings) -> date | None:
    """The newest survey day loaded, for a check run outside a partitioned run."""
    return pg_value(settings, "SELECT max(surveyed_on) FROM raw_yelp.businesses")  # type: ignore[no-any-return]


BUSINESS_CHECKS = (
    "rating_in_steps", "review_count_non_negative", "coordinates_valid", "price_levels",
    "ids_unique_per_day", "state_codes_known",
)  # fmt: skip


def business_checks(settings: Settings, days: Sequence[date]) -> list[Outcome]:
    """The six business checks over the given survey days."""
    states = pg_frame(
        settings, "SELECT DISTINCT postal_abbreviation FROM raw_states.state_abbreviations"
    )
    codes = sorted(states["postal_abbreviation"].dropna())
    parts: dict[str, list[Outcome]] = {}
    for day in days:
        frame = pg_frame(
            settings,
            "SELECT id, surveyed_on, rating, review_count, latitude, longitude, price, state "
            "FROM raw_yelp.businesses WHERE surveyed_on = %s",
            (day,),
        )
        if frame.empty:
            # a surveyed day without a business is a failed or lost extraction, not a pass
            for name in BUSINESS_CHECKS:
                parts.setdefault(name, []).append(Outcome(
                    name, False,
                    f"{day}: no rows in raw_yelp.businesses; extract it again with "
                    f"`gourmand materialize --partition {day}`",
                    BY_NAME[name].description,
                ))  # fmt: skip
            continue
        for outcome in (
            validate("rating_in_steps", frame,
                     [expect("ExpectColumnValuesToBeInSet", column="rating", value_set=RATINGS)],
                     KEY),
            validate("review_count_non_negative", frame,
                     [expect("ExpectColumnValuesToBeBetween", column="review_count",
                             min_value=0)],
                     KEY),
            validate("coordinates_valid", frame,
                     [expect("ExpectColumnValuesToBeBetween", column="latitude",
                             min_value=-90, max_value=90),
                      expect("ExpectColumnValuesToBeBetween", column="longitude",
                             min_value=-180, max_value=180)],
                     KEY),
            validate("price_levels", frame,
                     [expect("ExpectColumnValuesToBeInSet", column="price", value_set=PRICES)],
                     KEY),
            validate("ids_unique_per_day", frame,
                     [expect("ExpectColumnValuesToNotBeNull", column="id"),
                      expect("ExpectCompoundColumnsToBeUnique", column_list=list(KEY))],
                     KEY),
            validate("state_codes_known", frame,
                     [expect("ExpectColumnValuesToBeInSet", column="state", value_set=codes)],
                     KEY),
        ):  # fmt: skip
            parts.setdefault(outcome.check, []).append(outcome)
    return [merge(name, parts.get(name, [])) for name in BUSINESS_CHECKS]


def census_checks(settings: Settings) -> list[Outcome]:
    frame = pg_frame(
        settings,
        "SELECT state_fips, county_fips, date_code, pop FROM raw_census.county_population",
    )
    key = ("state_fips", "county_fips", "date_code")
    return [
        validate(
            "population_positive",
            frame,
            [expect("ExpectColumnValuesToBeBetween", column="pop", min_value=1)],
            key,
            require_rows=True,
        )
    ]


REQUESTS = "raw_socrata.service_requests"


def service_request_checks(settings: Settings) -> list[Outcome]:
    """The 311 raw checks. At 311 volume (millions of rows) Postgres finds the candidate rows
    and GX judges and reports those, so no check pulls the whole table into memory."""
    if pg_value(settings, "SELECT to_regclass(%s)", (REQUESTS,)) is None:
        return [
            Outcome(name, True, "no 311 load yet", BY_NAME[name].description)
            for name in ("service_request_keys_unique", "service_request_closed_after_created")
        ]
    total = int(pg_value(settings, f"SELECT count(*) FROM {REQUESTS}"))
    duplicated = pg_frame(
        settings,
        f"SELECT srnumber, count(*) AS copies FROM {REQUESTS} "
        "GROUP BY srnumber HAVING count(*) > 1 OR srnumber IS NULL",
    )
    backwards = pg_frame(
        settings,
        f"SELECT srnumber, createddate::text, closeddate::text, false AS closed_after_created "
        f"FROM {REQUESTS} WHERE closeddate < createddate",
    )
    outcomes = [
        validate("service_request_keys_unique", duplicated,
                 [expect("ExpectColumnValuesToNotBeNull", column="srnumber"),
                  expect("ExpectColumnValuesToBeBetween", column="copies", max_value=1)],
                 ("srnumber",)),
        validate("service_request_closed_after_created", backwards,
                 [expect("ExpectColumnValuesToBeInSet", column="closed_after_created",
                         value_set=[True])],
                 ("srnumber",)),
    ]  # fmt: skip
    for outcome in outcomes:
        outcome.rows = total
        outcome.observed = (
            f"{total} rows, all as expected"
            if outcome.passed
            else f"of {total} rows, Postgres found candidates; {outcome.observed}"
        )
    return outcomes


HR_LOADS = "raw_hr._loads"
HR_MAX_REJECTED_SHARE = 0.05


def _last_checked(settings: Settings, check: str) -> Any:
    """When `check` last recorded a result (None before its first)."""
    import pandas as pd

    if pg_value(settings, "SELECT to_regclass('quality.check_results')") is None:
        return None
    value = pg_value(
        settings, "SELECT max(checked_at) FROM quality.check_results WHERE check_name = %s",
        (check,),
    )  # fmt: skip
    return None if value is None or pd.isna(value) else value.to_pydatetime()


def hr_checks(settings: Settings) -> list[Outcome]:
    """Rejected share per HR batch: each batch is judged by the first check after it landed
    (batches newer than this check's last recorded result), so an old bad file does not fail
    every later run, and a new one is never skipped."""
    name = "hr_rejected_share"
    if pg_value(settings, "SELECT to_regclass(%s)", (HR_LOADS,)) is None:
        return [Outcome(name, True, "no HR batch yet", BY_NAME[name].description)]
    since = _last_checked(settings, name)
    batches = pg_frame(
        settings,
        f"SELECT resource, batch, context, received, rejected, "
        f"round(rejected::numeric / greatest(received, 1), 4)::float AS rejected_share "
        f"FROM {HR_LOADS} WHERE %s::timestamptz IS NULL OR extracted_at > %s::timestamptz "
        f"ORDER BY extracted_at",
        (since, since),
    )
    if batches.empty:
        return [Outcome(name, True, "no new HR batch since the last check",
                        BY_NAME[name].description)]  # fmt: skip
    return [
        validate(name, batches,
                 [expect("ExpectColumnValuesToBeBetween", column="rejected_share",
                         max_value=HR_MAX_REJECTED_SHARE)],
                 ("resource", "batch", "context", "received", "rejected"))
    ]  # fmt: skip
