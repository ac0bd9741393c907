"""The `hr` job: the whole HR group, from the drop folder to the report."""

from dagster import AssetSelection, define_asset_job

from dagster_project.lib.tags import WRITES_BOTH
from dagster_project.lib.translators import HR_GROUP, PUBLISHED

hr_job = define_asset_job(
    "hr",
    # with the warehouse's publication: the chain's marts are read once they are published
    selection=AssetSelection.groups(HR_GROUP) | AssetSelection.assets(PUBLISHED),
    tags=WRITES_BOTH,
    description="The HR chain: new drop-folder files into raw_hr, the OLTP tables, the lake, "
    "the warehouse, the two KPI marts (published) and the report.",
)
