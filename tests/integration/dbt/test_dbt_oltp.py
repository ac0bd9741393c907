"""dbt_oltp on a real Postgres, fed by the real extraction from the sandbox."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from extract.pipelines import run_source
from extract.runtime.dbt_invoke import DbtRun, run_dbt
from extract.runtime.postgres import connect
from tests.support import new_database, pg_rows, settings_for

pytestmark = pytest.mark.integration

DAY1 = date(2024, 1, 1)
DAY2 = DAY1 + timedelta(days=30)  # far enough apart for renames and closures to happen
OLTP_TABLES = (
    "country", "state", "county", "city", "payment_level", "business", "business_category",
    "business_category_bridge", "transaction_type", "business_transaction_bridge",
    "business_holding", "review", "user", "event", "event_category", "county_growth",
)  # fmt: skip


def dbt_build(settings, tmp_path: Path, *extra: str) -> DbtRun:
    return run_dbt("dbt_oltp", ["build", *extra], settings, target_path=tmp_path)


rows = pg_rows


def fingerprint(settings) -> dict[str, str]:
    """Content (every column, last_edited_at included) of every OLTP table."""
    out = {}
    for table in OLTP_TABLES:
        [(digest,)] = rows(
            settings,
            f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
            f'from oltp."{table}" t',
        )
        out[table] = digest
    return out


@pytest.fixture(scope="module")
def two_days(base_dsn, tmp_path_factory):
    """Two sandbox days 30 days apart, each extracted and built; shared by the module's tests,
    which only read it or rebuild it to the same content."""
    from extract.sandbox import SandboxConfig, SandboxServer

    tmp_path = tmp_path_factory.mktemp("two-days")
    server = SandboxServer(SandboxConfig(counties=2, businesses_per_county=50)).start()
    try:
        with new_database(base_dsn) as dsn:
            settings = settings_for(tmp_path / "home", dsn, server)
            yield _build_two_days(settings, tmp_path)
    finally:
        server.stop()


def _build_two_days(settings, tmp_path):
    run_source("states", settings=settings)
    run_source("census", settings=settings)
    run_source("yelp", day=DAY1, settings=settings)
    first = dbt_build(settings, tmp_path)
    assert first.returncode == 0, first.stdout[-3000:]
    before = {
        "keys": dict(rows(settings, "select yelp_business_id, business_id from oltp.business")),
        "edited": dict(
            rows(settings, "select yelp_business_id, last_edited_at from oltp.business")
        ),
    }  # fmt: skip
    run_source("yelp", day=DAY2, settings=settings)
    second = dbt_build(settings, tmp_path)
    assert second.returncode == 0, second.stdout[-3000:]
    return settings, before


def test_one_holding_per_open_business_per_day(two_days):
    settings, _ = two_days
    for day in (DAY1, DAY2):
        [(raw,)] = rows(
            settings, "select count(*) from raw_yelp.businesses where surveyed_on = %s", day
        )
        [(held,)] = rows(
            settings, "select count(*) from oltp.business_holding where surveyed_on = %s", day
        )
        assert held == raw > 0
    assert (
        rows(
            settings,
            "select business_id, surveyed_on from oltp.business_holding "
            "group by 1, 2 having count(*) > 1",
        )
        == []
    )


def test_renamed_business_updates_its_row_and_last_edited_at(two_days):
    settings, before = two_days
    renamed = rows(
        settings,
        "select d2.id, d2.name from raw_yelp.businesses d1 join raw_yelp.businesses d2 "
        "on d1.id = d2.id where d1.surveyed_on = %s and d2.surveyed_on = %s "
        "and d1.name <> d2.name",
        DAY1, DAY2,
    )  # fmt: skip
    assert renamed, "the sandbox renames some businesses within 30 days"
    current = dict(rows(settings, "select yelp_business_id, chain_name from oltp.business"))
    edited = dict(rows(settings, "select yelp_business_id, last_edited_at from oltp.business"))
    for yelp_id, new_name in renamed:
        assert current[yelp_id] == new_name
        assert edited[yelp_id] > before["edited"][yelp_id]


def test_closed_business_gets_valid_to_and_keeps_history(two_days):
    settings, _ = two_days
    closed = rows(
        settings,
        "select id from raw_yelp.businesses where surveyed_on = %s except "
        "select id from raw_yelp.businesses where surveyed_on = %s",
        DAY1, DAY2,
    )  # fmt: skip
    assert closed, "the sandbox closes some businesses within 30 days"
    for (yelp_id,) in closed:
        [(status, valid_to, holdings)] = rows(
            settings,
            "select b.business_status, b.valid_to, count(h.surveyed_on) from oltp.business b "
            "left join oltp.business_holding h on h.business_id = b.business_id "
            "where b.yelp_business_id = %s group by 1, 2",
            yelp_id,
        )
        # valid_to: the first survey day it was no longer listed
        assert status == "closed" and valid_to == DAY2 and holdings == 1


def test_keys_of_existing_rows_do_not_change(two_days):
    settings, before = two_days
    after = dict(rows(settings, "select yelp_business_id, business_id from oltp.business"))
    assert len(after) > len(before["keys"]), "day 2 brought new businesses"
    assert {k: after[k] for k in before["keys"]} == before["keys"]


def test_rebuilding_on_the_same_data_changes_nothing_and_keeps_the_constraints(two_days, tmp_path):
    settings, _ = two_days
    first = fingerprint(settings)
    again = dbt_build(settings, tmp_path)
    assert again.returncode == 0, again.stdout[-3000:]
    assert fingerprint(settings) == first
    [(fks,)] = rows(
        settings,
        "select count(*) from information_schema.table_constraints "
        "where table_schema = 'oltp' and constraint_type = 'FOREIGN KEY'",
    )
    assert fks >= 10


def test_full_refresh_rebuilds_the_same_content(two_days, tmp_path):
    settings, _ = two_days
    columns = "business_id, yelp_business_id, chain_name, business_status, valid_from, valid_to"
    before = rows(settings, f"select {columns} from oltp.business order by 1")
    holdings = rows(settings, "select * from oltp.business_holding order by 1, 2")
    rebuilt = dbt_build(
        settings, tmp_path, "--full-refresh", "--exclude-resource-type", "unit_test"
    )
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    assert rows(settings, f"select {columns} from oltp.business order by 1") == before
    after = rows(settings, "select * from oltp.business_holding order by 1, 2")
    assert [r[:4] for r in after] == [r[:4] for r in holdings]


def test_a_business_without_id_fails_a_test_naming_the_table(sandbox_settings, tmp_path):
    settings, _ = sandbox_settings(counties=1, businesses_per_county=10)
    run_source("states", settings=settings)
    run_source("census", settings=settings)
    run_source("yelp", day=DAY1, settings=settings)
    conn = connect(settings)
    with conn, conn.cursor() as cur:
        cur.execute("alter table raw_yelp.businesses alter column id drop not null")
        cur.execute(
            "insert into raw_yelp.businesses (id, surveyed_on, name, search_location, "
            "extracted_at, _dlt_load_id, _dlt_id) select null, surveyed_on, 'No Id', "
            "search_location, extracted_at, _dlt_load_id, 'manual-no-id' "
            "from raw_yelp.businesses limit 1"
        )
    conn.close()
    result = dbt_build(settings, tmp_path, "--exclude-resource-type", "unit_test")
    assert result.returncode != 0
    assert "source_not_null_raw_yelp_businesses_id" in result.stdout
    # the failing source test stops everything downstream: nothing half-checked is loaded
    assert rows(settings, "select to_regclass('oltp.business') is null") == [(True,)]
