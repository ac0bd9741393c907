"""The code location: everything Dagster shows, loaded through workspace.yaml."""

from __future__ import annotations

from dagster import Definitions

from dagster_project.defs.extract.assets import extract_assets
from dagster_project.jobs import reference_job, yelp_daily_job

defs = Definitions(
    assets=[*extract_assets],
    jobs=[reference_job, yelp_daily_job],
)
