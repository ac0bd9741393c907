"""Runs Great Expectations (GX Core 1.x, ephemeral context) on pandas batches and turns the
validation results into one `Outcome` per check.

The data always arrives as a DataFrame: from Postgres through a query, from DuckDB through a
read-only connection (GX's SQL datasource cannot drive DuckDB). Layer modules keep batches
bounded (one survey day at a time, or aggregates), so memory does not grow with history.
GX is imported on first use: it costs seconds, and loading the Dagster definitions must not.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from expectations.catalog import BY_NAME

SAMPLE_ROWS = 10  # offending rows kept per check: enough to find them, small enough to store


@dataclass
class Outcome:
    """One check's result: what the quality table, the Dagster check and the alert show."""

    check: str
    passed: bool
    observed: str
    expected: str
    sample: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    rows: int = 0  # rows (or aggregate rows) validated

    @property
    def severity(self) -> str:
        return BY_NAME[self.check].severity

    @property
    def layer(self) -> str:
        return BY_NAME[self.check].layer

    @property
    def asset(self) -> str:
        return "/".join(BY_NAME[self.check].asset)

    def sample_json(self) -> str:
        return json.dumps(self.sample, default=str)


@cache
def _batch_definition() -> Any:
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("gourmand")
    return source.add_dataframe_asset("batch").add_batch_definition_whole_dataframe("whole")


def expect(name: str, **kwargs: Any) -> Any:
    """A GX expectation by class name, e.g. expect("ExpectColumnValuesToBeBetween", ...)."""
    import great_expectations.expectations as gxe

    return getattr(gxe, name)(**kwargs)


def validate(
    check: str,
    frame: Any,
    expectations: Sequence[Any],
    key_columns: Sequence[str],
    expected: str | None = None,
    *,
    require_rows: bool = False,
) -> Outcome:
    """All `expectations` on one DataFrame; the check passes when every one does. Offending
    rows are sampled by `key_columns` (plus the failing column's value).

    `require_rows`: the frame is the data itself (a day, a table), so no rows is a failure; GX
    passes every column expectation on an empty frame. Leave it off for frames of candidate
    offenders, which are empty when all is well."""
    description = expected or BY_NAME[check].description
    if require_rows and len(frame) == 0:
        return Outcome(check, False, "no rows to check: the data this check reads is empty",
                       description)  # fmt: skip
    started = time.perf_counter()
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    fmt = {"result_format": "COMPLETE", "unexpected_index_column_names": list(key_columns)}
    failures: list[str] = []
    sample: list[dict[str, Any]] = []
    for expectation in expectations:
        result = batch.validate(expectation, result_format=fmt)
        if result.success:
            continue
        details = result.result or {}
        column = getattr(expectation, "column", None) or ",".join(
            getattr(expectation, "column_list", None) or []
        )
        failures.append(
            f"{column}: {details.get('unexpected_count', '?')} of "
            f"{details.get('element_count', len(frame))} rows unexpected"
            if "unexpected_count" in details
            else f"{column}: observed {details.get('observed_value')!r}"
        )
        for row in details.get("unexpected_index_list") or []:
            if len(sample) < SAMPLE_ROWS:
                sample.append({k: _plain(v) for k, v in row.items()})
    observed = "; ".join(failures) if failures else f"{len(frame)} rows, all as expected"
    seconds = time.perf_counter() - started
    return Outcome(check, not failures, observed, description, sample, seconds, len(frame))


def merge(check: str, parts: Sequence[Outcome]) -> Outcome:
    """One outcome from the outcomes of several batches (days) of the same check."""
    if not parts:
        # nothing was checked: never a pass
        return Outcome(check, False, "no batch to check", BY_NAME[check].description)
    failed = [p for p in parts if not p.passed]
    sample = [row for p in failed for row in p.sample][:SAMPLE_ROWS]
    rows = sum(p.rows for p in parts)
    observed = (
        " | ".join(p.observed for p in failed)
        if failed
        else f"{rows} rows in {len(parts)} batches, all as expected"
    )
    seconds = sum(p.seconds for p in parts)
    return Outcome(check, not failed, observed, parts[0].expected, sample, seconds, rows)


def _plain(value: Any) -> Any:
    """numpy scalars and dates as JSON-friendly values."""
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
