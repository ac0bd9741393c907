"""What an HR export says of its own time (extract.sources.hr.stamps): the date in its name,
else its modification time; names that state a date that cannot be trusted are refused."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from extract.sources.hr.stamps import StampError, export_stamp, modified_at, name_stamp

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "stated"),
    [
        ("employees_2021-09-30.csv", datetime(2021, 9, 30, tzinfo=UTC)),
        ("employees-20210930.csv", datetime(2021, 9, 30, tzinfo=UTC)),
        ("jobs_2021-09.csv", datetime(2021, 9, 1, tzinfo=UTC)),
        ("departments.2021-09-30T1602.csv", datetime(2021, 9, 30, 16, 2, tzinfo=UTC)),
        ("employees_2021-09-30T16-02-08Z.csv", datetime(2021, 9, 30, 16, 2, 8, tzinfo=UTC)),
        ("employees_20210930T160208Z.csv", datetime(2021, 9, 30, 16, 2, 8, tzinfo=UTC)),
        ("EMPLOYEES_2021-09-30t16:02:08z.CSV", datetime(2021, 9, 30, 16, 2, 8, tzinfo=UTC)),
        ("employees_export_2021-09-30_final.csv", datetime(2021, 9, 30, tzinfo=UTC)),
        # no date: the file's modification time decides
        ("employees.csv", None),
        ("employees_v2.csv", None),
        ("employees_202109.csv", None),  # six digits are not a date this rule reads
        ("employees_1234567890.csv", None),  # nor is a longer number
        ("e1.csv", None),
    ],
)
def test_a_name_states_its_export_time_or_nothing(name, stated):
    assert name_stamp(name, now=NOW) == stated


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("employees_2021-13-01.csv", "is not a date"),
        ("employees_20210231.csv", "is not a date"),
        ("employees_2021-09-30T25-00.csv", "is not a date"),
        ("employees_2021-06-30_to_2021-09-30.csv", "more than one date"),
        ("employees_2026-12-08.csv", "in the future"),
    ],
)
def test_a_name_whose_date_cannot_be_trusted_is_refused(name, why):
    with pytest.raises(StampError, match=why):
        name_stamp(name, now=NOW)


def test_a_day_of_clock_skew_is_not_the_future():
    assert name_stamp("employees_2026-12-07.csv", now=NOW) == datetime(2026, 12, 7, tzinfo=UTC)


def test_an_undated_file_is_stamped_with_its_modification_time(tmp_path):
    path = tmp_path / "employees.csv"
    path.write_text("1,Ada,2021-07-27T16:02:08Z,1,1\n")
    written = 1_632_960_000_123_456_789  # 2021-09-30T00:00:00.123456789Z
    os.utime(path, ns=(written, written))
    assert modified_at(path) == datetime(2021, 9, 30, 0, 0, 0, 123456, tzinfo=UTC)
    assert export_stamp(path) == modified_at(path)
    dated = tmp_path / "employees_2021-06-30.csv"
    dated.write_text("1,Ada,2021-07-27T16:02:08Z,1,1\n")
    # the name wins over the modification time (a copy does not make an old export new)
    assert export_stamp(dated) == datetime(2021, 6, 30, tzinfo=UTC)
