"""Every quality check in one readable table: its name, layer, the asset it guards, and severity.

`halt` checks block: when one fails, Dagster does not materialize what is downstream of the
guarded asset in that run. `warn` checks record the failure and alert, and the run goes on.
Change a severity here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

HALT = "halt"
WARN = "warn"


@dataclass(frozen=True)
class Check:
    name: str
    layer: str  # raw | oltp | warehouse | reconciliation
    asset: tuple[str, ...]  # the asset key it is attached to
    severity: str
    description: str


_BUSINESSES = ("raw_yelp", "businesses")
_REQUESTS = ("raw_socrata", "service_requests")

CHECKS: tuple[Check, ...] = (
    # raw: incoming values, per survey day of the run
    Check("rating_in_steps", "raw", _BUSINESSES, HALT,
          "rating is 0..5 in steps of 0.5 (or null)"),
    Check("review_count_non_negative", "raw", _BUSINESSES, HALT,
          "review_count >= 0"),
    Check("coordinates_valid", "raw", _BUSINESSES, HALT,
          "latitude in [-90, 90], longitude in [-180, 180] (or null)"),
    Check("price_levels", "raw", _BUSINESSES, WARN,
          "price is one of $, $$, $$$, $$$$ (or null)"),
    Check("ids_unique_per_day", "raw", _BUSINESSES, HALT,
          "id is not null and unique per surveyed_on"),
    Check("state_codes_known", "raw", _BUSINESSES, HALT,
          "state is a postal code of the scraped states table"),
    Check("population_positive", "raw", ("raw_census", "county_population"), HALT,
          "pop > 0"),
    Check("service_request_keys_unique", "raw", _REQUESTS, HALT,
          "srnumber is not null and unique (the merge key)"),
    Check("service_request_closed_after_created", "raw", _REQUESTS, WARN,
          "closeddate is not before createddate (or null)"),
    Check("hr_rejected_share", "raw", ("raw_hr", "employees"), WARN,
          "each HR batch (file or API call, any of the three tables) ingested since this "
          "check last ran has at most 5% of its rows rejected"),
    # oltp: relational invariants dbt's generic tests do not express
    Check("open_businesses_held_latest_day", "oltp", ("oltp", "business_holding"), HALT,
          "every open business (valid_to is null) has a holding on the latest survey day"),
    Check("population_change_plausible", "oltp", ("oltp", "county_growth"), WARN,
          "a county's population changes by at most 10% from one year to the next"),
    # warehouse
    Check("fact_rows_every_day", "warehouse", ("dwh", "fct_business_holding"), WARN,
          "every day from the first to the last survey day has holdings"),
    Check("scd2_no_gaps_or_overlaps", "warehouse", ("dwh", "dim_business"), HALT,
          "each business's versions tile time: each valid_from is the previous valid_to"),
    Check("fact_fresh", "warehouse", ("dwh", "fct_business_holding"), WARN,
          "the newest fact day is the newest survey day in raw_yelp"),
    Check("service_request_fresh", "warehouse", ("dwh", "fct_service_request"), WARN,
          "the newest updated_at in the fact is the newest updateddate in raw_socrata"),
    # reconciliation raw -> oltp -> lake -> warehouse (expectations/reconcile.py has the rules)
    Check("reconcile_business_holding", "reconciliation", ("dwh", "fct_business_holding"), HALT,
          "business-days: raw = oltp = lake = warehouse, counts and key checksums"),
    Check("reconcile_review", "reconciliation", ("dwh", "dim_review"), HALT,
          "reviews: raw = oltp = lake = current warehouse versions, counts and key checksums"),
    Check("reconcile_county_growth", "reconciliation", ("dwh", "fct_county_growth"), WARN,
          "county-years: raw county rows of the yearly estimates = oltp = lake = warehouse"),
    Check("reconcile_service_request", "reconciliation", ("dwh", "fct_service_request"), HALT,
          "LA 311 requests: raw = oltp = lake = warehouse, counts and srnumber checksums"),
)  # fmt: skip

BY_NAME = {c.name: c for c in CHECKS}
