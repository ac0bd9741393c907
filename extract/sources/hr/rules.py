"""HR CSV drops: the data dictionary and the per-row rules that need no database.

The HR system exports three header-less, comma-separated files (departments, jobs, employees).
Every field is mandatory. A row that breaks a rule is never inserted: it goes to
`raw_hr._rejects` with its line number, the raw line and *every* rule it broke, so one pass over
a bad file tells the sender everything to fix. Rules that need the database (duplicate id,
unknown department or job) are applied in SQL by `extract.sources.hr.ingest`, over the whole
batch at once; the rules here are the ones a single line can break on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

DATASET = "raw_hr"
FieldType = Literal["integer", "string", "timestamp"]

INT32_MAX = 2**31 - 1
# A hiring date is plausible from 1900 to a year after the load (hires are booked ahead); year 1
# or 9999 is a typo the sender must fix, not a row to keep (docs/data-dictionary.md).
TIMESTAMP_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
TIMESTAMP_AHEAD = timedelta(days=366)
_INTEGER = re.compile(r"[+-]?[0-9]+")
# ISO 8601 in UTC, as the dictionary shows it: 2021-07-27T16:02:08Z (fractions allowed)
_UTC_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType


@dataclass(frozen=True)
class HrTable:
    """One table of the dictionary: its fields in file order; the first is the id."""

    name: str
    fields: tuple[Field, ...]
    # (field, referenced table): an employee's department and job must exist
    references: tuple[tuple[str, str], ...] = ()

    @property
    def id_field(self) -> str:
        return self.fields[0].name

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


TABLES: dict[str, HrTable] = {
    "departments": HrTable(
        "departments", (Field("department_id", "integer"), Field("department_name", "string"))
    ),
    "jobs": HrTable("jobs", (Field("job_id", "integer"), Field("job_name", "string"))),
    "employees": HrTable(
        "employees",
        (
            Field("employee_id", "integer"),
            Field("employee_name", "string"),
            Field("hiring_date", "timestamp"),
            Field("department_id", "integer"),
            Field("job_id", "integer"),
        ),
        references=(("department_id", "departments"), ("job_id", "jobs")),
    ),
}
# the order that satisfies the references: a drop folder is ingested in this order
LOAD_ORDER = ("departments", "jobs", "employees")


def hr_table(name: str) -> HrTable:
    try:
        return TABLES[name]
    except KeyError:
        raise ValueError(
            f"unknown HR table {name!r}; expected one of {', '.join(TABLES)}"
        ) from None


@dataclass
class ParsedRow:
    """One input row: typed values where they parse (None where not) and the broken rules."""

    line_number: int
    raw: str
    values: list[Any]
    reasons: list[str]


def _parse_integer(name: str, text: str, reasons: list[str]) -> int | None:
    # ASCII digits only: int() alone would also take "1_000" and non-ASCII digits like "١٢"
    if not _INTEGER.fullmatch(text):
        reasons.append(f"bad integer {name}: {text!r}")
        return None
    value = int(text, 10)
    if not 0 < value <= INT32_MAX:
        reasons.append(f"{name} out of range (1..{INT32_MAX}): {value}")
        return None
    return value


def _parse_timestamp(name: str, text: str, reasons: list[str]) -> datetime | None:
    if _UTC_TIMESTAMP.match(text):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass  # the shape is right but the date is not (month 13, 31 February)
        else:
            latest = datetime.now(UTC) + TIMESTAMP_AHEAD
            if TIMESTAMP_EARLIEST <= moment <= latest:
                return moment
            reasons.append(
                f"{name} out of the plausible range ({TIMESTAMP_EARLIEST:%Y-%m-%d} to a year "
                f"after the load): {text!r}"
            )
            return None
    reasons.append(f"bad timestamp {name}: {text!r} (want ISO 8601 UTC like 2021-07-27T16:02:08Z)")
    return None


NUL_REASON = "contains a NUL character"


def parse_fields(table: HrTable, line_number: int, raw: str, fields: list[str]) -> ParsedRow:
    """Check one row's fields against the dictionary; every broken rule is recorded."""
    reasons: list[str] = []
    if any("\x00" in f for f in fields):
        # Postgres text cannot hold NUL: the row is rejected, its fields kept escaped
        reasons.append(NUL_REASON)
        fields = [f.replace("\x00", "\\x00") for f in fields]
    if len(fields) != len(table.fields):
        reasons.append(f"expected {len(table.fields)} fields, got {len(fields)}")
    values: list[Any] = []
    for i, spec in enumerate(table.fields):
        text = fields[i].strip() if i < len(fields) else ""
        if text == "":
            reasons.append(f"missing {spec.name}")
            values.append(None)
        elif spec.type == "integer":
            values.append(_parse_integer(spec.name, text, reasons))
        elif spec.type == "timestamp":
            values.append(_parse_timestamp(spec.name, text, reasons))
        else:
            values.append(text)
    return ParsedRow(line_number, raw, values, reasons)


def parse_csv_lines(
    table: HrTable, lines: Iterable[str], first_line: int = 1
) -> Iterator[ParsedRow]:
    """Rows of a header-less CSV text, one ParsedRow per non-blank line (streamed)."""
    import csv

    number = first_line - 1
    for raw in lines:
        number += 1
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue  # a trailing blank line is not a row
        nul = "\x00" in text
        if nul:  # Postgres text cannot hold NUL: show it escaped, and reject the row
            text = text.replace("\x00", "\\x00")
        try:
            fields = next(csv.reader([text]))
        except csv.Error as exc:
            yield ParsedRow(number, text, [None] * len(table.fields), [f"unreadable CSV: {exc}"])
            continue
        row = parse_fields(table, number, text, fields)
        if nul:
            row.reasons.insert(0, NUL_REASON)
        yield row


def parse_records(table: HrTable, records: Iterable[Mapping[str, Any]]) -> Iterator[ParsedRow]:
    """Rows given as JSON objects (the HTTP API): field name -> value; null means missing."""
    import json

    known = set(table.field_names)
    for number, record in enumerate(records, start=1):
        raw = json.dumps(record, sort_keys=True, default=str)
        if not isinstance(record, Mapping):
            yield ParsedRow(number, raw, [None] * len(table.fields), ["not a JSON object"])
            continue
        fields = [
            "" if record.get(name) is None else str(record[name]) for name in table.field_names
        ]
        parsed = parse_fields(table, number, raw, fields)
        extra = sorted(set(record) - known)
        if extra:
            names = ", ".join(str(e) for e in extra)
            if "\x00" in names:
                if NUL_REASON not in parsed.reasons:
                    parsed.reasons.insert(0, NUL_REASON)
                names = names.replace("\x00", "\\x00")
            parsed.reasons.append(f"unknown field(s): {names}")
        yield parsed
