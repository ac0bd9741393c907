"""The `hr` job: the whole HR group, from the drop folder to the report."""

from dagster import AssetSelection, define_asset_job

from dagster_project.lib.tags import WRITES_BOTH
from dagster_project.lib.translators import HR_GROUP

hr_job = define_asset_job(
    "hr",
    selection=AssetSelection.groups(HR_GROUP),
    tags=WRITES_BOTH,
    description="The HR chain: new drop-folder files into raw_hr, the OLTP tables, the lake, "
    "the warehouse, the two KPI marts and the report.",
)
