"""The scheduled whole-graph job: the first partition on an empty warehouse, a range of days as
one run, the daily fact rebuilt for exactly its partition's days, and run metadata on every
materialization."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e

RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def _metadata(result: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        found[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return found


def _fact_days(settings: Any) -> dict[str, int]:
    from extract.runtime.query import run_query

    _, rows = run_query(
        "select cast(surveyed_on as varchar), count(*) from dwh.fct_business_holding "
        "group by 1 order by 1",
        target="warehouse",
        settings=settings,
    )
    return {day: n for day, n in rows}


@pytest.mark.timeout(900)
def test_daily_job_first_day_then_days_out_of_order_and_a_rerun(
    sandbox_settings, as_process_settings
):
    """Day 1 on an empty warehouse, then days 3-4 (day 2 missed), then days 2-3 as one run: the
    missed day lands in its place and day 3, run again, doubles nothing (the issue's failure:
    a backfilled day used to wedge the OLTP build)."""
    settings, server = sandbox_settings(counties=2, businesses_per_county=12)
    as_process_settings(settings, server)
    from dagster import DagsterInstance

    from dagster_project.definitions import defs

    job = defs().resolve_job_def("gourmand_daily")
    schedule = defs().resolve_schedule_def("gourmand_daily_schedule")
    assert schedule.job_name == "gourmand_daily"

    def days(first: str, last: str) -> dict[str, str]:
        return dict(zip(RANGE_TAGS, (first, last), strict=True))

    with DagsterInstance.ephemeral() as instance:
        first = job.execute_in_process(instance=instance, partition_key="2024-01-01")
        assert first.success
        assert list(_fact_days(settings)) == ["2024-01-01"]  # the empty warehouse got day one
        first_meta = _metadata(first)

        later = job.execute_in_process(instance=instance, tags=days("2024-01-03", "2024-01-04"))
        assert later.success  # day 2 missing only warns (fact_rows_every_day)
        assert len(instance.get_runs()) == 2  # the two-day range was one run
        assert list(_fact_days(settings)) == ["2024-01-01", "2024-01-03", "2024-01-04"]
        missing = [c for c in later.get_asset_check_evaluations() if not c.passed]
        assert [c.check_name for c in missing] == ["fact_rows_every_day"]

        before = _fact_days(settings)
        late = job.execute_in_process(instance=instance, tags=days("2024-01-02", "2024-01-03"))
        assert late.success
        counts = _fact_days(settings)
        assert list(counts) == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
        # day 3 ran again: replaced, not doubled
        assert counts["2024-01-03"] == before["2024-01-03"]
        assert all(c.passed for c in late.get_asset_check_evaluations())
        late_meta = _metadata(late)

    # dlt: a first load inserts; day 2 is new, day 3 a re-run that updates its rows
    businesses = first_meta["raw_yelp/businesses"]
    assert businesses["rows"] > 0 and businesses["inserted"] == businesses["rows"]
    assert businesses["updated"] == 0 and businesses["rows_per_second"] > 0
    rerun = late_meta["raw_yelp/businesses"]
    assert rerun["rows"] == counts["2024-01-02"] + counts["2024-01-03"]
    assert rerun["inserted"] == counts["2024-01-02"] and rerun["updated"] == counts["2024-01-03"]
    # dbt models of both projects and the lake export: rows, seconds, rows/s
    fact = late_meta["dwh/fct_business_holding"]
    assert fact["dagster/row_count"] == sum(counts.values()) == fact["rows"]
    assert fact["seconds"] > 0 and fact["rows_per_second"] > 0
    oltp = first_meta["oltp/business_holding"]
    assert oltp["dagster/row_count"] == counts["2024-01-01"]
    assert first_meta["lake/business_holding"]["rows"] == counts["2024-01-01"]
    mart = first_meta["marts/top_review_count_changes"]
    assert "dagster/row_count" in mart and mart["seconds"] > 0


def test_partitioned_assets_backfill_as_one_run():
    from dagster import AssetKey, BackfillPolicy

    from dagster_project.definitions import defs

    graph = defs().resolve_asset_graph()
    partitioned = [k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def]
    assert AssetKey(["raw_yelp", "businesses"]) in partitioned
    assert AssetKey(["dwh", "fct_business_holding"]) in partitioned
    for key in partitioned:
        assert graph.get(key).backfill_policy == BackfillPolicy.single_run(), key
