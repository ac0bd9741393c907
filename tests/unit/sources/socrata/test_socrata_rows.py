"""How the socrata source types a CSV page and which rows it rejects, with which reason."""

from __future__ import annotations

import pyarrow as pa

from extract.sources.socrata.pages import COLUMNS, typed


def page(*rows: dict[str, str | None]) -> pa.Table:
    return pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in COLUMNS})


GOOD = {
    "srnumber": "1-1",
    "createddate": "2024-01-02T03:04:05.000",
    "updateddate": "2024-01-03T00:00:00.000",
    "nc": "12",
    "latitude": "34.05",
}


def test_a_good_row_is_typed_and_kept():
    table, reasons = typed(page(GOOD))
    assert reasons.to_pylist() == [None]
    row = table.to_pylist()[0]
    assert row["nc"] == 12 and row["latitude"] == 34.05
    assert str(row["createddate"]) == "2024-01-02 03:04:05"


def test_each_bad_row_gets_its_reason():
    _, reasons = typed(
        page(
            {**GOOD, "srnumber": None},
            {**GOOD, "createddate": None},
            {**GOOD, "updateddate": None},
            {**GOOD, "updateddate": "yesterday"},
            {**GOOD, "updateddate": "2024-01-01T00:00:00.000"},
            GOOD,
        )
    )
    assert reasons.to_pylist() == [
        "srnumber is missing",
        "createddate is missing",
        "updateddate is missing",
        "updateddate is not a timestamp: yesterday",
        "updateddate is before createddate",
        None,
    ]


def test_dates_outside_the_plausible_range_are_rejected():
    """A future updateddate would hold the watermark in the future and stall every update."""
    _, reasons = typed(
        page(
            {**GOOD, "updateddate": "2999-01-01T00:00:00.000"},
            {**GOOD, "createddate": "1999-12-31T23:59:59.000"},
            {**GOOD, "createddate": "0001-01-01T00:00:00.000"},
            {**GOOD, "servicedate": "2999-01-01T00:00:00.000"},  # kept: a planned visit
            GOOD,
        )
    )
    assert reasons.to_pylist() == [
        "updateddate out of the plausible range (2000-01-01 to a day after the load): "
        "2999-01-01T00:00:00.000",
        "createddate out of the plausible range (2000-01-01 to a day after the load): "
        "1999-12-31T23:59:59.000",
        "createddate out of the plausible range (2000-01-01 to a day after the load): "
        "0001-01-01T00:00:00.000",
        None,
        None,
    ]
