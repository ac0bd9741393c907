"""`gourmand_daily`: the whole graph but LA 311 (which has its own jobs), for one survey day or
a range of days as one run; `make demo` runs it over its seven days.

Every job that holds a daily-partitioned asset (the Yelp pull, the daily fact) is partitioned by
survey day; a range of days is one run (the assets' single-run backfill policy).
"""

from dagster import AssetSelection, define_asset_job

from dagster_project.lib.partitions import daily_partitions
from dagster_project.lib.tags import WRITES_BOTH

daily_job = define_asset_job(
    "gourmand_daily",
    # everything but the yearly-partitioned 311 source, which has its own jobs
    selection=AssetSelection.all() - AssetSelection.groups("extract_socrata"),
    partitions_def=daily_partitions,
    tags=WRITES_BOTH,
    description="The whole graph for one survey day (or a range in one run): extract, "
    "dbt_oltp, lake export, dbt_dwh, marts and every check.",
)
