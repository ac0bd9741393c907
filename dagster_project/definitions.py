"""The code location: everything Dagster shows, loaded through workspace.yaml."""

from dagster import Definitions

from dagster_project.defs.alerts.sensors import alert_on_run_failure
from dagster_project.defs.dbt_projects import dbt_cli, dwh_project, oltp_project
from dagster_project.defs.extract.assets import extract_assets
from dagster_project.defs.lake.assets import lake_export_assets
from dagster_project.defs.oltp.assets import dbt_oltp_assets
from dagster_project.defs.warehouse.assets import dbt_dwh_assets
from dagster_project.jobs import oltp_job, reference_job, warehouse_job, yelp_daily_job

defs = Definitions(
    assets=[*extract_assets, dbt_oltp_assets, lake_export_assets, dbt_dwh_assets],
    jobs=[reference_job, yelp_daily_job, oltp_job, warehouse_job],
    sensors=[alert_on_run_failure],
    resources={"dbt_oltp": dbt_cli(oltp_project), "dbt_dwh": dbt_cli(dwh_project)},
)
