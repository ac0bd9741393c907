"""The extraction jobs: reference data (states, Census), then the daily Yelp survey."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    PartitionsDefinition,
    define_asset_job,
)

from dagster_project.lib.upstream import AssetJob

# Reference data first (states, Census), then the daily Yelp survey that searches the counties.
reference_job = define_asset_job(
    "extract_reference",
    selection=AssetSelection.groups("extract") - AssetSelection.key_prefixes("raw_yelp"),
    description="Scrape the states page and load the Census county populations.",
)


def yelp_daily_job(days: PartitionsDefinition) -> AssetJob:
    return define_asset_job(
        "extract_yelp_daily",
        selection=AssetSelection.key_prefixes("raw_yelp"),
        partitions_def=days,
        description="One Yelp survey day (or a range of days in one run) into raw_yelp and the "
        "lake.",
    )
