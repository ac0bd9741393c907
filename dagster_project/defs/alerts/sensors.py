"""A run-failure sensor that posts to the alert webhook, when one is configured."""

from typing import Any

from dagster import (
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorDefinition,
    run_failure_sensor,
)

from extract.runtime import alerts
from extract.settings import Settings


def _describe(error: Any) -> str:
    """The error and its causes, messages only: the root cause (an HTTP status, a failing dbt
    test) is what a person needs in the channel; the stack traces are in the Dagster UI."""
    parts = []
    while error is not None:
        parts.append(error.message.strip())
        error = error.cause
    return "\ncaused by: ".join(parts)


def _failures(context: RunFailureSensorContext) -> list[alerts.StepFailure]:
    out = []
    for event in context.get_step_failure_events():
        error = getattr(event.event_specific_data, "error", None)
        text = _describe(error) if error is not None else (event.message or "")
        out.append(alerts.StepFailure(event.step_key or "?", text))
    return out


def alert_on_run_failure(settings: Settings) -> SensorDefinition:
    """The run-failure sensor, posting to the webhook of `settings`."""

    @run_failure_sensor(
        name="alert_on_run_failure",
        description="Posts a message naming the job, the failed step and the error to "
        "GOURMAND_ALERT_WEBHOOK (does nothing when it is not set).",
        default_status=DefaultSensorStatus.RUNNING,
    )
    def evaluate(context: RunFailureSensorContext) -> None:
        webhook = settings.alert_webhook
        if not webhook:
            return
        run = context.dagster_run
        message = alerts.failure_message(run.job_name, run.run_id, _failures(context))
        alerts.post(webhook, message)
        context.log.info(f"alert posted for run {run.run_id} of {run.job_name}")

    return evaluate
