"""HR: the drop folder's files into raw_hr, and the KPI report at the end of the chain, all in
group `hr` with the dbt models between them (their dbt folders declare the group), so
`gourmand materialize --select group:hr` rebuilds the whole chain after an ingest.

The `hr` job (jobs.py) runs the group; a sensor (sensors.py) starts it when the drop folder
changes.
"""

from collections.abc import Iterator
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from dagster_project.lib.translators import HR_GROUP, PUBLISHED, raw_table_key
from extract.settings import Settings
from extract.sources.hr.rules import DATASET, LOAD_ORDER

REPORT_KEY = AssetKey(["reports", "hr"])
MARTS = (
    AssetKey(["marts", "hr_hires_by_quarter"]),
    AssetKey(["marts", "hr_departments_above_mean"]),
)


def hr_assets(settings: Settings) -> list[AssetsDefinition]:
    """The drop folder of `settings` into raw_hr, and the report."""

    @multi_asset(
        name="raw_hr",
        specs=[
            AssetSpec(
                raw_table_key(DATASET, table),
                group_name=HR_GROUP,
                kinds={"csv", "postgres"},
                description=f"HR {table} from the drop folder's {table}*.csv files, checked "
                "against the data dictionary and upserted on the id; bad rows go to "
                "raw_hr._rejects.",
            )
            for table in LOAD_ORDER
        ],
    )
    def raw_hr_assets(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        """Ingest the files dropped since the last run (departments, then jobs, then employees)."""
        from extract.runtime.query import run_query
        from extract.sources.hr.drops import ingest_drops
        from extract.sources.hr.ingest import create_tables

        create_tables(settings)  # the chain builds (empty) before the first drop
        run = ingest_drops(settings)
        for result in run.results:
            context.log.info(f"{result.batch}: {result.as_metadata()}")
        for table in LOAD_ORDER:
            mine = [r for r in run.results if r.table == table]
            seconds = sum(r.seconds for r in mine)
            written = sum(r.inserted + r.updated for r in mine)
            _, rows = run_query(f"SELECT count(*) FROM {DATASET}.{table}", settings=settings)
            yield MaterializeResult(
                asset_key=raw_table_key(DATASET, table),
                metadata={
                    "files": MetadataValue.json([Path(r.context).name for r in mine]),
                    "received": sum(r.received for r in mine),
                    "loaded": sum(r.loaded for r in mine),
                    "rejected": sum(r.rejected for r in mine),
                    "inserted": sum(r.inserted for r in mine),
                    "updated": sum(r.updated for r in mine),
                    "unchanged": sum(r.unchanged for r in mine),
                    "rows": written,
                    "seconds": round(seconds, 3),
                    "rows_per_second": round(written / seconds, 1) if seconds else 0.0,
                    "dagster/row_count": int(rows[0][0]),
                },
            )
        if run.failed:
            raise Failure(
                description="HR files that could not be ingested (left in the drop folder, tried "
                "again next run): " + "; ".join(f"{name}: {error}" for name, error in run.failed),
            )

    # from the published build: after the warehouse's publication
    @asset(key=REPORT_KEY, deps=[*MARTS, PUBLISHED], group_name=HR_GROUP, kinds={"html"})
    def hr_report() -> MaterializeResult:
        """The hiring KPIs as an offline HTML report (charts and CSVs) per year with hires, under
        <home>/reports/hr/<year>/."""
        from extract.reports.hr import build_hr_report
        from extract.runtime.query import run_query

        _, rows = run_query(
            "SELECT DISTINCT year FROM marts.hr_hires_by_quarter ORDER BY year",
            target="warehouse",
            settings=settings,
        )
        years = [int(r[0]) for r in rows]
        folder = settings.home / "reports" / "hr"
        paths = {str(y): str(build_hr_report(settings, y, folder / str(y))) for y in years}
        return MaterializeResult(
            metadata={"years": MetadataValue.json(years), "reports": MetadataValue.json(paths)}
        )

    return [raw_hr_assets, hr_report]
