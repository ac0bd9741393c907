"""Asset-key rules, in one place.

Keys mirror where the data physically lives: `[schema, table]`. A dlt resource lands in the
Postgres schema named after its dataset, so its key is `[dataset, table]` — exactly the key a dbt
source `raw_yelp` with table `businesses` gets by default, and lineage connects by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey, AssetSpec
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings
from dagster_dbt.asset_utils import default_group_from_dbt_resource_props

from extract.sources.accounting import LOADS_TABLE
from extract.sources.spec import SourceSpec

# The HR chain is one group from raw_hr to the report, across layers; its dbt folders declare
# it (`+meta: {dagster: {group: hr}}`), and the lake export's HR tables follow their models.
HR_GROUP = "hr"
# the warehouse's publication: downstream of every dbt_dwh model, upstream of what serves them
PUBLISHED = AssetKey(["warehouse", "published"])

# Extraction order that is data, not convenience: Yelp searches the counties Census loaded.
SOURCE_UPSTREAMS: dict[str, tuple[AssetKey, ...]] = {
    "yelp": (AssetKey(["raw_census", "county_population"]),),
}


def raw_table_key(dataset: str, table: str) -> AssetKey:
    """`raw_yelp/businesses`: the Postgres schema (dlt dataset, dbt source) and the table."""
    return AssetKey([dataset, table])


def lake_table_key(table: str) -> AssetKey:
    """`lake/business`: an OLTP table's export in the lake, which is also dbt_dwh's source
    `lake` table of that name, so the export and the warehouse connect by construction."""
    return AssetKey(["lake", table])


def oltp_table_key(table: str) -> AssetKey:
    """`oltp/business`: a dbt_oltp model (schema `oltp`)."""
    return AssetKey(["oltp", table])


def extraction_specs(
    source: SourceSpec, description: str, *, group: str = "extract", ledger: bool = False
) -> list[AssetSpec]:
    """The assets of one extracted source: one per table its loads write (the registry's
    `resources`), keyed `[dataset, table]`, with the cross-source upstreams above; with
    `ledger`, also its load ledger (`_loads`, written in every load of the source), which the
    OLTP model reads as an upstream of its own. Built from the registry rather than from a dlt
    source object, so describing the assets needs no source URLs or credentials."""
    tables = [*source.resources, *([LOADS_TABLE] if ledger else [])]
    return [
        AssetSpec(
            raw_table_key(source.dataset, table),
            deps=[] if table == LOADS_TABLE else list(SOURCE_UPSTREAMS.get(source.name, ())),
            group_name=group,
            kinds={"dlt", "postgres"},
            description=(
                f"{source.dataset}.{LOADS_TABLE}: one row per resource and batch (received, "
                "loaded, rejected), replaced with a new load id whenever the batch loads again."
                if table == LOADS_TABLE
                else description
            ),
            # the table the UI names for the asset (as dagster-dlt and dagster-dbt set it)
            metadata={"dagster/table_name": f"{source.dataset}.{table}"},
        )
        for table in tables
    ]


class GourmandDbtTranslator(DagsterDbtTranslator):
    """dbt nodes keyed `[schema, name]`; sources keyed like the dlt assets that load them."""

    def __init__(self, group: str, groups_by_schema: Mapping[str, str] | None = None) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self.group = group
        self.groups_by_schema = dict(groups_by_schema or {})

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            # a table written by another table's load (raw_yelp._loads, the day ledger written
            # with the businesses) names that table's asset in its meta
            declared = (dbt_resource_props.get("meta") or {}).get("dagster", {}).get("asset_key")
            if declared:
                return AssetKey(list(declared))
            return raw_table_key(dbt_resource_props["source_name"], dbt_resource_props["name"])
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        declared = declared_group(dbt_resource_props)
        if declared:
            return declared
        return self.groups_by_schema.get(dbt_resource_props.get("schema", ""), self.group)


def declared_group(dbt_resource_props: Mapping[str, Any]) -> str | None:
    """The group a dbt node's folder declares (`meta: {dagster: {group: ...}}`), if any."""
    return default_group_from_dbt_resource_props(dbt_resource_props)
