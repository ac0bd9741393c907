"""The dbt_dwh models as assets downstream of the lake export: group `warehouse` (staging,
snapshots, dims, facts) and `marts`.

The daily fact (`fct_business_holding`, one row per business per survey day) shares the Yelp
pull's daily partitions, so a backfill of days runs from extraction to the fact in one run. The
fact itself rebuilds what changed in the lake, whatever the days (a day that arrives late also
moves other days' holdings to other versions). So the project is three dbt selections: what the
fact reads (unpartitioned), the fact itself (partitioned), and what reads the fact
(unpartitioned). Dagster orders them by lineage.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from dagster import AssetExecutionContext, AssetsDefinition
from dagster_dbt import DbtProject, dbt_assets

from dagster_project.lib.dbt_metadata import with_row_counts
from dagster_project.lib.dbt_projects import HomeDbtCliResource
from dagster_project.lib.home import WAREHOUSE_POOL
from dagster_project.lib.partitions import daily_partitions, single_run
from dagster_project.lib.translators import GourmandDbtTranslator
from extract.settings import Settings
from extract.warehouse import load as warehouse
from extract.warehouse.builds import record_build

DAILY_FACT = "fct_business_holding"
TRANSLATOR = GourmandDbtTranslator(group="warehouse", groups_by_schema={"marts": "marts"})


def _build(
    context: AssetExecutionContext,
    dbt_dwh: HomeDbtCliResource,
    settings: Settings,
    project: DbtProject,
    extra: list[str] | None = None,
    *,
    reads_lake: bool = False,
) -> Iterator[Any]:
    """`dbt build` of this asset's selection, as the warehouse's one writer."""
    with warehouse.writer(settings):
        if settings.warehouse == "postgres" and reads_lake:
            copied = warehouse.copy_lake_to_postgres(settings)
            context.log.info(f"copied the lake into schema lake: {copied}")
        if settings.warehouse == "bigquery" and reads_lake:
            from extract.warehouse.bigquery import load_lake_to_bigquery

            loads = load_lake_to_bigquery(settings, say=context.log.info)
            context.log.info(
                "loaded the lake into BigQuery dataset lake: "
                + ", ".join(f"{t} {r.files} file(s) {r.rows} rows" for t, r in loads.items())
            )
        args = ["build", *(extra or [])]
        if context.is_subset:
            # a part of the warehouse (e.g. the 311 jobs' models): only tests whose every
            # parent is in the part; dbt's default would also run, say, dim_review's
            # relationship test to the selected dim_date, against a table this run did not
            # build and which may not exist yet
            args += ["--indirect-selection", "cautious"]
        events = dbt_dwh.build(args, context=context, settings=settings)
        yield from with_row_counts(
            events, project.manifest_path, "warehouse", context.log.info, settings
        )
        # the build succeeded (a failed one raised above): the read API's cache keys on this
        record_build(settings)


def warehouse_assets(settings: Settings, project: DbtProject) -> list[AssetsDefinition]:
    """The three selections of `project` (dbt_dwh), built on the warehouse of `settings`."""

    @dbt_assets(
        manifest=project.manifest_path,
        dagster_dbt_translator=TRANSLATOR,
        name="dbt_dwh",
        exclude=f"{DAILY_FACT}+",
        pool=WAREHOUSE_POOL,  # one writer of the DuckDB file across runs (dagster.yaml: 1 slot)
    )
    def before_daily(context: AssetExecutionContext, dbt_dwh: HomeDbtCliResource) -> Iterator[Any]:
        """Staging views, snapshots, dimensions, dim_date, the yearly fact and the marts that do
        not read the daily fact."""
        yield from _build(context, dbt_dwh, settings, project, reads_lake=True)

    @dbt_assets(
        manifest=project.manifest_path,
        dagster_dbt_translator=TRANSLATOR,
        name="dbt_dwh_daily",
        select=DAILY_FACT,
        partitions_def=daily_partitions(settings),
        backfill_policy=single_run,
        pool=WAREHOUSE_POOL,
    )
    def daily(context: AssetExecutionContext, dbt_dwh: HomeDbtCliResource) -> Iterator[Any]:
        """The daily fact, for this partition (or range) of survey days and whatever else the
        lake changed (the fact is incremental on what changed, not on a window of days)."""
        window = context.partition_time_window
        last_day = (window.end - timedelta(days=1)).date()
        context.log.info(f"{DAILY_FACT}: survey days {window.start.date()}..{last_day} and changes")
        yield from _build(context, dbt_dwh, settings, project)

    @dbt_assets(
        manifest=project.manifest_path,
        dagster_dbt_translator=TRANSLATOR,
        name="dbt_dwh_after_daily",
        select=f"{DAILY_FACT}+",
        exclude=DAILY_FACT,
        pool=WAREHOUSE_POOL,
    )
    def after_daily(context: AssetExecutionContext, dbt_dwh: HomeDbtCliResource) -> Iterator[Any]:
        """The marts that read the daily fact."""
        yield from _build(context, dbt_dwh, settings, project)

    return [before_daily, daily, after_daily]
