"""How the socrata source types a CSV page and which rows it rejects, with which reason."""

from __future__ import annotations

import pyarrow as pa

from extract.sources.socrata import COLUMNS, typed


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
