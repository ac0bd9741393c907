"""Which checks guard which asset, and running them: the one entry point the Dagster checks
(and `gourmand quality`) call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from expectations.catalog import CHECKS, Check
from expectations.runner import Outcome
from extract.settings import Settings


def checks_on(asset: tuple[str, ...]) -> list[Check]:
    return [c for c in CHECKS if c.asset == asset]


def guarded_assets() -> list[tuple[str, ...]]:
    return sorted({c.asset for c in CHECKS})


def run_checks(settings: Settings, asset: tuple[str, ...], days: Sequence[date]) -> list[Outcome]:
    """The checks on `asset`; raw Yelp checks look at `days` (the newest day when empty)."""
    from expectations import oltp, raw, reconcile, warehouse

    names = {c.name for c in checks_on(asset)}
    outcomes: list[Outcome] = []
    layers = {c.layer for c in checks_on(asset)}
    if asset == ("raw_yelp", "businesses"):
        if not days:
            newest = raw.latest_day(settings)
            days = [newest] if newest else []
        outcomes += raw.business_checks(settings, days)
    if asset == ("raw_census", "county_population"):
        outcomes += raw.census_checks(settings)
    if asset == ("raw_socrata", "service_requests"):
        outcomes += raw.service_request_checks(settings)
    if asset == ("raw_hr", "employees"):
        outcomes += raw.hr_checks(settings)
    for layer in (oltp, warehouse):
        # each reads only the tables its check guards, so only the asset's checks run
        outcomes += [check(settings) for name, check in layer.CHECKS.items() if name in names]
    if "reconciliation" in layers:
        outcomes += reconcile.reconciliation_checks(settings, names)
    return [o for o in outcomes if o.check in names]  # raw computes its six together
