"""The extraction jobs: reference data (states, Census), then the daily Yelp survey."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster import (
    AssetSelection,
    PartitionsDefinition,
    define_asset_job,
)

if TYPE_CHECKING:
    # what define_asset_job returns; Dagster does not export the type
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

# Reference data first (states, Census), then the daily Yelp survey that searches the counties.
reference_job = define_asset_job(
    "extract_reference",
    selection=AssetSelection.groups("extract") - AssetSelection.key_prefixes("raw_yelp"),
    description="Scrape the states page and load the Census county populations.",
)


def yelp_daily_job(days: PartitionsDefinition) -> UnresolvedAssetJobDefinition:
    return define_asset_job(
        "extract_yelp_daily",
        selection=AssetSelection.key_prefixes("raw_yelp"),
        partitions_def=days,
        description="One Yelp survey day (or a range of days in one run) into raw_yelp and the "
        "lake.",
    )
