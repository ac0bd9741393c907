"""LA 311 service requests (Socrata) as one asset, `raw_socrata/service_requests`, in its own
group `extract_socrata` (its yearly partitions cannot share a run with the daily Yelp ones).

Full loads are yearly partitions (one Socrata dataset per year); the daily update job
materializes the current year's partition in update mode, which loads every request changed
since the watermark across all years (updates land mostly in the current year). Both write the
same table through `run_source`, merging on `srnumber`.
"""

from datetime import UTC, datetime

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    AssetSpec,
    BackfillPolicy,
    Config,
    MaterializeResult,
    RunRequest,
    ScheduleEvaluationContext,
    TimeWindowPartitionsDefinition,
    define_asset_job,
    multi_asset,
    schedule,
)

from extract.pipelines import run_source
from extract.sources import socrata

KEY = AssetKey([socrata.DATASET, socrata.RESOURCE])

yearly_partitions = TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", fmt="%Y", start="2015", end_offset=1
)


class SocrataLoad(Config):
    """`full` reloads the partition's year; `update` loads what changed since the watermark."""

    mode: str = "full"
    reset: bool = False


@multi_asset(
    name="raw_socrata",
    specs=[
        AssetSpec(
            KEY,
            group_name="extract_socrata",
            kinds={"dlt", "postgres"},
            description="MyLA311 service requests, merged on srnumber (full: one year per "
            "partition; update: everything with updateddate after the watermark).",
        )
    ],
    partitions_def=yearly_partitions,
    backfill_policy=BackfillPolicy.single_run(),
)
def raw_socrata_assets(context: AssetExecutionContext, config: SocrataLoad) -> MaterializeResult:
    years = [int(key) for key in context.partition_keys]
    run = run_source(
        "socrata",
        options={"mode": config.mode, "years": years, "reset": config.reset},
        on_progress=context.log.info,
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


# the load and everything built from it: the 311 OLTP tables and summary, their lake export,
# fct_service_request and the 311 marts, with their checks (none is daily-partitioned); and
# dim_date, which the monthly mart joins (a fixed calendar: it reads nothing)
CHAIN = AssetSelection.assets(KEY).downstream() | AssetSelection.assets(
    AssetKey(["dwh", "dim_date"])
)

socrata_full_job = define_asset_job(
    "socrata_full",
    selection=CHAIN,
    partitions_def=yearly_partitions,
    description="Full loads of LA 311 years (a range of years is one run), then the 311 chain "
    "through OLTP, lake, warehouse and marts.",
)
socrata_update_job = define_asset_job(
    "socrata_update",
    selection=CHAIN,
    partitions_def=yearly_partitions,
    config={"ops": {"raw_socrata": {"config": {"mode": "update"}}}},
    description="Every LA 311 request changed since the last load (update mode), then the 311 "
    "chain through OLTP, lake, warehouse and marts.",
)


@schedule(job=socrata_update_job, cron_schedule="0 2 * * *", name="socrata_update_daily")
def socrata_update_daily(context: ScheduleEvaluationContext) -> RunRequest:
    """Daily at 02:00 UTC, recorded on the current year's partition."""
    now = context.scheduled_execution_time or datetime.now(UTC)
    return RunRequest(partition_key=str(now.year))
