"""The daily schedule of `gourmand_daily`."""

from dagster import build_schedule_from_partitioned_job

from dagster_project.defs.daily.jobs import daily_job

# Shortly after midnight UTC the previous day is complete: its partition runs then.
daily_schedule = build_schedule_from_partitioned_job(
    daily_job, hour_of_day=1, minute_of_hour=0, name="gourmand_daily_schedule"
)
