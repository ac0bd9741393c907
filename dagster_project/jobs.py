"""Jobs: one per layer, and the whole graph on a daily schedule; `make demo` runs the daily job.

Every job that holds a daily-partitioned asset (the Yelp pull, the daily fact) is partitioned by
survey day; a range of days is one run (the assets' single-run backfill policy).
"""

from __future__ import annotations

from dagster import AssetSelection, build_schedule_from_partitioned_job, define_asset_job

from dagster_project.partitions import daily_partitions

# Reference data first (states, Census), then the daily Yelp survey that searches the counties.
reference_job = define_asset_job(
    "extract_reference",
    selection=AssetSelection.groups("extract") - AssetSelection.key_prefixes("raw_yelp"),
    description="Scrape the states page and load the Census county populations.",
)
yelp_daily_job = define_asset_job(
    "extract_yelp_daily",
    selection=AssetSelection.key_prefixes("raw_yelp"),
    partitions_def=daily_partitions,
    description="One Yelp survey day (or a range of days in one run) into raw_yelp and the lake.",
)
oltp_job = define_asset_job(
    "build_oltp",
    selection=AssetSelection.groups("oltp"),
    description="dbt build of dbt_oltp: staging views, the oltp tables and their tests.",
)
warehouse_job = define_asset_job(
    "build_warehouse",
    selection=AssetSelection.groups("lake", "warehouse", "marts"),
    partitions_def=daily_partitions,
    description="Export the OLTP model to the lake, then dbt build of dbt_dwh (warehouse, "
    "marts); the partition's days are the daily fact's days.",
)
daily_job = define_asset_job(
    "gourmand_daily",
    # everything but the yearly-partitioned 311 source, which has its own jobs
    selection=AssetSelection.all() - AssetSelection.groups("extract_socrata"),
    partitions_def=daily_partitions,
    description="The whole graph for one survey day (or a range in one run): extract, "
    "dbt_oltp, lake export, dbt_dwh, marts and every check.",
)

# Shortly after midnight UTC the previous day is complete: its partition runs then.
daily_schedule = build_schedule_from_partitioned_job(
    daily_job, hour_of_day=1, minute_of_hour=0, name="gourmand_daily_schedule"
)

jobs = [reference_job, yelp_daily_job, oltp_job, warehouse_job, daily_job]
