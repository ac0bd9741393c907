"""LA 311 through the whole chain on real parts: the socrata load into Postgres, dbt_oltp's
lookups, service_request (with foreign keys) and the swapped-in summary, the lake export, and
dbt_dwh's fct_service_request and 311 marts in DuckDB; then an update run through the same chain.

The marts are checked against figures computed here from the raw rows, not against themselves."""

from __future__ import annotations

import statistics
from datetime import date
from pathlib import Path

import duckdb
import pytest

from extract.lake.export import export_oltp
from extract.pipelines import run_source
from extract.runtime.dbt_invoke import run_dbt
from tests.support import new_database, pg_rows, settings_for

pytestmark = pytest.mark.integration

YEARS = "2023,2024"
PER_YEAR = 2500
DAY = date(2024, 1, 1)


def build(settings, work: Path, project: str) -> None:
    run = run_dbt(
        project, ["build", "--exclude-resource-type", "unit_test"], settings,
        target_path=work / project,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:]


def chain(settings, work: Path) -> dict[str, int]:
    build(settings, work, "dbt_oltp")
    exported = export_oltp(settings)
    build(settings, work, "dbt_dwh")
    return exported.rows


def dwh(settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _server(**knobs):
    from extract.sandbox import SandboxConfig, SandboxServer

    config = SandboxConfig(
        counties=1, businesses_per_county=20, socrata_years=YEARS,
        socrata_rows_per_year=PER_YEAR, **knobs,
    )  # fmt: skip
    return SandboxServer(config).start()


@pytest.fixture(scope="module")
def loaded(base_dsn, tmp_path_factory):
    """Full load of two years through the chain, then an update (1% changed, 30 new) through
    it again; yields what each step reported."""
    work = tmp_path_factory.mktemp("socrata-chain")
    base = _server()
    changed = _server(socrata_changed_fraction=0.01, socrata_new_rows=30)
    try:
        with new_database(base_dsn) as dsn:
            settings = settings_for(
                work / "home", dsn, base, GOURMAND_SOCRATA_BASE_URL=base.url,
                GOURMAND_SOCRATA_YEARS=YEARS,
            )  # fmt: skip
            run_source("states", settings=settings, to_lake=False)
            run_source("census", settings=settings, to_lake=False)
            run_source("yelp", day=DAY, settings=settings, to_lake=False)
            full = run_source("socrata", settings=settings, options={"mode": "full"})
            first = chain(settings, work)
            first_oltp = dict(
                pg_rows(settings, "select srnumber, last_edited_at from oltp.service_request")
            )
            settings = settings.with_(socrata_base_url=changed.url)
            update = run_source("socrata", settings=settings, options={"mode": "update"})
            second = chain(settings, work)
            yield settings, full.load, update.load, first, second, first_oltp
    finally:
        base.stop()
        changed.stop()


def test_oltp_holds_every_request_once_with_its_foreign_keys(loaded):
    settings, full, update, *_ = loaded
    total = full["inserted"] + update["inserted"]
    assert pg_rows(
        settings, "select count(*), count(distinct srnumber) from oltp.service_request"
    ) == [(total, total)]
    # the raw table and the OLTP table agree on every request's latest timestamp
    assert pg_rows(
        settings,
        "select count(*) from raw_socrata.service_requests r "
        "join oltp.service_request s using (srnumber) where r.updateddate = s.updated_at",
    ) == [(total,)]
    # four foreign keys, still there after the second build (lookups are merged, not rebuilt)
    assert pg_rows(
        settings,
        "select count(*) from information_schema.table_constraints where table_schema = 'oltp' "
        "and table_name = 'service_request' and constraint_type = 'FOREIGN KEY'",
    ) == [(4,)]
    types = pg_rows(
        settings, "select count(distinct requesttype) from raw_socrata.service_requests"
    )
    assert pg_rows(settings, "select count(*) from oltp.request_type") == types


def test_the_update_touches_only_the_changed_requests(loaded):
    settings, _, update, first, second, first_oltp = loaded
    changed = update["inserted"] + update["updated"]
    assert update["inserted"] == 30 and update["updated"] > 0
    assert first["service_request"] == 2 * PER_YEAR
    # the second export carries exactly the requests the update changed
    assert second["service_request"] == changed
    now = dict(pg_rows(settings, "select srnumber, last_edited_at from oltp.service_request"))
    moved = [s for s, edited in now.items() if first_oltp.get(s) != edited]
    assert len(moved) == changed


def test_the_fact_matches_the_raw_rows(loaded):
    settings, full, update, *_ = loaded
    total = full["inserted"] + update["inserted"]
    assert dwh(settings, "select count(*), count(distinct srnumber) from dwh.fct_service_request") \
        == [(total, total)]  # fmt: skip
    raw_open = pg_rows(
        settings, "select count(*) from raw_socrata.service_requests where closeddate is null"
    )[0][0]
    assert dwh(settings, "select sum(open_requests) from marts.open_backlog_by_council") == [
        (raw_open,)
    ]
    assert dwh(settings, "select sum(requests) from marts.service_requests_per_type_per_month") == [
        (total,)
    ]
    # every fact's opening day is in dim_date
    assert dwh(
        settings,
        "select count(*) from dwh.fct_service_request f left join dwh.dim_date d "
        "on f.created_date_key = d.date_key where d.date_key is null",
    ) == [(0,)]


def test_median_days_to_close_per_agency_matches_python(loaded):
    settings = loaded[0]
    rows = pg_rows(
        settings,
        "select coalesce(owner, 'Unknown'), extract(epoch from closeddate - createddate) / 86400 "
        "from raw_socrata.service_requests where closeddate is not null",
    )
    by_agency: dict[str, list[float]] = {}
    for agency, days in rows:
        by_agency.setdefault(agency, []).append(float(days))
    mart = dict(
        (agency, (closed, median))
        for agency, closed, median in dwh(
            settings,
            "select agency_code, closed_requests, median_days_to_close "
            "from marts.days_to_close_by_agency",
        )
    )
    assert set(mart) == set(by_agency)
    for agency, days in by_agency.items():
        closed, median = mart[agency]
        assert closed == len(days)
        assert median == pytest.approx(statistics.median(days), abs=1e-6)


def test_the_summary_matches_python_per_month_type_and_agency(loaded):
    """reporting.service_request_summary (its medians from per-group arrays) against the
    groups computed here from the raw rows."""
    settings = loaded[0]
    rows = pg_rows(
        settings,
        "select date_trunc('month', createddate)::date, coalesce(requesttype, 'Unknown'), "
        "coalesce(owner, 'Unknown'), extract(epoch from closeddate - createddate) / 86400 "
        "from raw_socrata.service_requests",
    )
    groups: dict[tuple, list] = {}
    for month, kind, agency, days in rows:
        groups.setdefault((month, kind, agency), []).append(days)
    summary = {
        (month, kind, agency): (requests, closed, still_open, median)
        for month, kind, agency, requests, closed, still_open, median in pg_rows(
            settings,
            "select created_month, request_type_name, agency_code, requests, closed_requests, "
            "open_requests, median_days_to_close from reporting.service_request_summary",
        )
    }
    assert set(summary) == set(groups)
    for key, days in groups.items():
        closed_days = [float(d) for d in days if d is not None]
        requests, closed, still_open, median = summary[key]
        assert (requests, closed, still_open) == (len(days), len(closed_days),
                                                  len(days) - len(closed_days)), key  # fmt: skip
        if closed_days:
            assert median == pytest.approx(statistics.median(closed_days), abs=1e-6), key
        else:
            assert median is None, key


def test_the_summary_is_one_swapped_table(loaded):
    settings, full, update, *_ = loaded
    assert pg_rows(settings, "select sum(requests) from reporting.service_request_summary") == [
        (full["inserted"] + update["inserted"],)
    ]
    assert pg_rows(
        settings,
        "select count(*) from information_schema.tables where table_schema = 'reporting' "
        "and table_name like 'service_request_summary%%'",
    ) == [(1,)]


def test_the_311_quality_checks_pass_then_catch_faults(loaded):
    """Last in the module: it damages the data it checks."""
    from expectations.suites import run_checks
    from extract.runtime.postgres import connect

    settings = loaded[0]
    assets = (("raw_socrata", "service_requests"), ("dwh", "fct_service_request"))
    outcomes = {o.check: o for asset in assets for o in run_checks(settings, asset, [])}
    assert set(outcomes) == {
        "service_request_keys_unique",
        "service_request_closed_after_created",
        "service_request_fresh",
        "reconcile_service_request",
    }
    assert all(o.passed for o in outcomes.values()), [o.observed for o in outcomes.values()]

    [(victim,)] = pg_rows(
        settings,
        "select min(srnumber) from raw_socrata.service_requests where closeddate > createddate",
    )
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "update raw_socrata.service_requests set closeddate = createddate - interval '1 day' "
            "where srnumber = %s",
            (victim,),
        )
        cur.execute("delete from oltp.service_request where srnumber = %s", (victim,))
    conn.close()
    outcomes = {o.check: o for asset in assets for o in run_checks(settings, asset, [])}
    backwards = outcomes["service_request_closed_after_created"]
    assert not backwards.passed and [r["srnumber"] for r in backwards.sample] == [victim]
    reconciled = outcomes["reconcile_service_request"]
    assert not reconciled.passed and "oltp has" in reconciled.observed
    assert outcomes["service_request_keys_unique"].passed
