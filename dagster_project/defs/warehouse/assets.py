"""The dbt_dwh models as assets downstream of the lake export: group `warehouse` (staging,
snapshots, dims, facts) and `marts`."""

from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.defs.dbt_projects import dwh_project
from dagster_project.home import WAREHOUSE_POOL
from dagster_project.translators import GourmandDbtTranslator
from extract import warehouse
from extract.settings import get_settings, publish_for_children


@dbt_assets(
    manifest=dwh_project.manifest_path,
    dagster_dbt_translator=GourmandDbtTranslator(
        group="warehouse", groups_by_schema={"marts": "marts"}
    ),
    name="dbt_dwh",
    pool=WAREHOUSE_POOL,  # one writer of the DuckDB file across runs (dagster.yaml: 1 slot)
)
def dbt_dwh_assets(context: AssetExecutionContext, dbt_dwh: DbtCliResource) -> Iterator[Any]:
    """`dbt build` of the warehouse, one writer at a time."""
    settings = get_settings()
    publish_for_children(warehouse.dbt_environment(settings))
    with warehouse.writer(settings):
        if settings.warehouse == "postgres":
            copied = warehouse.copy_lake_to_postgres(settings)
            context.log.info(f"copied the lake into schema lake: {copied}")
        yield from dbt_dwh.cli(["build"], context=context).stream()
