"""The dbt_oltp models as assets downstream of the raw dlt assets, in group `oltp`."""

from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import dbt_assets

from dagster_project.lib.dbt_metadata import with_row_counts
from dagster_project.lib.dbt_projects import HomeDbtCliResource, oltp_project
from dagster_project.lib.home import OLTP_POOL
from dagster_project.lib.translators import GourmandDbtTranslator
from extract.runtime.dbt_invoke import dbt_environment
from extract.settings import get_settings, publish_for_children


@dbt_assets(
    manifest=oltp_project.manifest_path,
    dagster_dbt_translator=GourmandDbtTranslator(group="oltp"),
    name="dbt_oltp",
    # one writer of the OLTP model across runs (dagster.yaml: 1 slot): the folds of two runs
    # would otherwise interleave, and last_edited_at must grow in the order changes commit
    pool=OLTP_POOL,
)
def dbt_oltp_assets(context: AssetExecutionContext, dbt_oltp: HomeDbtCliResource) -> Iterator[Any]:
    """`dbt build` of the OLTP models: each model an asset, each dbt test an asset check."""
    # dbt reads the OLTP connection from GOURMAND_PG_* (profiles/profiles.yml)
    publish_for_children(dbt_environment(get_settings()))
    # Unit tests run in CI and in analysts' builds: the incremental ones read the existing
    # relation's columns, which a first production build has not created yet.
    args = ["build", "--exclude-resource-type", "unit_test"]
    events = dbt_oltp.build(args, context=context)
    yield from with_row_counts(events, oltp_project.manifest_path, "oltp", context.log.info)
