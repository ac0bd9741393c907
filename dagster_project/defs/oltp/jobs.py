"""`build_oltp`: dbt build of dbt_oltp."""

from dagster import AssetSelection, define_asset_job

from dagster_project.lib.tags import WRITES_OLTP

oltp_job = define_asset_job(
    "build_oltp",
    selection=AssetSelection.groups("oltp"),
    tags=WRITES_OLTP,
    description="dbt build of dbt_oltp: staging views, the oltp tables and their tests.",
)
