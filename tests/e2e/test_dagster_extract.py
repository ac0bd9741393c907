"""The extraction assets run through Dagster: keys, partitions and recorded metadata."""

from __future__ import annotations

import pytest

# whole Dagster runs: minutes each on a slow 2-core machine, more than the default 300 s
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def test_partition_range_runs_as_one_run_with_metadata(sandbox_settings, monkeypatch, tmp_path):
    settings, server = sandbox_settings(counties=2, businesses_per_county=15, malformed_every=11)
    for name, value in {
        "GOURMAND_HOME": str(settings.home),
        "GOURMAND_OLTP_DSN": settings.oltp_dsn,
        "GOURMAND_YELP_BASE_URL": f"{server.url}/v3",
        "GOURMAND_CENSUS_BASE_URL": f"{server.url}/data",
        "GOURMAND_STATES_URL": f"{server.url}/abbreviations.htm",
    }.items():
        monkeypatch.setenv(name, value)
    from extract.settings import get_settings

    get_settings.cache_clear()
    try:
        from dagster import DagsterInstance

        from dagster_project.definitions import defs

        with DagsterInstance.ephemeral() as instance:
            ref = defs().resolve_job_def("extract_reference").execute_in_process(instance=instance)
            assert ref.success
            yelp = (
                defs()
                .resolve_job_def("extract_yelp_daily")
                .execute_in_process(
                    instance=instance,
                    tags={
                        "dagster/asset_partition_range_start": "2024-01-01",
                        "dagster/asset_partition_range_end": "2024-01-03",
                    },
                )
            )
            assert yelp.success
            assert len(instance.get_runs()) == 2
            events = yelp.get_asset_materialization_events()
            meta = {
                e.event_specific_data.materialization.asset_key.to_user_string():
                e.event_specific_data.materialization.metadata
                for e in events
            }  # fmt: skip
    finally:
        get_settings.cache_clear()
    businesses = meta["raw_yelp/businesses"]
    assert businesses["batches"].value == "2024-01-01, 2024-01-02, 2024-01-03"
    assert businesses["rows"].value > 0 and businesses["seconds"].value > 0
    assert businesses["rows_per_second"].value > 0
    assert businesses["received"].value == (
        businesses["loaded"].value + businesses["rejected"].value
    )
    assert businesses["rejected"].value > 0
    assert set(businesses["tables"].value) == {"businesses"}
    assert meta["raw_yelp/businesses__categories"]["rows"].value > 0


def test_socrata_years_as_one_run_then_the_update_job(sandbox_settings, as_process_settings):
    from dagster import DagsterInstance

    from dagster_project.definitions import defs

    settings, server = sandbox_settings(socrata_rows_per_year=500)
    as_process_settings(settings, server, GOURMAND_SOCRATA_BASE_URL=server.url)
    with DagsterInstance.ephemeral() as instance:
        full = (
            defs()
            .resolve_job_def("socrata_full")
            .execute_in_process(
                instance=instance,
                tags={
                    "dagster/asset_partition_range_start": "2023",
                    "dagster/asset_partition_range_end": "2024",
                },
            )
        )
        update = (
            defs()
            .resolve_job_def("socrata_update")
            .execute_in_process(instance=instance, partition_key="2024")
        )
    [full_meta] = [
        e.event_specific_data.materialization.metadata
        for e in full.get_asset_materialization_events()
        if e.event_specific_data.materialization.partition == "2023"
    ]
    assert full_meta["mode"].value == "full" and full_meta["years"].value == "2023,2024"
    assert full_meta["inserted"].value == 1000 and full_meta["updated"].value == 0
    assert full_meta["rows_per_second"].value > 0
    [update_event] = [
        e
        for e in update.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string()
        == "raw_socrata/service_requests"
    ]
    meta = update_event.event_specific_data.materialization.metadata
    assert meta["mode"].value == "update" and meta["since"].value == full_meta["watermark"].value
    assert meta["inserted"].value == 0 and meta["updated"].value == 0  # nothing changed
    # both jobs carry the load through the 311 chain, with its checks
    for run in (full, update):
        built = {
            e.event_specific_data.materialization.asset_key.to_user_string()
            for e in run.get_asset_materialization_events()
        }
        assert {"oltp/service_request", "lake/service_request", "dwh/fct_service_request",
                "marts/open_backlog_by_council", "dwh/dim_date"} <= built  # fmt: skip
        assert not any(k.startswith(("raw_yelp", "dwh/fct_business_holding")) for k in built)
        checks = {
            e.event_specific_data.check_name: e.event_specific_data.passed
            for e in run.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        }
        assert checks["reconcile_service_request"] and checks["service_request_keys_unique"]
    from tests.support import pg_rows

    assert pg_rows(settings, "select count(*) from oltp.service_request") == [(1000,)]
    schedule = defs().resolve_schedule_def("socrata_update_daily")
    assert schedule.job_name == "socrata_update"
