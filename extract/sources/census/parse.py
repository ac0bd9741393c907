"""The Census API's answers: DATE_CODE labels from variables.json, and the array-of-arrays table
(first row the header, every cell a string) as raw rows, malformed rows to the ledger's rejects.

DATE_CODE labels: July-1 estimates (codes 3..12) map to the years 2010..2019, the two
April-2010 codes keep their label but get no estimate year.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from extract.sources.accounting import BatchLedger, Rejected

# the Population Estimates vintage loaded, and the batch it is loaded as
VINTAGE = "2019"
VARIABLES = ("NAME", "POP", "DATE_CODE")
_YEAR = re.compile(r"(\d{4})")


def split_county_name(name: str) -> tuple[str, str]:
    """'Autauga County, Alabama' -> ('Autauga County', 'Alabama').

    Split on the last ', ' because the state name never holds a comma while a few county-level
    names do not follow the '<county>, <state>' pattern strictly.
    """
    if ", " not in name:
        raise Rejected(f"NAME {name!r} is not '<county>, <state>'")
    county, state = name.rsplit(", ", 1)
    if not county.strip() or not state.strip():
        raise Rejected(f"NAME {name!r} has an empty county or state part")
    return county.strip(), state.strip()


def date_code_years(variables: Mapping[str, Any]) -> dict[int, tuple[str, int | None]]:
    """DATE_CODE -> (label, estimate year); only July-1 estimates carry a year."""
    try:
        items = variables["variables"]["DATE_CODE"]["values"]["item"]
    except (KeyError, TypeError) as exc:
        raise ValueError("variables.json has no DATE_CODE.values.item mapping") from exc
    mapping: dict[int, tuple[str, int | None]] = {}
    for code, label in items.items():
        match = _YEAR.search(label)
        year = int(match.group(1)) if match and "7/1/" in label else None
        mapping[int(code)] = (label, year)
    return mapping


def rows_from_table(
    table: Sequence[Any],
    labels: Mapping[int, tuple[str, int | None]],
    ledger: BatchLedger,
    extracted_at: datetime,
) -> Iterator[dict[str, Any]]:
    """Turn the array-of-arrays answer into rows; malformed rows go to the ledger's rejects."""
    if not table or not isinstance(table[0], list):
        raise ValueError("Census answer has no header row")
    header = [str(h) for h in table[0]]
    missing = {"NAME", "POP", "DATE_CODE", "state", "county"} - set(header)
    if missing:
        raise ValueError(f"Census header lacks {sorted(missing)}: {header}")
    for line_no, record in enumerate(table[1:], start=2):
        try:
            if not isinstance(record, list) or len(record) != len(header):
                raise Rejected(
                    f"row has {len(record) if isinstance(record, list) else '?'} "
                    f"cells, header has {len(header)}"
                )
            cells = dict(zip(header, record, strict=True))
            county_name, state_name = split_county_name(str(cells["NAME"]))
            try:
                pop = int(cells["POP"])
                code = int(cells["DATE_CODE"])
            except (TypeError, ValueError) as exc:
                raise Rejected(f"POP or DATE_CODE is not an integer: {exc}") from exc
            label, year = labels.get(code, (None, None))
            if label is None:
                raise Rejected(f"DATE_CODE {code} is not in variables.json")
        except Rejected as exc:
            ledger.reject(record, str(exc), context=f"line {line_no}")
            continue
        ledger.accept()
        yield {
            "vintage": VINTAGE,
            "name": cells["NAME"],
            "county_name": county_name,
            "state_name": state_name,
            "state_fips": cells["state"],
            "county_fips": cells["county"],
            "date_code": code,
            "date_label": label,
            "estimate_year": year,
            "pop": pop,
            "extracted_at": extracted_at,
        }
