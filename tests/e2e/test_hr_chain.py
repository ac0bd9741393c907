"""The HR chain through Dagster: `group:hr` in an empty home builds raw_hr -> OLTP -> lake ->
warehouse -> the two KPI marts -> the report; with the real seed files the 2021 KPIs equal an
independent computation from the CSVs; a bad file fails the run and is retried; the drop-folder
sensor asks for runs only when files are new or changed."""

from __future__ import annotations

import csv
import os
import shutil
from collections import Counter
from datetime import datetime

import pytest

from tests.support import HR_SEED, pg_rows

# whole Dagster runs: minutes each on a slow 2-core machine, more than the default 300 s
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SEED = HR_SEED


def _expected_2021() -> tuple[set[tuple], list[tuple]]:
    """The two KPIs for 2021 straight from the CSV files: rows with every field present and a
    valid UTC timestamp (the dictionary's rules), counted per UTC quarter."""
    departments = dict(csv.reader((SEED / "departments.csv").open()))
    jobs = dict(csv.reader((SEED / "jobs.csv").open()))
    per_quarter: Counter[tuple[str, str, int]] = Counter()
    per_department: Counter[str] = Counter()
    for fields in csv.reader((SEED / "employees.csv").open()):
        if len(fields) != 5 or any(not f.strip() for f in fields):
            continue
        _, _, hired, department, job = fields
        when = datetime.strptime(hired, "%Y-%m-%dT%H:%M:%SZ")
        if when.year != 2021:
            continue
        per_quarter[(departments[department], jobs[job], (when.month - 1) // 3 + 1)] += 1
        per_department[department] += 1
    by_quarter = {
        (2021, dept, job, *(per_quarter[(dept, job, q)] for q in (1, 2, 3, 4)))
        for dept, job, _ in per_quarter
    }
    mean = sum(per_department.values()) / len(per_department)
    above = sorted(
        ((2021, int(d), departments[d], n) for d, n in per_department.items() if n > mean),
        key=lambda row: (-row[3], row[2]),
    )
    return by_quarter, above


def _warehouse(settings, sql: str) -> list[tuple]:
    from extract.runtime.query import run_query

    return run_query(sql, target="warehouse", settings=settings)[1]


def test_group_hr_builds_the_chain_from_an_empty_home_with_the_seed_files(
    sandbox_settings, as_process_settings
):
    if not (SEED / "employees.csv").is_file():
        pytest.skip(f"HR seed files not found at {SEED} (../shared/data/hr_seed)")
    from dagster_project.lib.materialize import materialize

    settings, server = sandbox_settings()
    as_process_settings(settings, server)
    drops = settings.hr_drops
    drops.mkdir(parents=True)
    for name in ("departments.csv", "jobs.csv", "employees.csv"):
        shutil.copy(SEED / name, drops / name)

    first = materialize(settings, "group:hr")
    assert first.success
    done = {e.asset_key.to_user_string() for e in first.get_asset_materialization_events()}
    assert {"raw_hr/employees", "oltp/hr_employee", "lake/hr_employee", "dwh/fct_hire",
            "marts/hr_hires_by_quarter", "marts/hr_departments_above_mean",
            "reports/hr"} <= done  # fmt: skip
    by_quarter, above = _expected_2021()
    got = _warehouse(
        settings,
        "select year, department, job, q1, q2, q3, q4 from marts.hr_hires_by_quarter "
        "where year = 2021 order by department, job",
    )
    assert set(got) == by_quarter and len(got) == len(by_quarter)
    assert [r[1:3] for r in got] == sorted(r[1:3] for r in got), "ordered by department, job"
    assert (
        _warehouse(
            settings,
            "select year, department_id, department, hired from marts.hr_departments_above_mean "
            "where year = 2021 order by hired desc, department",
        )
        == above
    )
    report = settings.home / "reports" / "hr" / "2021"
    assert (report / "index.html").is_file()
    assert (report / "hr_departments_above_mean_2021.csv").read_text().count("\n") == 1 + len(above)
    loaded = pg_rows(settings, "select count(*) from raw_hr.employees")[0][0]
    assert loaded == 1999 - 70  # the seed's rows with an empty field are in raw_hr._rejects
    checks = {e.check_name: e.passed for e in first.get_asset_check_evaluations()}
    assert checks["hr_rejected_share"] is True

    # a file of the wrong shape fails the run (named) before anything downstream; the good
    # new file beside it is ingested, and the bad one is not remembered: tried again next run
    (drops / "jobs_broken.csv").write_text("1,a,b\n2,c,d\n")
    shutil.copy(SEED / "new_records" / "employees.csv", drops / "employees_new.csv")
    failed = materialize(settings, "group:hr")
    assert not failed.success
    failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
    assert "jobs_broken.csv" in str(failure.event_specific_data.error)
    later = {e.asset_key.to_user_string() for e in failed.get_asset_materialization_events()}
    assert "oltp/hr_employee" not in later
    rejects = pg_rows(
        settings, "select reason from raw_hr._rejects where context like %s", "%employees_new.csv"
    )
    assert len(rejects) == 1 and rejects[0][0].startswith("bad timestamp hiring_date")

    os.remove(drops / "jobs_broken.csv")
    second = materialize(settings, "group:hr")
    assert second.success
    # the OLTP tables were rebuilt (merge): the employee's two foreign keys are still there
    fks = pg_rows(
        settings,
        "select count(*) from pg_constraint where contype = 'f' "
        "and conrelid = 'oltp.hr_employee'::regclass",
    )
    assert fks[0][0] == 2
    # the new batch was 100% rejected: the warn check fails and says which file, the run goes on
    share = next(
        e for e in second.get_asset_check_evaluations() if e.check_name == "hr_rejected_share"
    )
    assert not share.passed
    assert "employees_new.csv" in str(share.metadata["unexpected_sample"].value)


def test_drop_sensor_asks_for_a_run_only_for_new_or_changed_files(tmp_path, monkeypatch):
    from dagster import RunRequest, SkipReason, build_sensor_context

    from dagster_project.defs.hr.sensors import hr_drop_sensor
    from extract.settings import get_settings

    drops = tmp_path / "drops"
    drops.mkdir()
    monkeypatch.setenv("GOURMAND_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GOURMAND_HR_DROP_DIR", str(drops))
    get_settings.cache_clear()
    try:
        sensor = hr_drop_sensor(get_settings())
        empty = sensor(build_sensor_context())
        assert isinstance(empty, SkipReason)
        (drops / "departments.csv").write_text("1,Sales\n")
        (drops / "notes.txt").write_text("not a drop")
        context = build_sensor_context()
        first = sensor(context)
        assert isinstance(first, RunRequest)
        assert first.tags["gourmand/hr_files"] == "departments.csv"
        again = sensor(build_sensor_context(cursor=context.cursor))
        assert isinstance(again, SkipReason)
        (drops / "departments.csv").write_text("1,Sales\n2,Legal\n")
        changed = sensor(build_sensor_context(cursor=context.cursor))
        assert isinstance(changed, RunRequest) and changed.run_key != first.run_key
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("selection", "partition", "message"),
    [
        ("*", None, "mixes assets with different partitions"),
        ("group:extract", None, "pass --partition"),
        ("key:nope/nothing", None, "selects no asset"),
        ("group:hr", "2024-01-01", "holds no partitioned asset"),
        ("group:extract", "2024-13-01", "is not a partition"),
        ("group:extract", "2999-01-01", "is not a partition"),  # the future
        ("group:extract", "2024-01-01'; drop table raw_yelp.businesses; --", "is not a partition"),
        ("group:extract", "2024-01-01...2999-01-01", "is not a partition"),
        ("group:extract", "../../etc", "is not a partition"),
    ],
)
def test_materialize_explains_selections_it_cannot_run(selection, partition, message, tmp_path):
    from dagster_project.lib.materialize import SelectionError, materialize
    from extract.settings import load_settings

    settings = load_settings({"GOURMAND_HOME": str(tmp_path), "PATH": os.environ["PATH"]})
    with pytest.raises(SelectionError, match=message):
        materialize(settings, selection, partition)
