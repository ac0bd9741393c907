"""The lake export and dbt_dwh on real Postgres, real Parquet files and a real DuckDB file, fed by
the real extraction from the sandbox: two survey days, each exported and built in turn."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from extract.lake.export import export_oltp
from extract.lake.files import list_files, open_lake
from extract.pipelines import run_source
from extract.runtime.dbt_invoke import run_dbt
from extract.warehouse.load import copy_lake_to_postgres
from tests.support import new_database, pg_rows, settings_for

pytestmark = pytest.mark.integration

DAY1 = date(2024, 1, 1)
DAY2 = DAY1 + timedelta(days=30)  # far enough apart for renames and closures to happen
MARTS = (
    "businesses_per_100k_by_county",
    "rating_distribution_by_price",
    "reviews_by_payment_level",
    "top_review_count_changes",
)


def build(settings, work: Path, project: str, *args: str) -> None:
    run = run_dbt(project, [*args], settings, target_path=work / project)
    assert run.returncode == 0, run.stdout[-4000:]


def survey_day(settings, work: Path, day: date) -> dict[str, int]:
    """One day through the whole chain: extract, dbt_oltp, lake export, dbt_dwh."""
    run_source("yelp", day=day, settings=settings, to_lake=False)
    build(settings, work, "dbt_oltp", "build", "--exclude-resource-type", "unit_test")
    exported = export_oltp(settings)
    build(settings, work, "dbt_dwh", "build")
    return exported.rows


def dwh(settings, sql: str, *params) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


raw = pg_rows


def checksums(settings) -> dict[str, tuple]:
    tables = dwh(
        settings,
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in ('dwh', 'marts') order by 1",
    )
    return {
        name: dwh(
            settings,
            f"select count(*), md5(coalesce(string_agg(x, '|' order by x), '')) "
            f"from (select cast(t as varchar) as x from {name} t)",
        )[0]
        for (name,) in tables
    }


@pytest.fixture(scope="module")
def two_days(base_dsn, tmp_path_factory):
    from extract.sandbox import SandboxConfig, SandboxServer

    work = tmp_path_factory.mktemp("dwh-two-days")
    server = SandboxServer(SandboxConfig(counties=2, businesses_per_county=50)).start()
    try:
        with new_database(base_dsn) as dsn:
            settings = settings_for(work / "home", dsn, server)
            run_source("states", settings=settings, to_lake=False)
            run_source("census", settings=settings, to_lake=False)
            first = survey_day(settings, work, DAY1)
            second = survey_day(settings, work, DAY2)
            yield settings, work, first, second
    finally:
        server.stop()


def renamed_ids(settings) -> list[tuple[str, str, str]]:
    return raw(
        settings,
        "select d1.id, d1.name, d2.name from raw_yelp.businesses d1 join raw_yelp.businesses d2 "
        "on d1.id = d2.id where d1.surveyed_on = %s and d2.surveyed_on = %s "
        "and d1.name <> d2.name",
        DAY1, DAY2,
    )  # fmt: skip


def test_the_export_writes_only_what_changed(two_days):
    settings, _, first, second = two_days
    assert first["business"] == 100 and first["business_holding"] == 100
    # day 2 exports day 2's holdings, not the history; unchanged tables export nothing
    [(day2_holdings, all_holdings)] = raw(
        settings,
        "select count(*) filter (where surveyed_on = %s), count(*) from oltp.business_holding",
        DAY2,
    )
    assert second["business_holding"] == day2_holdings < all_holdings
    assert second["payment_level"] == 0 and second["country"] == 0


def test_a_renamed_business_has_two_contiguous_versions_and_facts_join_each(two_days):
    settings = two_days[0]
    renamed = renamed_ids(settings)
    assert renamed, "the sandbox renames some businesses within 30 days"
    for yelp_id, old_name, new_name in renamed:
        versions = dwh(
            settings,
            "select business_key, chain_name, valid_from, valid_to, is_current "
            "from dwh.dim_business where yelp_business_id = ? order by valid_from",
            yelp_id,
        )
        assert [v[1] for v in versions] == [old_name, new_name]
        (key1, _, from1, to1, current1), (key2, _, from2, to2, current2) = versions
        assert (from1, to1, from2) == (DAY1, DAY2, DAY2) and to2 == date(9999, 12, 31)
        assert (current1, current2) == (False, True)
        facts = dict(
            dwh(
                settings,
                "select f.surveyed_on, f.business_key from dwh.fct_business_holding f "
                "join dwh.dim_business d on f.business_id = d.business_id "
                "where d.yelp_business_id = ? and d.is_current",
                yelp_id,
            )
        )
        assert facts == {DAY1: key1, DAY2: key2}


def test_a_closed_business_keeps_its_history(two_days):
    settings = two_days[0]
    closed = raw(
        settings,
        "select id from raw_yelp.businesses where surveyed_on = %s except "
        "select id from raw_yelp.businesses where surveyed_on = %s",
        DAY1, DAY2,
    )  # fmt: skip
    assert closed
    for (yelp_id,) in closed:
        versions = dwh(
            settings,
            "select business_status, valid_from, valid_to, is_current from dwh.dim_business "
            "where yelp_business_id = ? order by valid_from",
            yelp_id,
        )
        assert versions[0][:2] == ("open", DAY1)
        assert versions[-1][0] == "closed" and versions[-1][3]
        [(status,)] = dwh(
            settings,
            "select d.business_status from dwh.fct_business_holding f "
            "join dwh.dim_business d using (business_key) "
            "where f.business_id = d.business_id and d.yelp_business_id = ? "
            "and f.surveyed_on = ?",
            yelp_id, DAY1,
        )  # fmt: skip
        assert status == "open"


def test_one_fact_per_business_per_day_and_every_fact_has_its_version(two_days):
    settings = two_days[0]
    [(holdings,)] = raw(settings, "select count(*) from oltp.business_holding")
    assert dwh(
        settings,
        "select count(*), count(distinct (business_id, surveyed_on)), count(business_key) "
        "from dwh.fct_business_holding",
    ) == [(holdings, holdings, holdings)]
    # intervals of one business never overlap and exactly one version is current
    assert (
        dwh(
            settings,
            "select a.business_id from dwh.dim_business a join dwh.dim_business b "
            "on a.business_id = b.business_id and a.business_key <> b.business_key "
            "and a.valid_from < b.valid_to and b.valid_from < a.valid_to",
        )
        == []
    )
    assert (
        dwh(
            settings,
            "select business_id from dwh.dim_business group by 1 "
            "having sum(case when is_current then 1 else 0 end) <> 1",
        )
        == []
    )
    [(first_day, last_day, days)] = dwh(
        settings, "select min(date_day), max(date_day), count(*) from dwh.dim_date"
    )
    assert first_day <= DAY1 and last_day >= DAY2 and days == (last_day - first_day).days + 1


def test_rerunning_export_and_warehouse_with_no_new_data_changes_nothing(two_days):
    settings, work, _, _ = two_days
    before = checksums(settings)
    lake = open_lake(settings)
    files_before = list_files(lake, "oltp")
    again = export_oltp(settings)
    assert again.total_rows == 0
    assert list_files(lake, "oltp") == files_before
    build(settings, work, "dbt_dwh", "build")
    assert checksums(settings) == before
    assert all(before[f"marts.{m}"][0] > 0 for m in MARTS)


def test_duplicate_lake_files_do_not_duplicate_warehouse_rows(two_days):
    """An export re-run after a crash can leave a second copy of a file: same rows twice."""
    settings, work, _, _ = two_days
    before = checksums(settings)
    lake = open_lake(settings)
    for table in ("business", "business_holding", "review", "business_category_bridge"):
        for path in list_files(lake, f"oltp/{table}"):
            lake.fs.copy(path, path.replace(".parquet", ".copy.parquet"))
    build(settings, work, "dbt_dwh", "build")
    assert checksums(settings) == before
    build(settings, work, "dbt_dwh", "build", "--full-refresh")
    # history is derived from the data, not from when it was built: a full refresh rebuilds
    # every table, versions included, to the same content
    assert checksums(settings) == before


def _normalized(rows: list[tuple]) -> list[tuple]:
    def norm(v):
        if isinstance(v, float) or type(v).__name__ == "Decimal":
            return None if v is None or math.isnan(float(v)) else round(float(v), 6)
        return v

    return sorted((tuple(norm(v) for v in r) for r in rows), key=repr)


def test_the_postgres_warehouse_gives_the_same_marts_and_builds_again(two_days):
    settings, work, _, _ = two_days
    pg = settings_for(work / "home", settings.oltp_dsn, None, GOURMAND_WAREHOUSE="postgres")
    copied = copy_lake_to_postgres(pg)
    assert copied["business_holding"] >= 100
    build(pg, work / "pg", "dbt_dwh", "build")
    for mart in MARTS:
        duck = dwh(settings, f"select * from marts.{mart}")
        post = raw(pg, f"select * from marts.{mart}")
        assert duck and _normalized(duck) == _normalized(post), mart
    # a second copy and build: the staging views depend on the lake tables, which the copy
    # refills in place instead of dropping
    first = {m: _normalized(raw(pg, f"select * from marts.{m}")) for m in MARTS}
    assert copy_lake_to_postgres(pg) == copied
    build(pg, work / "pg", "dbt_dwh", "build")
    assert {m: _normalized(raw(pg, f"select * from marts.{m}")) for m in MARTS} == first


def test_export_and_warehouse_on_an_s3_lake(sandbox_settings, s3_lake, tmp_path):
    """The lake on S3 (moto on 127.0.0.1): dlt writes there, DuckDB reads it through fsspec."""
    bucket = s3_lake.bucket
    settings, _ = sandbox_settings(
        s3_lake.env,
        counties=1,
        businesses_per_county=15,
    )
    run_source("states", settings=settings, to_lake=False)
    run_source("census", settings=settings, to_lake=False)
    rows = survey_day(settings, tmp_path, DAY1)
    assert rows["business_holding"] > 0
    lake = open_lake(settings)
    assert list_files(lake, "oltp/business_holding")[0].startswith(f"{bucket}/prod/oltp/")
    assert dwh(settings, "select count(*) from dwh.fct_business_holding") == [
        (rows["business_holding"],)
    ]


def test_a_full_refresh_rewrites_one_table_and_leaves_the_others(two_days):
    settings, work, _, _ = two_days
    lake = open_lake(settings)
    reviews = list_files(lake, "oltp/review")
    assert len(list_files(lake, "oltp/business")) > 1, "two exports and a duplicate copy"
    copies = [f for f in reviews if ".copy." in f]
    assert copies, "the duplicate test left copies, files of no finished export"
    result = export_oltp(settings, tables=["business"], full_refresh=True)
    [(businesses,)] = raw(settings, "select count(*) from oltp.business")
    assert result.rows == {"business": businesses}
    assert len(list_files(lake, "oltp/business")) == 1
    # the other tables keep their files, but for those of no finished load (the copies), which
    # every export deletes as a killed export's leftovers
    assert list_files(lake, "oltp/review") == [f for f in reviews if f not in copies]
    assert raw(
        settings,
        "select rows_written from lake_export.exports where full_refresh and table_name = %s",
        "business",
    ) == [(businesses,)]
    # the warehouse reads the rewritten table like any other
    build(settings, work, "dbt_dwh", "build")
    assert dwh(settings, "select count(distinct business_id) from dwh.dim_business") == [
        (businesses,)
    ]


def test_a_lake_full_refresh_killed_midway_converges(two_days):
    """A full refresh of the lake export killed (SIGKILL) while it writes: the warehouse still
    reads every row (the old files stay until the new load is recorded), and running it again
    gives the same warehouse."""
    import os
    import signal
    import subprocess
    import sys
    import time

    settings, work, _, _ = two_days
    build(settings, work, "dbt_dwh", "build")
    before = checksums(settings)
    env = {
        **os.environ,
        "GOURMAND_HOME": str(settings.home),
        "GOURMAND_OLTP_DSN": settings.oltp_dsn,
    }
    child = subprocess.Popen(
        [sys.executable, "-c",
         "from extract.lake.export import export_oltp; from extract.settings import get_settings; "
         "export_oltp(get_settings(), full_refresh=True)"],
        env=env, cwd=settings.project_root, start_new_session=True,
    )  # fmt: skip
    # killed as soon as the refresh has written its first new file (the old ones all there)
    lake = open_lake(settings)
    files = len(list_files(lake, "oltp"))

    def written() -> int:  # finished files and files still being copied (temporary names)
        return len(list_files(lake, "oltp")) + len(
            [p for p in lake.fs.find(lake.path("oltp")) if p.endswith(".partial")]
        )

    deadline = time.time() + 60
    while child.poll() is None and time.time() < deadline:
        if written() > files:
            os.killpg(child.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL, "the refresh finished before it was killed"
    # what the lake holds reads as before: the old files, and some new identical rows
    build(settings, work, "dbt_dwh", "build")
    assert checksums(settings) == before
    export_oltp(settings, full_refresh=True)
    build(settings, work, "dbt_dwh", "build")
    assert checksums(settings) == before
