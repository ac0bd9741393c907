"""The HR data dictionary's per-line rules (extract.sources.hr.rules): no database, no files
written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from extract.sources.hr.rules import (
    INT32_MAX,
    LOAD_ORDER,
    TABLES,
    hr_table,
    parse_csv_lines,
    parse_records,
)
from tests.support import HR_SEED

SEED = HR_SEED
EMPLOYEES = TABLES["employees"]
DEPARTMENTS = TABLES["departments"]
GOOD = "7,Ada Lovelace,2021-07-27T16:02:08Z,3,42"


def one(table, line: str):
    rows = list(parse_csv_lines(table, [line]))
    assert len(rows) == 1
    return rows[0]


def test_dictionary_shape():
    assert LOAD_ORDER == ("departments", "jobs", "employees")
    assert EMPLOYEES.field_names == [
        "employee_id",
        "employee_name",
        "hiring_date",
        "department_id",
        "job_id",
    ]
    assert EMPLOYEES.id_field == "employee_id"
    assert EMPLOYEES.references == (("department_id", "departments"), ("job_id", "jobs"))
    assert hr_table("jobs").field_names == ["job_id", "job_name"]
    with pytest.raises(ValueError, match="unknown HR table 'salaries'"):
        hr_table("salaries")


def test_a_good_line_is_typed():
    row = one(EMPLOYEES, GOOD)
    assert row.reasons == []
    assert row.line_number == 1 and row.raw == GOOD
    assert row.values == [7, "Ada Lovelace", datetime(2021, 7, 27, 16, 2, 8, tzinfo=UTC), 3, 42]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (",Ada,2021-07-27T16:02:08Z,3,42", "employee_id"),
        ("7,,2021-07-27T16:02:08Z,3,42", "employee_name"),
        ("7,Ada,,3,42", "hiring_date"),
        ("7,Ada,2021-07-27T16:02:08Z,,42", "department_id"),
        ("7,Ada,2021-07-27T16:02:08Z,3,", "job_id"),
        ("7,Ada,2021-07-27T16:02:08Z,3,   ", "job_id"),  # blanks are missing too
    ],
)
def test_a_missing_field_is_named(line: str, field: str):
    row = one(EMPLOYEES, line)
    assert row.reasons == [f"missing {field}"]
    assert row.values[EMPLOYEES.field_names.index(field)] is None


@pytest.mark.parametrize("text", ["x1", "1.0", "1e3", "0x1F", "1_000", "١٢", "12 3"])
def test_a_bad_integer_is_rejected(text: str):
    row = one(DEPARTMENTS, f"{text},Sales")
    assert row.reasons == [f"bad integer department_id: {text!r}"]
    assert row.values == [None, "Sales"]


@pytest.mark.parametrize("value", [0, -1, -(2**31), INT32_MAX + 1, 10**12])
def test_an_id_outside_positive_int32_is_rejected(value: int):
    row = one(DEPARTMENTS, f"{value},Sales")
    assert row.reasons == [f"department_id out of range (1..{INT32_MAX}): {value}"]
    assert row.values[0] is None


@pytest.mark.parametrize("value", [1, INT32_MAX])
def test_ids_at_the_edges_of_the_range_are_accepted(value: int):
    assert one(DEPARTMENTS, f"{value},Sales").values == [value, "Sales"]


def test_the_new_records_malformed_timestamp_is_rejected():
    row = one(EMPLOYEES, "2000,Duncan Greg Hoe,2027-08-29T00:0:1Z,8,80")
    assert len(row.reasons) == 1
    assert row.reasons[0].startswith("bad timestamp hiring_date")
    assert "'2027-08-29T00:0:1Z'" in row.reasons[0]
    assert row.values == [2000, "Duncan Greg Hoe", None, 8, 80]


def test_the_new_records_file_line_is_rejected_for_its_timestamp():
    path = SEED / "new_records" / "employees.csv"
    if not path.is_file():
        pytest.skip(f"HR seed data not found at {path}")
    rows = list(parse_csv_lines(EMPLOYEES, path.read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 1
    assert [r.split(":")[0] for r in rows[0].reasons] == ["bad timestamp hiring_date"]


@pytest.mark.parametrize(
    "text",
    [
        "2021-02-30T00:00:00Z",  # no 30 February
        "2021-13-01T00:00:00Z",
        "2021-07-27T24:00:00Z",
        "2021-07-27T16:02:60Z",
        "2021-07-27T16:02:08",  # no zone
        "2021-07-27T16:02:08+02:00",  # not UTC
        "2021-07-27 16:02:08Z",
        "2021-07-27",
        "2021-07-27T16:02:08.1234567Z",
        "٢٠٢١-07-27T16:02:08Z",
    ],
)
def test_a_bad_timestamp_is_rejected(text: str):
    row = one(EMPLOYEES, f"7,Ada,{text},3,42")
    assert len(row.reasons) == 1 and row.reasons[0].startswith("bad timestamp hiring_date")
    assert row.values[2] is None


def test_fractions_and_leap_days_are_accepted():
    row = one(EMPLOYEES, "7,Ada,2020-02-29T23:59:59.123456Z,3,42")
    assert row.reasons == []
    assert row.values[2] == datetime(2020, 2, 29, 23, 59, 59, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "count"),
    [("7,Ada,2021-07-27T16:02:08Z,3", 4), (GOOD + ",extra", 6), ("7", 1)],
)
def test_a_wrong_field_count_is_rejected(line: str, count: int):
    row = one(EMPLOYEES, line)
    assert row.reasons[0] == f"expected 5 fields, got {count}"


def test_a_line_breaking_several_rules_lists_every_reason():
    row = one(EMPLOYEES, "0,,2021-02-30T00:00:00Z,abc,2147483648,extra")
    assert row.reasons[0] == "expected 5 fields, got 6"
    assert row.reasons[1] == f"employee_id out of range (1..{INT32_MAX}): 0"
    assert row.reasons[2] == "missing employee_name"
    assert row.reasons[3].startswith("bad timestamp hiring_date: '2021-02-30T00:00:00Z'")
    assert row.reasons[4] == "bad integer department_id: 'abc'"
    assert row.reasons[5] == f"job_id out of range (1..{INT32_MAX}): 2147483648"
    assert len(row.reasons) == 6
    assert row.values == [None, None, None, None, None]


def test_blank_lines_are_skipped_and_line_numbers_kept():
    rows = list(parse_csv_lines(DEPARTMENTS, ["1,Sales\r\n", "\n", "2,Legal\n", "   \r\n", ""]))
    assert [(r.line_number, r.raw, r.values) for r in rows] == [
        (1, "1,Sales", [1, "Sales"]),
        (3, "2,Legal", [2, "Legal"]),
    ]
    assert all(r.reasons == [] for r in rows)


def test_first_line_offsets_the_numbering():
    rows = list(parse_csv_lines(DEPARTMENTS, ["1,Sales", "2,Legal"], first_line=10))
    assert [r.line_number for r in rows] == [10, 11]


def test_a_quoted_field_with_a_comma_is_one_field():
    line = '7,"Lovelace, Ada ""Countess""",2021-07-27T16:02:08Z,3,42'
    row = one(EMPLOYEES, line)
    assert row.reasons == []
    assert row.values[1] == 'Lovelace, Ada "Countess"'
    assert row.raw == line


