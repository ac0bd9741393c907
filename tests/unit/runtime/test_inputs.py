"""Values people type are parsed before anything uses them: unparseable, future and injected
values are refused in one sentence; what reaches SoQL is formatted from the parsed value."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from click.testing import CliRunner

from extract.runtime.inputs import InputError, parse_day, parse_timestamp, soql_timestamp

INJECTIONS = [
    "2024-01-01' or 1=1 --",
    "2024-01-01; drop table raw_yelp.businesses",
    "2024-01-01T00:00:00' OR updateddate > '2000-01-01",
    "../../etc/passwd",
    "",
]


@pytest.mark.parametrize("text", [*INJECTIONS, "yesterday", "2024-13-01", "2024-02-30"])
def test_a_day_that_is_not_a_date_is_refused(text):
    with pytest.raises(InputError, match=r"--day must be a date as YYYY-MM-DD"):
        parse_day(text)


def test_a_future_day_is_refused_and_today_is_not():
    today = date(2026, 11, 30)
    assert parse_day("2026-11-30", today=today) == today
    with pytest.raises(InputError, match="2026-12-01 is in the future"):
        parse_day("2026-12-01", today=today)


@pytest.mark.parametrize("text", [*INJECTIONS, "last week", "2024-01-01T25:00:00"])
def test_a_since_that_is_not_a_timestamp_is_refused(text):
    with pytest.raises(InputError, match=r"--since must be a date or timestamp"):
        parse_timestamp(text)


def test_since_is_parsed_then_formatted_as_socrata_writes_it():
    now = datetime(2026, 11, 30, 12)
    assert soql_timestamp(parse_timestamp("2024-06-01", now=now)) == "2024-06-01T00:00:00.000"
    assert (
        soql_timestamp(parse_timestamp("2024-06-01T10:20:30.123456", now=now))
        == "2024-06-01T10:20:30.123"
    )
    # a zone: the same instant, floating in UTC
    assert soql_timestamp(parse_timestamp("2024-06-01T10:00:00-07:00", now=now)) == (
        "2024-06-01T17:00:00.000"
    )
    with pytest.raises(InputError, match="in the future"):
        parse_timestamp("2026-12-05T00:00:00", now=now)


@pytest.mark.parametrize(
    "args",
    [
        ["extract", "yelp", "--day", "2024-01-01' or 1=1 --"],
        ["extract", "yelp", "--day", "2999-01-01"],
        ["extract", "yelp", "--start", "2999-01-01", "--days", "2"],
        ["extract", "yelp", "--start", "2026-11-01", "--days", "400"],
        ["socrata", "--mode", "update", "--since", "2024-01-01' or 1=1 --"],
        ["socrata", "--mode", "update", "--since", "2999-01-01"],
    ],
)
def test_the_cli_refuses_bad_inputs_in_one_line_before_doing_anything(args, tmp_path):
    from extract.cli import main

    result = CliRunner().invoke(
        main, args, env={"GOURMAND_HOME": str(tmp_path / "home"), "GOURMAND_OLTP_DSN": ""}
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is not None
    assert "future" in result.output or "must be a date" in result.output
    # refused before any server, sandbox or database was started
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").iterdir())


# An unset shell variable reaches an option as an empty string: `--partition "$DAY"`. Read as
# "not given", it would run the default (the newest day, the default window, the watermark).
BLANK_INPUTS = [
    ["materialize", "--partition", ""],
    ["materialize", "--partition", "  "],
    ["materialize", "--partition", "..."],
    ["materialize", "--partition", "2024-01-01..."],
    ["materialize", "--partition", "...2024-01-03"],
    ["materialize", "--partition", " ... "],
    ["materialize", "--select", "group:hr", "--partition", ""],
    ["materialize", "--select", ""],
    ["materialize", "--partition", "2024-01-01", "--select", " "],
    ["materialize", "--from-failure", ""],
    ["materialize", "--from-failure", "0123abcd", "--partition", ""],
    ["extract", "yelp", "--day", ""],
    ["extract", "yelp", "--day", "\t"],
    ["extract", "yelp", "--start", ""],
    ["extract", "yelp", "--days", "0"],
    ["extract", "yelp", "--days", "-1"],
    ["socrata", "--mode", "update", "--since", ""],
    ["socrata", "--year", ""],
    ["demo", "--days", "0"],
    ["report", "hr", "--year", ""],
]


@pytest.mark.parametrize("args", BLANK_INPUTS, ids=" ".join)
def test_the_cli_refuses_an_empty_or_blank_value_instead_of_running_the_default(
    args, tmp_path, monkeypatch
):
    from extract.cli import main

    ran: list[str] = []

    def must_not_run(name: str):
        def run(*a, **k):
            ran.append(name)
            raise AssertionError(f"{name} ran for {args}")

        return run

    for target in (
        "dagster_project.lib.materialize.materialize",
        "dagster_project.lib.materialize.resume",
        "extract.pipelines.run_days",
        "extract.pipelines.run_source",
        "extract.demo.run_demo",
        "extract.reports.hr.build_hr_report",
    ):
        monkeypatch.setattr(target, must_not_run(target))
    result = CliRunner().invoke(
        main, args, env={"GOURMAND_HOME": str(tmp_path / "home"), "GOURMAND_OLTP_DSN": ""}
    )
    assert ran == []
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    refused = [a for a in args if a.startswith("--")][-1]  # each case's bad value comes last
    assert f"Invalid value for '{refused}'" in result.output, result.output
    # refused before any server, sandbox or database was started
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").iterdir())
