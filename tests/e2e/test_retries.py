"""Extraction survives a source outage: a step whose HTTP retries ran out is retried by Dagster
(with backoff) and succeeds once the outage is over; a run that failed for good is re-executed
from its failed step, without running again what had succeeded."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

DAY = "2024-01-01"
SELECTION = "key:raw_yelp/*"


def _step_events(settings, run_id: str) -> list[tuple[str, str]]:
    from dagster import DagsterEventType

    from dagster_project.lib.home import instance_for

    kinds = (DagsterEventType.STEP_UP_FOR_RETRY, DagsterEventType.STEP_FAILURE,
             DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_START,
             DagsterEventType.STEP_RESTARTED)  # fmt: skip
    out = []
    for record in instance_for(settings).all_logs(run_id):
        event = record.dagster_event
        if event is not None and event.event_type in kinds:
            out.append((event.step_key or "", event.event_type.value))
    return out


@pytest.fixture
def yelp_ready(sandbox_settings, as_process_settings):
    """A home with states and Census loaded (Yelp searches the counties), its settings the
    process's (the Dagster assets read them), and the sandbox to break."""
    from extract.pipelines import run_source
    from extract.settings import get_settings

    http = {"GOURMAND_HTTP_MAX_ATTEMPTS": "2", "GOURMAND_HTTP_BACKOFF": "0.01"}
    settings, server = sandbox_settings(http, counties=1, businesses_per_county=8)
    as_process_settings(settings, server, **http)
    settings = get_settings()  # what the assets run with
    run_source("states", settings=settings, to_lake=False)
    run_source("census", settings=settings, to_lake=False)
    return settings, server


def test_an_outage_longer_than_the_http_retries_is_retried_by_dagster(yelp_ready):
    from dagster_project.lib.materialize import materialize
    from tests.support import pg_rows

    settings, server = yelp_ready
    # the next requests fail: as many as one step's HTTP client tries, so the first attempt of
    # the step fails and its retry, later, finds the source back
    server.reconfigure(error_burst_at=server.request_count + 1,
                       error_burst_len=settings.http_max_attempts)  # fmt: skip
    result = materialize(settings, SELECTION, DAY, say=lambda _m: None)
    assert result.success
    events = [kind for step, kind in _step_events(settings, result.run_id) if step == "raw_yelp"]
    assert events == ["STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS"]
    assert server.faults_served.get(500, 0) == settings.http_max_attempts
    assert pg_rows(settings, "select count(*) from raw_yelp.businesses") == [(8,)]


def test_a_failed_run_is_re_executed_from_the_failed_step(yelp_ready):
    from dagster_project.lib.materialize import materialize, resume
    from tests.support import pg_rows

    settings, server = yelp_ready
    # events fail on every attempt: the run fails after its retries, with businesses loaded
    # nowhere (a dlt load is all or nothing)
    server.reconfigure(fail_pattern="/v3/events")
    both = f"{SELECTION} or key:raw_states/*"
    failed = materialize(settings, both, DAY, say=lambda _m: None)
    assert not failed.success
    assert ("raw_states", "STEP_SUCCESS") in _step_events(settings, failed.run_id)
    retries = [e for e in _step_events(settings, failed.run_id) if e[1] == "STEP_UP_FOR_RETRY"]
    assert len(retries) == settings.step_retries
    assert pg_rows(settings, "select to_regclass('raw_yelp.businesses') is null") == [(True,)]

    server.reconfigure(fail_pattern=None)  # the outage is over
    summary = resume(settings, failed.run_id, say=lambda _m: None)
    assert summary.success and summary.run_id != failed.run_id
    started = {step for step, kind in _step_events(settings, summary.run_id)
               if kind == "STEP_START"}  # fmt: skip
    # the failed step again (and its checks); the states step had succeeded: not run again
    assert "raw_yelp" in started and "raw_states" not in started
    assert pg_rows(settings, "select count(*) from raw_yelp.businesses") == [(8,)]
    assert "raw_yelp/businesses" in summary.materialized
