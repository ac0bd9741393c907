"""OLTP layer: relational invariants that dbt's generic tests do not express well."""

from __future__ import annotations

from collections.abc import Callable

from expectations.db import pg_frame
from expectations.runner import Outcome, expect, validate
from extract.settings import Settings

MAX_YEARLY_CHANGE = 0.10  # a county growing or shrinking >10% in a year is a data error


def _open_businesses_held(settings: Settings) -> Outcome:
    open_businesses = pg_frame(
        settings,
        """
        WITH latest AS (SELECT max(surveyed_on) AS day FROM oltp.business_holding)
        SELECT b.yelp_business_id, latest.day AS latest_day,
               h.business_id IS NOT NULL AS held_latest_day
        FROM oltp.business AS b
        CROSS JOIN latest
        LEFT JOIN oltp.business_holding AS h
            ON h.business_id = b.business_id AND h.surveyed_on = latest.day
        WHERE b.valid_to IS NULL
        """,
    )
    return validate(
        "open_businesses_held_latest_day",
        open_businesses,
        [expect("ExpectColumnValuesToBeInSet", column="held_latest_day", value_set=[True])],
        ("yelp_business_id", "latest_day"),
        require_rows=True,
    )


def _population_change(settings: Settings) -> Outcome:
    changes = pg_frame(
        settings,
        """
        SELECT c.county_name, g.estimation_year, g.population,
               g.population::float8
               / lag(g.population) OVER (PARTITION BY g.county_id ORDER BY g.estimation_year)
               - 1 AS yearly_change
        FROM oltp.county_growth AS g
        JOIN oltp.county AS c USING (county_id)
        """,
    )
    return validate(
        "population_change_plausible",
        changes,
        [
            expect(
                "ExpectColumnValuesToBeBetween",
                column="yearly_change",
                min_value=-MAX_YEARLY_CHANGE,
                max_value=MAX_YEARLY_CHANGE,
            )
        ],
        ("county_name", "estimation_year"),
        require_rows=True,
    )


# check name -> the function that runs it; suites.run_checks runs the asset's ones
CHECKS: dict[str, Callable[[Settings], Outcome]] = {
    "open_businesses_held_latest_day": _open_businesses_held,
    "population_change_plausible": _population_change,
}
