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

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_dbt import DbtProject, dbt_assets

from dagster_project.lib.dbt_metadata import with_row_counts
from dagster_project.lib.dbt_projects import HomeDbtCliResource
from dagster_project.lib.partitions import daily_partitions, single_run
from dagster_project.lib.runs import run_unfinished
from dagster_project.lib.translators import PUBLISHED, GourmandDbtTranslator
from extract.runtime.publication import publish, take_lease
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
    """`dbt build` of this asset's selection, as the warehouse's one writer: the run holds the
    home's build from its first warehouse step to its publication (extract/runtime/
    publication.py), and each step holds the file while it writes."""
    take_lease(
        settings,
        context.run.run_id,
        alive=lambda run_id: run_unfinished(context.instance, run_id),
        say=context.log.info,
        parent=context.run.parent_run_id,
    )
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


def warehouse_assets(settings: Settings, project: DbtProject) -> list[AssetsDefinition]:
    """The three selections of `project` (dbt_dwh), built on the warehouse of `settings`."""

    @dbt_assets(
        manifest=project.manifest_path,
        dagster_dbt_translator=TRANSLATOR,
        name="dbt_dwh",
        exclude=f"{DAILY_FACT}+",
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
    )
    def after_daily(context: AssetExecutionContext, dbt_dwh: HomeDbtCliResource) -> Iterator[Any]:
        """The marts that read the daily fact."""
        yield from _build(context, dbt_dwh, settings, project)

    built = [before_daily, daily, after_daily]
    return [*built, published_asset(settings, built)]


def published_asset(settings: Settings, built: list[AssetsDefinition]) -> AssetsDefinition:
    """Publish: the run's audited build becomes what every reader reads, in one step. Downstream
    of every dbt_dwh model, so a failed dbt test or halt check on any of them (blocking) stops
    the run before it, and the previous build stays published."""

    @asset(
        key=PUBLISHED,
        group_name="warehouse",
        deps=sorted({key for assets in built for key in assets.keys}, key=str),
        kinds={settings.warehouse},
        description="The run's warehouse build, audited, made what every reader reads (the read "
        "API, `gourmand sql`, the dashboards and extracts) in one atomic switch.",
    )
    def published(context: AssetExecutionContext) -> MaterializeResult:
        build = record_build(settings, publish(settings, context.run.run_id))
        context.log.info(f"warehouse build {build} published")
        return MaterializeResult(metadata={"build": MetadataValue.text(build)})

    return published
