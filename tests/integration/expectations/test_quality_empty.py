"""A check never passes on nothing: an empty survey day, an empty table, an empty fact fail
with a message saying what is empty (GX alone passes every expectation on no rows)."""

from __future__ import annotations

from datetime import date

import duckdb

from expectations import raw, warehouse
from expectations.runner import merge, validate


def _owner_sql(settings, *statements: str) -> None:
    from extract.runtime.postgres import connect

    conn = connect(settings)
    with conn, conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    conn.close()


def test_an_empty_survey_day_fails_every_business_check_and_names_the_day(make_settings):
    settings = make_settings()
    _owner_sql(
        settings,
        "create schema raw_states; create table raw_states.state_abbreviations as "
        "select 'CA'::text as postal_abbreviation",
        "create schema raw_yelp; create table raw_yelp.businesses (id text, surveyed_on date, "
        "rating float8, review_count bigint, latitude float8, longitude float8, price text, "
        "state text)",
        "insert into raw_yelp.businesses values ('a', '2024-01-01', 4.5, 3, 34, -118, '$', 'CA')",
    )
    outcomes = raw.business_checks(settings, [date(2024, 1, 1), date(2024, 1, 2)])
    assert len(outcomes) == 6 and not any(o.passed for o in outcomes)
    for outcome in outcomes:
        assert outcome.observed.startswith("2024-01-02: no rows in raw_yelp.businesses"), outcome
        assert "--partition 2024-01-02" in outcome.observed
    # the day with rows alone passes
    assert all(o.passed for o in raw.business_checks(settings, [date(2024, 1, 1)]))


def test_an_empty_census_table_fails_population_positive(make_settings):
    settings = make_settings()
    _owner_sql(
        settings,
        "create schema raw_census; create table raw_census.county_population "
        "(state_fips text, county_fips text, date_code bigint, pop bigint)",
    )
    [outcome] = raw.census_checks(settings)
    assert not outcome.passed and outcome.observed.startswith("no rows to check")


def test_an_empty_fact_is_not_fresh(make_settings):
    settings = make_settings()
    _owner_sql(
        settings,
        "create schema raw_yelp; create table raw_yelp.businesses as "
        "select 'a'::text as id, date '2024-01-03' as surveyed_on",
    )
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create schema dwh; create table dwh.fct_business_holding (surveyed_on date)")
    con.execute("create table dwh.dim_date as select date '2024-01-03' as date_day")
    con.close()
    fresh = warehouse.CHECKS["fact_fresh"](settings)
    assert not fresh.passed and fresh.sample == [{"newest": "none"}]
    every_day = warehouse.CHECKS["fact_rows_every_day"](settings)
    assert not every_day.passed and every_day.observed.startswith("no rows to check")


def test_validate_and_merge_do_not_pass_on_nothing():
    import pandas as pd

    empty = pd.DataFrame({"pop": pd.Series([], dtype="int64")})
    from expectations.runner import expect

    rule = [expect("ExpectColumnValuesToBeBetween", column="pop", min_value=1)]
    assert validate("population_positive", empty, rule, ("pop",)).passed  # candidates: fine
    assert not validate("population_positive", empty, rule, ("pop",), require_rows=True).passed
    assert not merge("population_positive", []).passed
