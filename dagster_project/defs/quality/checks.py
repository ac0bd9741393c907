"""The quality layer as Dagster asset checks: one multi-check per guarded asset, each check a
Great Expectations suite or a reconciliation rule from `expectations/`.

A `halt` check is blocking: when it fails, what is downstream of its asset is not materialized
in that run. Every result is also a row of `quality.check_results`, and failures post to the
alert webhook (when one is set) with observed vs expected.
"""

from collections.abc import Iterator
from contextlib import nullcontext
from datetime import date, timedelta

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from expectations.catalog import HALT
from expectations.runner import Outcome
from expectations.suites import checks_on, guarded_assets
from extract.settings import Settings

RECONCILIATION = "reconciliation"

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def run_days(context: AssetCheckExecutionContext) -> list[date]:
    """The survey days of this run (a partition or a range); none outside daily-partitioned
    runs (the 311 jobs' partitions are years, which the raw Yelp checks have no use for)."""
    tags = context.run.tags
    try:
        if RANGE_START in tags and RANGE_END in tags:
            first = date.fromisoformat(tags[RANGE_START])
            last = date.fromisoformat(tags[RANGE_END])
            return [first + timedelta(days=i) for i in range((last - first).days + 1)]
        if "dagster/partition" in tags:
            return [date.fromisoformat(tags["dagster/partition"])]
    except ValueError:
        pass  # not a day
    return []


def _quality_check(settings: Settings, asset: tuple[str, ...]) -> AssetChecksDefinition:
    key = AssetKey(list(asset))
    checks = checks_on(asset)

    @multi_asset_check(
        name=f"quality__{'__'.join(asset)}",
        specs=[
            AssetCheckSpec(
                c.name,
                asset=key,
                blocking=c.severity == HALT,
                description=f"[{c.layer}, {c.severity}] {c.description}",
            )
            for c in checks
        ],
    )
    def _check(context: AssetCheckExecutionContext) -> Iterator[AssetCheckResult]:
        from dagster_project.lib.settling import settle
        from expectations.reconcile import reconciliation_checks
        from expectations.results import alert_message, record
        from expectations.suites import run_checks
        from extract.runtime import alerts
        from extract.warehouse.load import writer as warehouse_reader

        # the warehouse checks read the DuckDB file: not while another run writes it (the
        # writer's lock, held only while counting: a pool slot held through the wait below
        # would keep the run it waits for from its warehouse build)
        reading = warehouse_reader if asset[0] == "dwh" else nullcontext
        with reading(settings):
            outcomes = run_checks(settings, asset, run_days(context))
        unreconciled = [o.check for o in outcomes if o.layer == RECONCILIATION and not o.passed]
        if unreconciled:

            def recount() -> list[Outcome]:
                with reading(settings):
                    return reconciliation_checks(settings, unreconciled)

            counted = {
                o.check: o
                for o in settle(
                    context.instance, settings, context.run.run_id, recount, context.log.info
                )
            }
            outcomes = [counted.get(o.check, o) for o in outcomes]
        record(settings, context.run.run_id, outcomes)
        failed = [o for o in outcomes if not o.passed]
        if failed and settings.alert_webhook:
            message = alert_message(context.run.run_id, context.run.job_name, failed)
            try:
                alerts.post(settings.alert_webhook, message)
            except alerts.AlertFailed as exc:
                context.log.warning(str(exc))  # the result is recorded; the run goes on
        for o in outcomes:
            yield AssetCheckResult(
                asset_key=key,
                check_name=o.check,
                passed=o.passed,
                severity=(
                    AssetCheckSeverity.ERROR if o.severity == HALT else AssetCheckSeverity.WARN
                ),
                metadata={
                    "layer": o.layer,
                    "severity": o.severity,
                    "observed": o.observed,
                    "expected": o.expected,
                    "unexpected_sample": MetadataValue.json(o.sample),
                    "rows_checked": o.rows,
                    "seconds": round(o.seconds, 3),
                },
            )

    return _check


def quality_checks(settings: Settings) -> list[AssetChecksDefinition]:
    """Every guarded asset's checks, run against the home of `settings`."""
    return [_quality_check(settings, asset) for asset in guarded_assets()]
