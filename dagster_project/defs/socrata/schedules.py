"""The LA 311 update, daily."""

from datetime import UTC, datetime

from dagster import RunRequest, ScheduleEvaluationContext, schedule

from dagster_project.defs.socrata.jobs import socrata_update_job


@schedule(job=socrata_update_job, cron_schedule="0 2 * * *", name="socrata_update_daily")
def socrata_update_daily(context: ScheduleEvaluationContext) -> RunRequest:
    """Daily at 02:00 UTC, recorded on the current year's partition."""
    now = context.scheduled_execution_time or datetime.now(UTC)
    return RunRequest(partition_key=str(now.year))
