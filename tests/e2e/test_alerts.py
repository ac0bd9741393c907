"""A failing Dagster run posts one Slack-compatible message to the alert webhook: a real job
failing on a real sandbox fault, the real sensor, a local HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e


def test_a_failing_step_posts_one_message_without_the_webhook_url(
    sandbox_settings, receiver, monkeypatch
):
    url, received = receiver
    secret_path = "/services/T000/B000/s3cr3t-token"
    settings, server = sandbox_settings(fail_pattern=r"abbreviations")
    for name, value in {
        "GOURMAND_HOME": str(settings.home),
        "GOURMAND_OLTP_DSN": settings.oltp_dsn,
        "GOURMAND_CENSUS_BASE_URL": f"{server.url}/data",
        "GOURMAND_STATES_URL": f"{server.url}/abbreviations.htm",
        "GOURMAND_YELP_BASE_URL": f"{server.url}/v3",
        "GOURMAND_ALERT_WEBHOOK": url + secret_path,
        # every attempt still happens (5 requests in each of 4 step attempts), without the
        # production back-off of 1, 2, 4, 8 s between them: a minute of waiting in the suite
        "GOURMAND_HTTP_BACKOFF": "0.05",
    }.items():
        monkeypatch.setenv(name, value)
    from extract.settings import get_settings

    get_settings.cache_clear()
    try:
        from dagster import DagsterEventType, DagsterInstance, build_run_status_sensor_context

        from dagster_project.definitions import defs
        from dagster_project.defs.alerts.sensors import alert_on_run_failure

        with DagsterInstance.ephemeral() as instance:
            result = (
                defs()
                .resolve_job_def("extract_reference")
                .execute_in_process(instance=instance, raise_on_error=False)
            )
            assert not result.success
            failure = next(
                e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE
            )
            context = build_run_status_sensor_context(
                sensor_name="alert_on_run_failure",
                dagster_event=failure,
                dagster_instance=instance,
                dagster_run=result.dagster_run,
            ).for_run_failure()
            alert_on_run_failure(get_settings())(context)
            logs = json.dumps([str(e.message) for e in instance.all_logs(result.run_id)])
    finally:
        get_settings.cache_clear()

    assert len(received) == 1
    assert received[0]["path"] == secret_path
    text = received[0]["body"]["text"]
    assert "extract_reference" in text and result.run_id in text
    assert "states" in text and "HTTP 500" in text
    assert "s3cr3t-token" not in text and "s3cr3t-token" not in logs


def test_without_a_webhook_the_sensor_posts_nothing(receiver, monkeypatch):
    _, received = receiver
    monkeypatch.delenv("GOURMAND_ALERT_WEBHOOK", raising=False)
    from extract.runtime.alerts import StepFailure, failure_message

    message = failure_message("build_oltp", "abc", [StepFailure("dbt_oltp", "x" * 5000)])
    assert message["text"].startswith(":red_circle:") and len(message["text"]) < 1700
    assert received == []
