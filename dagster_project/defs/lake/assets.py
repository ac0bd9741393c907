"""The lake export: one asset per OLTP table (`lake/<table>`), downstream of its dbt_oltp model and
upstream of dbt_dwh's source of the same key."""

from collections.abc import Iterator
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    AssetSpec,
    MaterializeResult,
    multi_asset,
)
from dagster_dbt import DbtProject
from dagster_dbt.dbt_manifest import read_manifest_path

from dagster_project.lib.translators import declared_group, lake_table_key, oltp_table_key
from extract.lake.export import TOMBSTONES as TOMBSTONE_SOURCE
from extract.lake.export import export_oltp
from extract.settings import Settings

TOMBSTONE_TABLE = TOMBSTONE_SOURCE[1]
# rows the OLTP model deleted, exported with every export (extract/lake/export.py)
TOMBSTONES = lake_table_key(TOMBSTONE_TABLE)


def deleting_tables(project: DbtProject) -> list[str]:
    """The dbt_oltp models that delete rows (the replace_scope strategy), from the manifest."""
    manifest = read_manifest_path(Path(project.manifest_path))
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"].get("incremental_strategy") == "replace_scope"
    )


def oltp_tables(project: DbtProject) -> dict[str, str]:
    """The dbt_oltp models in schema `oltp` -> their export's group, from the manifest (no
    database at load time): `lake`, or the group the model's folder declares (HR's `hr`)."""
    # dagster-dbt's own cached read: the @dbt_assets of dbt_oltp parse the same file once
    manifest = read_manifest_path(Path(project.manifest_path))
    return {
        node["name"]: declared_group(node) or "lake"
        for node in sorted(manifest["nodes"].values(), key=lambda n: n["name"])
        if node["resource_type"] == "model" and node["schema"] == "oltp"
    }


def lake_export_assets(settings: Settings, project: DbtProject) -> AssetsDefinition:
    """One asset per table of `project`'s schema oltp, exported to the lake of `settings`."""
    tables_of = oltp_tables(project)

    @multi_asset(
        name="lake_export",
        specs=[
            AssetSpec(
                lake_table_key(table),
                deps=[oltp_table_key(table)],
                group_name=group,
                kinds={"parquet", "postgres"},
                description=f"oltp.{table} as Parquet under <lake>/oltp/{table}/, appended "
                "incrementally by last_edited_at.",
            )
            for table, group in tables_of.items()
        ]
        + [
            AssetSpec(
                TOMBSTONES,
                # the models that delete rows (a survey day loaded again can take rows away);
                # the sweep of unreferenced rows runs at the end of the same dbt build
                deps=[oltp_table_key(t) for t in deleting_tables(project)],
                group_name="lake",
                kinds={"parquet", "postgres"},
                description="Tombstones of the rows the OLTP model deleted "
                "(oltp_meta.deleted_rows) under <lake>/oltp/deleted_rows/: the warehouse staging "
                "hides a key deleted after its last version.",
            )
        ],
        # a job may export only its tables (the 311 jobs export the 311 tables)
        can_subset=True,
    )
    def export(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        """Export what changed in the selected `oltp` tables since their last export."""
        selected = context.selected_asset_keys
        tables = [t for t in tables_of if lake_table_key(t) in selected]
        result = export_oltp(settings, tables=tables or None)
        context.log.info(
            f"lake export: {result.total_rows} rows in {result.seconds:.1f}s "
            f"(load {result.load_id})"
        )
        if TOMBSTONES in selected:
            yield MaterializeResult(
                asset_key=TOMBSTONES,
                metadata={"rows": result.tombstones, "load_id": result.load_id or ""},
            )
        for table in tables:
            rows = result.rows.get(table, 0)
            seconds = result.table_seconds.get(table, result.seconds)
            yield MaterializeResult(
                asset_key=lake_table_key(table),
                metadata={
                    # rows appended to the lake by this export (changed since the last one)
                    "rows": rows,
                    # the time its streams took (the tables of one export read in parallel)
                    "seconds": round(seconds, 2),
                    "rows_per_second": round(rows / seconds, 1) if seconds else 0.0,
                    "load_id": result.load_id or "",
                },
            )

    return export
