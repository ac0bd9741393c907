"""Warehouse layer: the daily fact's coverage and freshness, and SCD2 history without gaps or
overlaps. Read as aggregates (one row per day, one per version boundary), so memory stays
bounded whatever the fact's size."""

from __future__ import annotations

from collections.abc import Callable

from expectations.db import pg_value, warehouse_frame
from expectations.runner import Outcome, expect, validate
from extract.settings import Settings


def _fact_rows_every_day(settings: Settings) -> Outcome:
    per_day = warehouse_frame(
        settings,
        """
        with days as (
            select surveyed_on, count(*) as holdings
            from dwh.fct_business_holding group by surveyed_on
        )
        select cast(d.date_day as varchar) as survey_day, coalesce(days.holdings, 0) as holdings
        from dwh.dim_date as d
        left join days on days.surveyed_on = d.date_day
        where d.date_day between (select min(surveyed_on) from days)
            and (select max(surveyed_on) from days)
        order by 1
        """,
    )
    return validate(
        "fact_rows_every_day",
        per_day,
        [expect("ExpectColumnValuesToBeBetween", column="holdings", min_value=1)],
        ("survey_day",),
        expected="facts on every day from the first survey day to the newest; the days listed "
        "have none: survey them with `gourmand materialize --partition <day>` (any order)",
        require_rows=True,
    )


def _scd2_no_gaps_or_overlaps(settings: Settings) -> Outcome:
    versions = warehouse_frame(
        settings,
        """
        select business_id, cast(valid_from as varchar) as valid_from,
            cast(previous_valid_to as varchar) as previous_valid_to,
            previous_valid_to is null or previous_valid_to = valid_from as tiles
        from (
            select business_id, valid_from,
                lag(valid_to) over (partition by business_id order by valid_from)
                    as previous_valid_to,
                row_number() over (partition by business_id order by valid_from) as version
            from dwh.dim_business
        ) as v
        where version > 1
        """,
    )
    return validate(
        "scd2_no_gaps_or_overlaps",
        versions,
        [expect("ExpectColumnValuesToBeInSet", column="tiles", value_set=[True])],
        ("business_id", "valid_from", "previous_valid_to"),
    )


def _fact_fresh(settings: Settings) -> Outcome:
    newest_fact = warehouse_frame(
        settings, "select cast(max(surveyed_on) as varchar) as newest from dwh.fct_business_holding"
    )
    newest_raw = pg_value(settings, "SELECT max(surveyed_on)::text FROM raw_yelp.businesses")
    # an empty fact is "none" (GX skips nulls: a null would pass against any day)
    newest_fact["newest"] = newest_fact["newest"].fillna("none")
    return validate(
        "fact_fresh",
        newest_fact,
        [expect("ExpectColumnValuesToBeInSet", column="newest", value_set=[newest_raw])],
        ("newest",),
        expected=f"the newest fact day is the newest survey day in raw_yelp ({newest_raw}); "
        "if not, build the warehouse (`gourmand materialize --partition <that day>`)",
    )


def _service_request_fresh(settings: Settings) -> Outcome:
    newest_fact = warehouse_frame(
        settings,
        "select cast(max(updated_at) as varchar) as newest from dwh.fct_service_request",
    )
    newest_raw = None
    if pg_value(settings, "SELECT to_regclass('raw_socrata.service_requests')") is not None:
        newest_raw = pg_value(
            settings, "SELECT max(updateddate)::text FROM raw_socrata.service_requests"
        )
    # both as UTC text from different engines: compare the instants, not the spellings; an
    # empty fact is "none" (GX skips nulls, so a null would pass against any raw timestamp)
    newest_fact["newest"] = newest_fact["newest"].map(lambda t: _instant(t) or "none")
    return validate(
        "service_request_fresh",
        newest_fact,
        [expect("ExpectColumnValuesToBeInSet", column="newest",
                value_set=[_instant(newest_raw) or "none"])],
        ("newest",),
        expected="the newest updated_at in the fact is the newest updateddate in raw_socrata "
        f"({newest_raw})",
    )  # fmt: skip


def _instant(text: str | None) -> str | None:
    """A timestamp's text as ISO UTC, whichever engine wrote it."""
    if text is None:
        return None
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(str(text))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


# check name -> the function that runs it; suites.run_checks runs the asset's ones
CHECKS: dict[str, Callable[[Settings], Outcome]] = {
    "fact_rows_every_day": _fact_rows_every_day,
    "scd2_no_gaps_or_overlaps": _scd2_no_gaps_or_overlaps,
    "fact_fresh": _fact_fresh,
    "service_request_fresh": _service_request_fresh,
}
