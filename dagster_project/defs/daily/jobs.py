"""`gourmand_daily`: the whole graph but LA 311 (which has its own jobs), for one survey day or
a range of days as one run; `make demo` runs it over its seven days.

Every job that holds a daily-partitioned asset (the Yelp pull, the daily fact) is partitioned by
survey day; a range of days is one run (the assets' single-run backfill policy).
"""

from __future__ import annotations

from dagster import (
    AssetSelection,
    PartitionsDefinition,
    define_asset_job,
)

from dagster_project.lib.tags import WRITES_BOTH
from dagster_project.lib.upstream import AssetJob

DAILY_JOB = "gourmand_daily"


def daily_job(days: PartitionsDefinition) -> AssetJob:
    return define_asset_job(
        DAILY_JOB,
        # everything but the yearly-partitioned 311 source, which has its own jobs
        selection=AssetSelection.all() - AssetSelection.groups("extract_socrata"),
        partitions_def=days,
        tags=WRITES_BOTH,
        description="The whole graph for one survey day (or a range in one run): extract, "
        "dbt_oltp, lake export, dbt_dwh, marts and every check.",
    )
