"""The dbt_oltp models as assets downstream of the raw dlt assets, in group `oltp`."""

from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext, AssetsDefinition
from dagster_dbt import DbtProject, dbt_assets

from dagster_project.lib.dbt_metadata import with_row_counts
from dagster_project.lib.dbt_projects import HomeDbtCliResource
from dagster_project.lib.home import OLTP_POOL
from dagster_project.lib.translators import GourmandDbtTranslator
from extract.settings import Settings


def dbt_oltp_assets(settings: Settings, project: DbtProject) -> AssetsDefinition:
    """The OLTP models of `project` (dbt_oltp), built on the connections of `settings`."""

    @dbt_assets(
        manifest=project.manifest_path,
        dagster_dbt_translator=GourmandDbtTranslator(group="oltp"),
        name="dbt_oltp",
        # one writer of the OLTP model across runs (dagster.yaml: 1 slot): the folds of two
        # runs would otherwise interleave, and last_edited_at must grow in the order changes
        # commit
        pool=OLTP_POOL,
    )
    def build(context: AssetExecutionContext, dbt_oltp: HomeDbtCliResource) -> Iterator[Any]:
        """`dbt build` of the OLTP models: each model an asset, each dbt test an asset check."""
        # Unit tests run in CI and in analysts' builds: the incremental ones read the existing
        # relation's columns, which a first production build has not created yet.
        args = ["build", "--exclude-resource-type", "unit_test"]
        events = dbt_oltp.build(args, context=context, settings=settings)
        yield from with_row_counts(
            events, project.manifest_path, "oltp", context.log.info, settings
        )

    return build
