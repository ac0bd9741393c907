"""LA 311 service requests (Socrata) as one asset, `raw_socrata/service_requests`, in its own
group `extract_socrata` (its yearly partitions cannot share a run with the daily Yelp ones).

Full loads are yearly partitions (one Socrata dataset per year); the daily update job
materializes the current year's partition in update mode, which loads every request changed
since the watermark across all years (updates land mostly in the current year). Both write the
same table through `run_source`, merging on `srnumber`.
"""

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    Config,
    MaterializeResult,
    TimeWindowPartitionsDefinition,
    multi_asset,
)

from dagster_project.lib.translators import extraction_specs, raw_table_key
from extract.pipelines import SOURCES, run_source
from extract.settings import Settings
from extract.sources import socrata

KEY = raw_table_key(socrata.DATASET, socrata.RESOURCE)

yearly_partitions = TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", fmt="%Y", start="2015", end_offset=1
)


class SocrataLoad(Config):
    """`full` reloads the partition's year; `update` loads what changed since the watermark."""

    mode: str = "full"
    reset: bool = False


def raw_socrata_assets(settings: Settings) -> AssetsDefinition:
    """The 311 requests, loaded into the home of `settings`."""

    @multi_asset(
        name="raw_socrata",
        specs=extraction_specs(
            SOURCES["socrata"],
            "MyLA311 service requests, merged on srnumber (full: one year per partition; update: "
            "everything with updateddate after the watermark).",
            group="extract_socrata",
        ),
        partitions_def=yearly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
    )
    def load(context: AssetExecutionContext, config: SocrataLoad) -> MaterializeResult:
        years = [int(key) for key in context.partition_keys]
        run = run_source(
            "socrata",
            options={"mode": config.mode, "years": years, "reset": config.reset},
            on_progress=context.log.info,
            settings=settings,
        )
        load = run.load
        rows = load["inserted"] + load["updated"]
        return MaterializeResult(
            asset_key=KEY,
            metadata={
                "mode": load["mode"],
                "years": load["years"],
                "since": load["since"] or "",
                "watermark": load["watermark"] or "",
                "rows": rows,
                "inserted": load["inserted"],
                "updated": load["updated"],
                "rejected": load["rejected"],
                "seconds": load["seconds"],
                "rows_per_second": round(rows / load["seconds"], 1) if load["seconds"] else 0.0,
                "vacuumed": load["vacuumed"],
            },
        )

    return load
