"""The sandbox's knobs: the size of its world and the faults it injects."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class SandboxConfig:
    """Everything that decides what the sandbox answers; same config + request -> same bytes."""

    # size
    seed: int = 42
    counties: int = 5
    businesses_per_county: int = 60
    start_date: date = date(2024, 1, 1)
    reviews_per_business: int = 3
    events_per_county: int = 4
    token: str = "sandbox-token"
    census_key: str | None = None
    # faults
    rate_limit_every: int = 0
    retry_after: int = 1
    error_burst_at: int = 0
    error_burst_len: int = 3
    fail_pattern: str | None = None
    slow_every: int = 0
    slow_seconds: float = 0.0
    malformed_every: int = 0
    extra_field: bool = False
    bad_rating_every: int = 0
    negative_review_count_every: int = 0
    unknown_state_every: int = 0
    # a survey day whose data the source revised after it was first served: on it, about one
    # business in eight is no longer listed, one in five has another rating and one in ten a new
    # name (a re-run of that day must replace what the first run loaded)
    yelp_revised_day: date | None = None
    # Socrata (LA 311): years served, size, later updates and row faults
    socrata_years: str = "2023,2024"
    socrata_rows_per_year: int = 2000
    socrata_changed_fraction: float = 0.0
    socrata_new_rows: int = 0
    socrata_changed_at: str = "2025-06-01T00:00:00"
    socrata_null_srnumber_every: int = 0
    socrata_backwards_every: int = 0
    socrata_app_token: str | None = None
    # pages that lose every Nth of their rows on the way (count(*) still counts them): a short
    # load the client must notice
    socrata_lose_every: int = 0
    # HR CSV drops (departments, jobs, employees): size, hire year and invalid employee lines
    hr_departments: int = 12
    hr_jobs: int = 40
    hr_employees: int = 3000
    hr_year: int = 2021  # hires spread over this year, ~10% in the year before
    hr_invalid_every: int = 50  # every Nth employee line breaks one rule (rotating); 0 = none

    def __post_init__(self) -> None:
        # Fail at start-up, not on the first Socrata request.
        years = [y.strip() for y in self.socrata_years.split(",") if y.strip()]
        if not years or not all(y.isdigit() for y in years):
            raise ValueError(f"socrata_years must be comma-separated years: {self.socrata_years!r}")
        if datetime.fromisoformat(self.socrata_changed_at).tzinfo is not None:
            raise ValueError("socrata_changed_at is a floating timestamp, without a zone")
        if not 0.0 <= self.socrata_changed_fraction <= 1.0:
            raise ValueError("socrata_changed_fraction must be within 0..1")
        if min(self.socrata_rows_per_year, self.socrata_new_rows) < 0:
            raise ValueError("socrata row counts must not be negative")
        if min(self.hr_departments, self.hr_jobs) < 1:
            raise ValueError("hr_departments and hr_jobs must be at least 1")
        if min(self.hr_employees, self.hr_invalid_every) < 0:
            raise ValueError("hr_employees and hr_invalid_every must not be negative")
        if not 1971 <= self.hr_year <= 9999:
            raise ValueError(f"hr_year must be within 1971..9999: {self.hr_year}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SandboxConfig:
        """Build from strings (CLI flags, environment); unknown names are an error."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for name, raw in values.items():
            key = name.replace("-", "_")
            if key not in fields:
                raise ValueError(f"unknown sandbox knob {name!r}")
            kwargs[key] = _convert(fields[key].type, raw)
        return cls(**kwargs)

    def to_args(self) -> list[str]:
        """CLI flags that `python -m extract.sandbox` parses back into an equal config."""
        args: list[str] = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None or value == f.default:
                continue
            args += [f"--{f.name.replace('_', '-')}", _render(value)]
        return args


def _convert(kind: Any, raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    kind = str(kind)
    if kind.startswith("date"):
        return date.fromisoformat(raw)
    if kind == "bool":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"not a boolean: {raw!r}")
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    return raw


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
