"""`build_warehouse`: the lake export, then dbt build of dbt_dwh."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    PartitionsDefinition,
    define_asset_job,
)

from dagster_project.lib.tags import WRITES_WAREHOUSE
from dagster_project.lib.upstream import AssetJob


def warehouse_job(days: PartitionsDefinition) -> AssetJob:
    return define_asset_job(
        "build_warehouse",
        selection=AssetSelection.groups("lake", "warehouse", "marts"),
        partitions_def=days,
        tags=WRITES_WAREHOUSE,
        description="Export the OLTP model to the lake, then dbt build of dbt_dwh (warehouse, "
        "marts); the partition's days are the daily fact's days.",
    )
