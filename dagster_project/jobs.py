"""Jobs: one per layer; `make demo` runs these same definitions."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from dagster_project.defs.extract.assets import daily_partitions

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
    description="Export the OLTP model to the lake, then dbt build of dbt_dwh (warehouse, marts).",
)
