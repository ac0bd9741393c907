"""`build_warehouse`: the lake export, then dbt build of dbt_dwh."""

from dagster import AssetSelection, define_asset_job

from dagster_project.lib.partitions import daily_partitions
from dagster_project.lib.tags import WRITES_WAREHOUSE

warehouse_job = define_asset_job(
    "build_warehouse",
    selection=AssetSelection.groups("lake", "warehouse", "marts"),
    partitions_def=daily_partitions,
    tags=WRITES_WAREHOUSE,
    description="Export the OLTP model to the lake, then dbt build of dbt_dwh (warehouse, "
    "marts); the partition's days are the daily fact's days.",
)
