"""Extraction against the real sandbox over HTTP into a real Postgres (and the lake folder)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import date, timedelta

import pyarrow.parquet as pq
import pytest

from extract.pipelines import run_source
from extract.runtime.postgres import connect
from extract.sources.rest import SourceUnavailable

pytestmark = pytest.mark.integration

DAY1 = date(2024, 1, 1)


def scalar(settings, sql, *params):
    conn = connect(settings, read_only=True)
    with conn.cursor() as cur:
        cur.execute(sql, params)
        value = cur.fetchone()[0]
    conn.close()
    return value


def table_counts(settings, schema):
    conn = connect(settings, read_only=True)
    counts = {}
    with conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name NOT LIKE '\\_dlt%%' ORDER BY 1",
            (schema,),
        )
        for (table,) in cur.fetchall():
            cur.execute(f'SELECT count(*) FROM {schema}."{table}"')
            counts[table] = cur.fetchone()[0]
    conn.close()
    return counts


def search_total(server, location, day):
    query = urllib.parse.urlencode({"location": location, "limit": 1, "day": day.isoformat()})
    req = urllib.request.Request(
        f"{server.url}/v3/businesses/search?{query}",
        headers={"Authorization": "Bearer sandbox-token"},
    )
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)["total"]


def load_reference(settings):
    run_source("states", settings=settings)
    run_source("census", settings=settings)


def test_states_page_lands_56_rows_in_postgres_and_lake(sandbox_settings):
    settings, _ = sandbox_settings(counties=2)
    run = run_source("states", settings=settings)
    assert scalar(settings, "select count(*) from raw_states.state_abbreviations") == 56
    kinds = scalar(settings, "select count(distinct kind) from raw_states.state_abbreviations")
    assert kinds == 2
    assert (
        scalar(
            settings,
            "select count(*) from raw_states.state_abbreviations "
            "where postal_abbreviation in ('US STATE', 'POSTAL ABBREVIATION')",
        )
        == 0
    )
    [files] = [t.lake_files for t in run.tables if t.table == "state_abbreviations"]
    assert pq.read_table(files[0]).num_rows == 56


def test_census_loads_every_county_and_date_code(sandbox_settings):
    settings, _ = sandbox_settings(counties=4)
    run_source("census", settings=settings)
    assert scalar(settings, "select count(distinct name) from raw_census.county_population") == 4
    assert scalar(settings, "select count(*) from raw_census.county_population") == 4 * 12
    assert (
        scalar(
            settings,
            "select count(*) from raw_census.county_population where estimate_year is null",
        )
        == 4 * 2
    )
    assert scalar(settings, "select min(pop) from raw_census.county_population") > 0


def test_all_search_pages_are_collected(sandbox_settings):
    settings, server = sandbox_settings(counties=2, businesses_per_county=120)
    load_reference(settings)
    run = run_source("yelp", day=DAY1, settings=settings)
    names = [
        r[0] for r in _rows(settings, "select distinct name from raw_census.county_population")
    ]
    expected = sum(search_total(server, name, DAY1) for name in names)
    assert expected > 100  # more than two pages per county
    assert scalar(settings, "select count(*) from raw_yelp.businesses") == expected
    assert scalar(settings, "select count(distinct id) from raw_yelp.businesses") == expected
    ledger = {e["resource"]: e for e in run.ledger}
    assert ledger["businesses"]["received"] == ledger["businesses"]["loaded"] == expected
    assert scalar(settings, "select count(*) from raw_yelp.businesses__categories") >= expected
    assert scalar(settings, "select count(*) from raw_yelp.reviews") > 0
    assert scalar(settings, "select count(*) from raw_yelp.events") > 0


def _rows(settings, sql, *params):
    conn = connect(settings, read_only=True)
    with conn.cursor() as cur:
        cur.execute(sql, params or None)
        rows = cur.fetchall()
    conn.close()
    return rows


def test_rate_limit_with_retry_after_is_retried_and_the_run_succeeds(sandbox_settings):
    settings, server = sandbox_settings(
        counties=1, businesses_per_county=30, rate_limit_every=4, retry_after=1
    )
    load_reference(settings)
    run_source("yelp", day=DAY1, settings=settings)
    total = search_total(
        server, _rows(settings, "select name from raw_census.county_population limit 1")[0][0], DAY1
    )
    assert scalar(settings, "select count(*) from raw_yelp.businesses") == total
    assert server.faults_served.get(429, 0) >= 3
    # each 429 was retried, and not before the Retry-After it carried (1 s)
    served = list(server.served)
    waits = []
    for i, (at, target, status) in enumerate(served):
        if status == 429:
            retried = next(t for t, again, _ in served[i + 1 :] if again == target)
            waits.append(retried - at)
    assert len(waits) >= 3 and min(waits) >= 0.95, waits


def test_persistent_5xx_fails_clearly_and_leaves_no_partial_day(sandbox_settings):
    settings, _ = sandbox_settings(counties=2, businesses_per_county=30, fail_pattern=r"/reviews")
    load_reference(settings)
    with pytest.raises(Exception) as info:
        run_source("yelp", day=DAY1, settings=settings)
    chain = []
    exc: BaseException | None = info.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    unavailable = [e for e in chain if isinstance(e, SourceUnavailable)]
    assert unavailable, f"expected SourceUnavailable in {chain!r}"
    assert "HTTP 500" in str(unavailable[0]) and "/reviews" in str(unavailable[0])
    assert scalar(settings, "select to_regclass('raw_yelp.businesses')") is None


def test_malformed_record_goes_to_rejects_and_the_rest_loads(sandbox_settings):
    settings, server = sandbox_settings(counties=2, businesses_per_county=40, malformed_every=7)
    load_reference(settings)
    run = run_source("yelp", day=DAY1, settings=settings)
    rejected = scalar(
        settings,
        "select count(*) from raw_yelp._rejects where resource = 'businesses' and batch = %s",
        DAY1.isoformat(),
    )
    loaded = scalar(settings, "select count(*) from raw_yelp.businesses")
    assert rejected > 0 and loaded > 0
    reason, payload = _rows(
        settings,
        "select reason, payload from raw_yelp._rejects where resource = 'businesses' limit 1",
    )[0]
    assert reason and json.loads(payload)
    ledger = {e["resource"]: e for e in run.ledger}["businesses"]
    assert ledger["received"] == ledger["loaded"] + ledger["rejected"]
    assert ledger["rejected"] == rejected and ledger["loaded"] == loaded


def test_rerunning_a_day_leaves_identical_row_counts(sandbox_settings):
    settings, _ = sandbox_settings(counties=2, businesses_per_county=30, malformed_every=9)
    load_reference(settings)
    run_source("yelp", day=DAY1, settings=settings)
    first = table_counts(settings, "raw_yelp")
    run_source("yelp", day=DAY1, settings=settings)
    load_reference(settings)
    assert table_counts(settings, "raw_yelp") == first
    assert first["_rejects"] > 0


def test_day_two_adds_one_snapshot_per_open_business(sandbox_settings):
    settings, server = sandbox_settings(counties=2, businesses_per_county=40)
    load_reference(settings)
    names = [
        r[0] for r in _rows(settings, "select distinct name from raw_census.county_population")
    ]
    day2 = DAY1 + timedelta(days=1)
    run_source("yelp", day=DAY1, settings=settings)
    day1_rows = scalar(settings, "select count(*) from raw_yelp.businesses")
    run_source("yelp", day=day2, settings=settings)
    open_on_day2 = sum(search_total(server, n, day2) for n in names)
    day2_rows = scalar(
        settings, "select count(*) from raw_yelp.businesses where surveyed_on = %s", day2
    )
    assert day2_rows == open_on_day2
    assert scalar(settings, "select count(*) from raw_yelp.businesses") == day1_rows + day2_rows
    assert (
        scalar(
            settings,
            "select count(*) from (select id, surveyed_on, count(*) "
            "from raw_yelp.businesses group by 1, 2 having count(*) > 1) d",
        )
        == 0
    )


def test_lake_partitions_mirror_each_day_and_are_replaced_on_rerun(sandbox_settings):
    settings, _ = sandbox_settings(counties=1, businesses_per_county=25)
    load_reference(settings)
    run_source("yelp", day=DAY1, settings=settings)
    run_source("yelp", day=DAY1, settings=settings)
    lake_root = settings.lake_url.removeprefix("file://")
    import glob

    files = glob.glob(f"{lake_root}/raw/yelp/businesses/surveyed_on=2024-01-01/*.parquet")
    assert len(files) == 1
    assert pq.read_table(files[0]).num_rows == scalar(
        settings, "select count(*) from raw_yelp.businesses"
    )
    nested = glob.glob(f"{lake_root}/raw/yelp/businesses__categories/surveyed_on=2024-01-01/*")
    assert nested and pq.read_table(nested[0]).num_rows == scalar(
        settings, "select count(*) from raw_yelp.businesses__categories"
    )


def test_rejects_table_exists_before_the_first_reject_and_then_receives_it(sandbox_settings):
    settings, server = sandbox_settings(counties=1, businesses_per_county=20)
    load_reference(settings)
    run_source("yelp", day=DAY1, settings=settings)
    assert scalar(settings, "select count(*) from raw_yelp._rejects") == 0
    server.stop()
    bad, _ = sandbox_settings(counties=1, businesses_per_county=20, malformed_every=3)
    settings = settings.with_(yelp_base_url=bad.yelp_base_url)
    run_source("yelp", day=DAY1 + timedelta(days=1), settings=settings)
    assert scalar(settings, "select count(*) from raw_yelp._rejects") > 0


def _lake_rows(settings, table):
    """{partition folder: rows} of a raw Yelp table in the lake."""
    import glob

    lake_root = settings.lake_url.removeprefix("file://")
    return {
        path.split("/")[-2]: pq.read_table(path).num_rows
        for path in glob.glob(f"{lake_root}/raw/yelp/{table}/*/*.parquet")
    }


def test_days_loaded_together_equal_the_same_days_loaded_one_by_one(sandbox_settings, base_dsn):
    from extract.pipelines import run_days
    from tests.support import new_database, settings_for

    together, server = sandbox_settings(counties=2, businesses_per_county=15, malformed_every=7)
    days = [DAY1 + timedelta(days=i) for i in range(3)]
    load_reference(together)
    # a day loaded before: the load of three days replaces it, as a re-run of it would
    run_source("yelp", day=days[1], settings=together)
    runs = run_days("yelp", days, settings=together)
    with new_database(base_dsn) as dsn:
        alone = settings_for(together.home.parent / "alone", dsn, server)
        load_reference(alone)
        single = [run_source("yelp", day=d, settings=alone) for d in days]
        single[1] = run_source("yelp", day=days[1], settings=alone)
        for table in ("businesses", "businesses__categories", "reviews", "events"):
            strip = "select {} from raw_yelp.{} order by 1, 2, 3"
            cols = [
                r[0]
                for r in _rows(
                    together,
                    "select column_name from information_schema.columns where table_schema = "
                    "'raw_yelp' and table_name = %s and column_name not in "
                    "('_dlt_load_id', '_dlt_id', 'extracted_at') order by ordinal_position",
                    table,
                )
            ]
            query = strip.format(", ".join(f'"{c}"' for c in cols), table)
            assert _rows(together, query) == _rows(alone, query), table
            assert _lake_rows(together, table) == _lake_rows(alone, table), table
        ledger = (
            "select resource, batch, received, loaded, rejected from raw_yelp._loads order by 1, 2"
        )
        assert _rows(together, ledger) == _rows(alone, ledger)
        rejects = "select resource, batch, reason, payload from raw_yelp._rejects order by 1, 2, 4"
        assert _rows(together, rejects) == _rows(alone, rejects)
        assert len(_rows(together, rejects)) > 0
    # one load for the three days, reported per day like three loads
    assert [r.batch for r in runs] == [d.isoformat() for d in days]
    assert len({tuple(r.load_ids) for r in runs}) == 1
    for run, one in zip(runs, single, strict=True):
        assert {t.table: t.rows for t in run.tables} == {t.table: t.rows for t in one.tables}
        got = {t.table: (t.inserted, t.updated) for t in run.tables if not t.table.startswith("_")}
        assert got == {
            t.table: (t.inserted, t.updated) for t in one.tables if not t.table.startswith("_")
        }
        assert run.ledger == one.ledger
