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
    from extract.query import run_query

    _, rows = run_query(
        "select cast(surveyed_on as varchar), count(*) from dwh.fct_business_holding "
        "group by 1 order by 1",
        target="warehouse",
        settings=settings,
    )
    return {day: n for day, n in rows}


def test_daily_job_first_partition_then_a_range_in_one_run(sandbox_settings, as_process_settings):
    settings, server = sandbox_settings(counties=2, businesses_per_county=12)
    as_process_settings(settings, server)
    from dagster import DagsterInstance

    from dagster_project.definitions import defs

    job = defs.resolve_job_def("gourmand_daily")
    schedule = defs.resolve_schedule_def("gourmand_daily_schedule")
    assert schedule.job_name == "gourmand_daily"
    with DagsterInstance.ephemeral() as instance:
        first = job.execute_in_process(instance=instance, partition_key="2024-01-01")
        assert first.success
        assert list(_fact_days(settings)) == ["2024-01-01"]  # the empty warehouse got day one
        first_meta = _metadata(first)

        days = job.execute_in_process(
            instance=instance, tags=dict(zip(RANGE_TAGS, ("2024-01-02", "2024-01-03"), strict=True))
        )
        assert days.success
        assert len(instance.get_runs()) == 2  # the two-day range was one run
        counts = _fact_days(settings)
        assert list(counts) == ["2024-01-01", "2024-01-02", "2024-01-03"]

        again = job.execute_in_process(instance=instance, partition_key="2024-01-02")
        assert again.success
        assert _fact_days(settings) == counts  # a re-run replaces its day, nothing doubles
        again_meta = _metadata(again)

    # dlt: a first load inserts, a re-run of the day updates the same rows
    businesses = first_meta["raw_yelp/businesses"]
    assert businesses["rows"] > 0 and businesses["inserted"] == businesses["rows"]
    assert businesses["updated"] == 0 and businesses["rows_per_second"] > 0
    rerun = again_meta["raw_yelp/businesses"]
    assert rerun["updated"] == rerun["rows"] == counts["2024-01-02"] and rerun["inserted"] == 0
    # dbt models of both projects and the lake export: rows, seconds, rows/s
    fact = again_meta["dwh/fct_business_holding"]
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

    graph = defs.resolve_asset_graph()
    partitioned = [k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def]
    assert AssetKey(["raw_yelp", "businesses"]) in partitioned
    assert AssetKey(["dwh", "fct_business_holding"]) in partitioned
    for key in partitioned:
        assert graph.get(key).backfill_policy == BackfillPolicy.single_run(), key
