"""The code location: everything Dagster shows, loaded through workspace.yaml.

Importing this module builds nothing and reads no setting: Dagster calls `defs` when it loads
the code location (`dagster dev`, the daemon, a run's process), and only then are the settings
read, once, and handed to every part that needs them (the partitions' start date, the retry
policy, the dbt projects and resources, the home every asset writes)."""

from functools import cache

from dagster import (
    Definitions,
    ExecutorDefinition,
    definitions,
    in_process_executor,
    multiprocess_executor,
)

from dagster_project.defs.alerts.sensors import alert_on_run_failure
from dagster_project.defs.daily.jobs import daily_job
from dagster_project.defs.daily.schedules import daily_schedule
from dagster_project.defs.extract.assets import extract_assets
from dagster_project.defs.extract.jobs import reference_job, yelp_daily_job
from dagster_project.defs.hr.assets import hr_assets
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
from dagster_project.lib.dbt_projects import dbt_cli, dbt_project
from dagster_project.lib.partitions import daily_partitions
from dagster_project.lib.upstream import patch_slot_wait
from extract.runtime.collector import tune_collector
from extract.settings import Settings, get_settings
from extract.sources.endpoints import use_sandbox


def _home_sandbox(settings: Settings) -> str:
    """The base URL of the home's sandbox, started on demand and counted per process
    (extract/sandbox/process.py), as a `gourmand` command reaches it."""
    from extract.sandbox.process import sandbox_url

    return sandbox_url(settings)


def _executor(settings: Settings) -> ExecutorDefinition:
    """In one process on a laptop: steps run one after another anyway (each layer reads the one
    before), and in one process they skip a ~4 s interpreter-and-definitions start per step. A
    deployment (GOURMAND_DAGSTER_EXECUTOR=multiprocess) runs independent steps in parallel."""
    if settings.dagster_executor == "multiprocess":
        return multiprocess_executor.configured({"max_concurrent": settings.dagster_max_processes})
    return in_process_executor


@cache
def build_definitions(settings: Settings) -> Definitions:
    """Everything Dagster shows, for the home and services of `settings` (built once per
    settings in a process)."""
    # a step waiting for a pool slot sleeps between its claims (Dagster 1.13 spins; upstream.py)
    patch_slot_wait()
    # every Dagster process of the project loads these definitions first (extract/runtime/
    # collector.py says why)
    tune_collector()
    # Dagster's processes (the UI's and the daemon's runs, a multiprocess run's steps) begin
    # here, not in `gourmand`: in sandbox mode, sources that name no service reach the home's
    # sandbox as a command's do (extract/sources/endpoints.py)
    use_sandbox(_home_sandbox)
    oltp = dbt_project(settings.project_root, "dbt_oltp")
    dwh = dbt_project(settings.project_root, "dbt_dwh")
    days = daily_partitions(settings)
    daily = daily_job(days)
    return Definitions(
        assets=[
            *extract_assets(settings),
            raw_socrata_assets(settings),
            dbt_oltp_assets(settings, oltp),
            lake_export_assets(settings, oltp),
            *warehouse_assets(settings, dwh),
            *hr_assets(settings),
            *serving_assets(settings, dwh),
        ],
        asset_checks=quality_checks(settings),
        jobs=[
            reference_job,
            yelp_daily_job(days),
            oltp_job,
            warehouse_job(days),
            daily,
            socrata_full_job,
            socrata_update_job,
            hr_job,
        ],
        schedules=[daily_schedule(daily), socrata_update_daily],
        sensors=[alert_on_run_failure(settings), hr_drop_sensor(settings), reap_dead_runs_sensor],
        resources={"dbt_oltp": dbt_cli(oltp), "dbt_dwh": dbt_cli(dwh)},
        executor=_executor(settings),
    )


@definitions
def defs() -> Definitions:
    """The definitions of this process's settings (the environment, read here and only here)."""
    return build_definitions(get_settings())
