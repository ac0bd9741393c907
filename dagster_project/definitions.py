"""The code location: everything Dagster shows, loaded through workspace.yaml."""

from dagster import Definitions

from dagster_project.defs.dbt_projects import dbt_cli, oltp_project
from dagster_project.defs.extract.assets import extract_assets
from dagster_project.defs.oltp.assets import dbt_oltp_assets
from dagster_project.jobs import oltp_job, reference_job, yelp_daily_job

defs = Definitions(
    assets=[*extract_assets, dbt_oltp_assets],
    jobs=[reference_job, yelp_daily_job, oltp_job],
    resources={"dbt_oltp": dbt_cli(oltp_project)},
)
