"""The daily schedule of `gourmand_daily`."""

from __future__ import annotations

from typing import Any

from dagster import build_schedule_from_partitioned_job

from dagster_project.lib.upstream import AssetJob


def daily_schedule(job: AssetJob) -> Any:
    """Shortly after midnight UTC the previous day is complete: its partition runs then."""
    return build_schedule_from_partitioned_job(
        job, hour_of_day=1, minute_of_hour=0, name="gourmand_daily_schedule"
    )
