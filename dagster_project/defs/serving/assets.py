"""What the warehouse serves, rebuilt after each build: the data extracts (every mart and
dimension as Parquet and CSV in the lake) and the dashboards site. The read API reads the
warehouse itself; these two are files."""

from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_dbt import DbtProject
from dagster_dbt.dbt_manifest import read_manifest_path

from dagster_project.lib.translators import PUBLISHED
from extract.settings import Settings

GROUP = "serving"
LAYERS = {"oltp_staging": "oltp", "dwh_staging": "warehouse", "dwh": "warehouse"}


def _served_keys(project: DbtProject, *extra: AssetKey) -> list[AssetKey]:
    """The marts and dimensions (what the read API and the extracts serve), from the manifest."""
    # dagster-dbt's own cached read of the manifest the dbt assets parse
    manifest = read_manifest_path(Path(project.manifest_path))
    keys = [
        AssetKey([node["schema"], node["name"]])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and (node["schema"] == "marts" or node["name"].startswith("dim_"))
    ]
    return sorted({*keys, *extra}, key=lambda k: k.to_user_string())


def _runs(context: AssetExecutionContext) -> list[dict[str, Any]]:
    """Rows and seconds per layer per run, from the materializations' metadata (the newest
    runs): an asset materialized once per partition counts once per run."""
    from dagster import AssetRecordsFilter

    per_asset: dict[tuple[str, str], tuple[int, float, float]] = {}
    for asset_key in context.instance.get_asset_keys():
        found = context.instance.fetch_materializations(
            AssetRecordsFilter(asset_key=asset_key), limit=100, ascending=False
        )
        for record in found.records:
            event = record.event_log_entry.dagster_event
            if event is None:
                continue
            materialization = event.event_specific_data.materialization  # type: ignore[union-attr]
            values = {k: v.value for k, v in materialization.metadata.items()}
            rows = values.get("rows", values.get("dagster/row_count", 0))
            seconds = values.get("seconds", 0.0)
            per_asset[(record.run_id, asset_key.to_user_string())] = (
                int(rows) if isinstance(rows, int | float) else 0,
                float(seconds) if isinstance(seconds, int | float) else 0.0,
                record.event_log_entry.timestamp,
            )
    per_layer: dict[tuple[str, str], dict[str, Any]] = {}
    for (run, name), (rows, seconds, at) in per_asset.items():
        schema = name.split("/")[0]
        layer = "extract" if schema.startswith("raw_") else LAYERS.get(schema, schema)
        entry = per_layer.setdefault(
            (run, layer), {"run": run[:8], "started": at, "layer": layer, "rows": 0, "seconds": 0.0}
        )
        entry["rows"] += rows
        entry["seconds"] += seconds
        entry["started"] = min(entry["started"], at)
    from datetime import UTC, datetime

    out = sorted(per_layer.values(), key=lambda e: (e["started"], e["layer"]))
    for entry in out:
        entry["started"] = datetime.fromtimestamp(entry["started"], UTC).strftime("%m-%d %H:%M")
        entry["seconds"] = round(entry["seconds"], 2)
    return out[-200:]


def serving_assets(settings: Settings, project: DbtProject) -> list[AssetsDefinition]:
    """The extracts and the dashboards of the marts and dimensions of `project` (dbt_dwh)."""

    @asset(
        key=AssetKey(["serving", "extracts"]),
        group_name=GROUP,
        deps=_served_keys(project, PUBLISHED),
        kinds={"parquet", "csv"},
        description="Every mart and dimension as Parquet and CSV under <lake>/extracts/<name>/, "
        "with a dictionary (columns, types, descriptions, rows, build time).",
    )
    def extracts(context: AssetExecutionContext) -> MaterializeResult:
        from extract.reports.extracts import write_extracts
        from extract.warehouse.builds import last_build

        built = (last_build(settings) or {}).get("at")
        written = write_extracts(settings, built)
        context.log.info(f"{len(written)} extracts written")
        return MaterializeResult(
            metadata={
                "extracts": MetadataValue.int(len(written)),
                "rows": MetadataValue.int(sum(e.rows for e in written)),
                "names": MetadataValue.text(", ".join(e.name for e in written)),
            }
        )

    @asset(
        key=AssetKey(["serving", "dashboards"]),
        group_name=GROUP,
        # after the extracts: the site links them
        deps=_served_keys(
            project,
            AssetKey(["dwh", "fct_business_holding"]),
            AssetKey(["serving", "extracts"]),
            PUBLISHED,
        ),
        kinds={"html", "plotly"},
        description="The dashboards: a static site, one page per topic (businesses, LA 311, HR, "
        "quality, pipeline runs), at <home>/reports/site and at / of `gourmand serve`.",
    )
    def dashboards(context: AssetExecutionContext) -> MaterializeResult:
        from extract.reports.dashboards import build_site

        index = build_site(settings, settings.home / "reports" / "site", _runs(context))
        return MaterializeResult(metadata={"index": MetadataValue.path(str(index))})

    return [extracts, dashboards]