def test_surrounding_blanks_are_trimmed():
    row = one(EMPLOYEES, " 7 , Ada ,2021-07-27T16:02:08Z , 3 ,42 ")
    assert row.reasons == []
    assert row.values[:2] == [7, "Ada"] and row.values[3:] == [3, 42]


def test_a_nul_character_is_rejected_and_shown_escaped():
    row = one(DEPARTMENTS, "1,Sa\x00les")
    assert row.reasons == ["contains a NUL character"]
    assert "\x00" not in row.raw and row.raw == "1,Sa\\x00les"


def record(**changes):
    base = {
        "employee_id": 7,
        "employee_name": "Ada",
        "hiring_date": "2021-07-27T16:02:08Z",
        "department_id": 3,
        "job_id": 42,
    }
    base.update(changes)
    return base


def test_json_records_are_checked_like_lines():
    rows = list(
        parse_records(
            EMPLOYEES,
            [
                record(),
                record(employee_id="8", department_id="4"),  # numbers as strings are fine
                record(employee_name=None),
                record(nickname="Ada", age=36),
                {k: v for k, v in record().items() if k != "job_id"},
                record(job_id=True),
                record(employee_id=1.5),
                "not an object",
            ],
        )
    )
    assert [r.line_number for r in rows] == list(range(1, 9))
    assert rows[0].reasons == [] and rows[0].values[0] == 7
    assert rows[1].reasons == [] and rows[1].values[0] == 8 and rows[1].values[3] == 4
    assert rows[2].reasons == ["missing employee_name"]
    assert rows[3].reasons == ["unknown field(s): age, nickname"]
    assert rows[4].reasons == ["missing job_id"]
    assert rows[5].reasons == ["bad integer job_id: 'True'"]
    assert rows[6].reasons == ["bad integer employee_id: '1.5'"]
    assert rows[7].reasons == ["not a JSON object"]
    assert rows[7].values == [None] * 5


def test_a_json_record_keeps_its_payload_and_lists_every_reason():
    (row,) = parse_records(
        EMPLOYEES, [record(employee_id=0, hiring_date="2021-02-30T00:00:00Z", job_id=None, x=1)]
    )
    assert row.reasons[0] == f"employee_id out of range (1..{INT32_MAX}): 0"
    assert row.reasons[1].startswith("bad timestamp hiring_date")
    assert row.reasons[2:] == ["missing job_id", "unknown field(s): x"]
    # the payload is the record as JSON, keys sorted, so it can be re-sent after a fix
    assert row.raw.startswith('{"department_id": 3, "employee_id": 0,')
    assert '"job_id": null' in row.raw
