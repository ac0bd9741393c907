"""The daily schedule of `gourmand_daily`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagster import build_schedule_from_partitioned_job

if TYPE_CHECKING:
    # what define_asset_job returns; Dagster does not export the type
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )


def daily_schedule(job: UnresolvedAssetJobDefinition) -> Any:
    """Shortly after midnight UTC the previous day is complete: its partition runs then."""
    return build_schedule_from_partitioned_job(
        job, hour_of_day=1, minute_of_hour=0, name="gourmand_daily_schedule"
    )
