"""The LA 311 jobs: full loads of years, and the daily update, each followed by the 311 chain."""

from dagster import AssetKey, AssetSelection, define_asset_job

from dagster_project.defs.socrata.assets import KEY, yearly_partitions
from dagster_project.lib.tags import WRITES_BOTH
from dagster_project.lib.translators import HR_GROUP

# the load and everything built from it: the 311 OLTP tables and summary, their lake export,
# fct_service_request and the 311 marts, with their checks (none is daily-partitioned); and
# dim_date, which the monthly mart joins (a fixed calendar: it reads nothing); the warehouse's
# publication and what serves it, but not the HR report, which is downstream of the publication
# only and reads marts this chain does not build
CHAIN = (
    AssetSelection.assets(KEY).downstream() | AssetSelection.assets(AssetKey(["dwh", "dim_date"]))
) - AssetSelection.groups(HR_GROUP)

socrata_full_job = define_asset_job(
    "socrata_full",
    selection=CHAIN,
    partitions_def=yearly_partitions,
    tags=WRITES_BOTH,
    description="Full loads of LA 311 years (a range of years is one run), then the 311 chain "
    "through OLTP, lake, warehouse and marts.",
)
socrata_update_job = define_asset_job(
    "socrata_update",
    selection=CHAIN,
    partitions_def=yearly_partitions,
    tags=WRITES_BOTH,
    config={"ops": {"raw_socrata": {"config": {"mode": "update"}}}},
    description="Every LA 311 request changed since the last load (update mode), then the 311 "
    "chain through OLTP, lake, warehouse and marts.",
)
