"""`build_warehouse`: the lake export, then dbt build of dbt_dwh."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster import (
    AssetSelection,
    PartitionsDefinition,
    define_asset_job,
)

from dagster_project.lib.tags import WRITES_WAREHOUSE

if TYPE_CHECKING:
    # what define_asset_job returns; Dagster does not export the type
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )


def warehouse_job(days: PartitionsDefinition) -> UnresolvedAssetJobDefinition:
    return define_asset_job(
        "build_warehouse",
        selection=AssetSelection.groups("lake", "warehouse", "marts"),
        partitions_def=days,
        tags=WRITES_WAREHOUSE,
        description="Export the OLTP model to the lake, then dbt build of dbt_dwh (warehouse, "
        "marts); the partition's days are the daily fact's days.",
    )
