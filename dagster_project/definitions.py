"""The code location: everything Dagster shows, loaded through workspace.yaml."""

from dagster import Definitions, ExecutorDefinition, in_process_executor, multiprocess_executor

from dagster_project.defs.alerts.sensors import alert_on_run_failure
from dagster_project.defs.daily.jobs import daily_job
from dagster_project.defs.daily.schedules import daily_schedule
from dagster_project.defs.extract.assets import extract_assets
from dagster_project.defs.extract.jobs import reference_job, yelp_daily_job
from dagster_project.defs.hr.assets import hr_report, raw_hr_assets
from dagster_project.defs.hr.jobs import hr_job
from dagster_project.defs.hr.sensors import hr_drop_sensor
from dagster_project.defs.lake.assets import lake_export_assets
from dagster_project.defs.oltp.assets import dbt_oltp_assets
from dagster_project.defs.oltp.jobs import oltp_job
from dagster_project.defs.quality.checks import quality_checks
from dagster_project.defs.runs.sensors import reap_dead_runs_sensor
from dagster_project.defs.serving.assets import serving_assets
from dagster_project.defs.socrata.assets import raw_socrata_assets
from dagster_project.defs.socrata.jobs import socrata_full_job, socrata_update_job
from dagster_project.defs.socrata.schedules import socrata_update_daily
from dagster_project.defs.warehouse.assets import warehouse_assets
from dagster_project.defs.warehouse.jobs import warehouse_job
from dagster_project.lib.dbt_projects import dbt_cli, dwh_project, oltp_project
from dagster_project.lib.runs import patch_slot_wait
from extract.settings import Settings, get_settings
from extract.sources.endpoints import use_sandbox

# a step waiting for a pool slot sleeps between its claims (Dagster 1.13 spins; see runs.py)
patch_slot_wait()


def _home_sandbox(settings: Settings) -> str:
    """The base URL of the home's sandbox, started on demand and counted per process
    (extract/sandbox/process.py), as a `gourmand` command reaches it."""
    from extract.sandbox.process import sandbox_url

    return sandbox_url(settings)


# Dagster's processes (the UI's and the daemon's runs, a multiprocess run's steps) begin here, not
# in `gourmand`: in sandbox mode, sources that name no service reach the home's sandbox as a
# command's do (extract/sources/endpoints.py)
use_sandbox(_home_sandbox)


def _executor() -> ExecutorDefinition:
    """In one process on a laptop: steps run one after another anyway (each layer reads the one
    before), and in one process they skip a ~4 s interpreter-and-definitions start per step. A
    deployment (GOURMAND_DAGSTER_EXECUTOR=multiprocess) runs independent steps in parallel."""
    settings = get_settings()
    if settings.dagster_executor == "multiprocess":
        return multiprocess_executor.configured({"max_concurrent": settings.dagster_max_processes})
    return in_process_executor


defs = Definitions(
    assets=[
        *extract_assets,
        raw_socrata_assets,
        raw_hr_assets,
        dbt_oltp_assets,
        lake_export_assets,
        *warehouse_assets,
        hr_report,
        *serving_assets,
    ],
    asset_checks=quality_checks,
    jobs=[
        reference_job,
        yelp_daily_job,
        oltp_job,
        warehouse_job,
        daily_job,
        socrata_full_job,
        socrata_update_job,
        hr_job,
    ],
    schedules=[daily_schedule, socrata_update_daily],
    sensors=[alert_on_run_failure, hr_drop_sensor, reap_dead_runs_sensor],
    resources={"dbt_oltp": dbt_cli(oltp_project), "dbt_dwh": dbt_cli(dwh_project)},
    executor=_executor(),
)
