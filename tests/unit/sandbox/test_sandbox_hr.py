"""The sandbox's HR CSV drops: determinism, sizes, the data dictionary, the hire spread, the
rotating invalid lines, and the three files over real HTTP."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, datetime

import httpx

from extract.sandbox import SandboxConfig, SandboxServer
from extract.sandbox.__main__ import config_from_args, parser
from extract.sandbox.hr import FAULTS, departments_csv, employees_csv, fault_of_line, jobs_csv

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def hired(text: str) -> datetime:
    assert TIMESTAMP.fullmatch(text), text
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert value.utcoffset() is not None and not value.utcoffset()
    return value.astimezone(UTC)


def all_files(cfg: SandboxConfig) -> tuple[str, str, str]:
    return departments_csv(cfg), jobs_csv(cfg), employees_csv(cfg)


def test_same_config_same_bytes_other_seed_other_files():
    assert all_files(SandboxConfig()) == all_files(SandboxConfig())
    a, b = all_files(SandboxConfig()), all_files(SandboxConfig(seed=7))
    assert all(x != y for x, y in zip(a, b, strict=True))


def test_sizes_shape_and_line_ends():
    cfg = SandboxConfig(hr_departments=9, hr_jobs=55, hr_employees=1234)
    for text, n, width in zip(all_files(cfg), (9, 55, 1234), (2, 2, 5), strict=True):
        assert text.endswith("\n") and "\r" not in text and "\n\n" not in text
        table = rows(text)
        assert len(table) == len(text.splitlines()) == n
        assert all(len(r) == width for r in table)
        assert not re.match(r"[a-z_]+,", text)  # header-less: the first line is data
    for text, n in zip(all_files(cfg)[:2], (9, 55), strict=True):
        table = rows(text)
        assert [int(r[0]) for r in table] == list(range(1, n + 1))
        assert all(r[1] and r[1] == r[1].strip() for r in table)
        assert len({r[1] for r in table}) == n
    # more than the built-in name pools: still distinct names
    big = SandboxConfig(hr_departments=60, hr_jobs=400, hr_employees=0)
    assert len({r[1] for r in rows(departments_csv(big))}) == 60
    assert len({r[1] for r in rows(jobs_csv(big))}) == 400
    assert employees_csv(big) == ""


def test_valid_lines_follow_the_dictionary():
    cfg = SandboxConfig(hr_employees=2000, hr_invalid_every=0)
    departments = {int(r[0]) for r in rows(departments_csv(cfg))}
    jobs = {int(r[0]) for r in rows(jobs_csv(cfg))}
    table = rows(employees_csv(cfg))
    assert [int(r[0]) for r in table] == list(range(1, 2001))
    for employee_id, name, hiring_date, department_id, job_id in table:
        assert int(employee_id) > 0 and re.fullmatch(r"\S+ \S+", name)
        hired(hiring_date)
        assert int(department_id) in departments and int(job_id) in jobs
    assert any(not name.isascii() for _, name, *_ in table)  # UTF-8 for real


def test_hires_spread_unevenly_over_the_year_and_some_the_year_before():
    cfg = SandboxConfig(hr_year=2021, hr_employees=3000, hr_invalid_every=0)
    table = rows(employees_csv(cfg))
    years = Counter(hired(r[2]).year for r in table)
    assert set(years) == {2020, 2021}
    assert 0.06 < years[2020] / len(table) < 0.14
    in_year = [r for r in table if hired(r[2]).year == 2021]
    per_department = Counter(r[3] for r in in_year)
    mean = len(in_year) / len(per_department)
    assert len(per_department) == cfg.hr_departments
    assert max(per_department.values()) > 1.3 * mean  # some clearly above the mean
    assert sum(v > mean for v in per_department.values()) >= 3
    per_quarter = Counter((hired(r[2]).month - 1) // 3 for r in in_year)
    assert len(per_quarter) == 4 and max(per_quarter.values()) > 1.2 * min(per_quarter.values())
    # departments differ in their rhythm, not only in size
    shares = {
        d: Counter((hired(r[2]).month - 1) // 3 for r in in_year if r[3] == d)[0] / count
        for d, count in per_department.items()
    }
    assert max(shares.values()) - min(shares.values()) > 0.1
    other = rows(employees_csv(SandboxConfig(hr_year=2019, hr_invalid_every=0)))
    assert Counter(hired(r[2]).year for r in other).keys() == {2018, 2019}


def test_every_nth_line_breaks_one_rule_in_rotation():
    cfg = SandboxConfig(hr_employees=800, hr_invalid_every=10)
    departments = {r[0] for r in rows(departments_csv(cfg))}
    jobs = {r[0] for r in rows(jobs_csv(cfg))}
    table = rows(employees_csv(cfg))
    assert len(table) == 800
    seen: Counter[str] = Counter()
    earlier: set[str] = set()
    for line, (employee_id, name, hiring_date, department_id, job_id) in enumerate(table, 1):
        fault = fault_of_line(line, 10)
        assert (fault is None) == (line % 10 != 0)
        if fault is not None:
            seen[fault] += 1
        if fault == "empty_name":
            assert name == "" and hiring_date and department_id and job_id
        elif fault == "empty_hiring_date":
            assert hiring_date == "" and name
        elif fault == "empty_department_id":
            assert department_id == "" and hiring_date
        elif fault == "empty_job_id":
            assert job_id == "" and department_id
        elif fault == "malformed_timestamp":
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d:\dZ", hiring_date), hiring_date
        elif fault == "unknown_department":
            assert department_id == str(cfg.hr_departments + 100) not in departments
        elif fault == "duplicate_id":
            assert employee_id in earlier
        else:
            assert employee_id == str(line) and employee_id not in earlier
        if fault not in ("empty_name", "empty_hiring_date", "malformed_timestamp"):
            assert name and hired(hiring_date)
        if fault not in ("empty_department_id", "unknown_department"):
            assert department_id in departments
        if fault != "empty_job_id":
            assert job_id in jobs
        earlier.add(employee_id)
    assert set(seen) == set(FAULTS)
    assert max(seen.values()) - min(seen.values()) <= 1  # 80 faults over 7 kinds, in turn
    assert [fault_of_line(n * 10, 10) for n in range(1, 8)] == list(FAULTS)
    # the default: every 50th line; 0 turns them off
    assert fault_of_line(50, SandboxConfig().hr_invalid_every) == FAULTS[0]
    clean = SandboxConfig(hr_employees=800, hr_invalid_every=0)
    assert all(r[0] == str(i) for i, r in enumerate(rows(employees_csv(clean)), 1))


def test_knobs_round_trip_through_the_cli():
    cfg = SandboxConfig(
        hr_departments=5, hr_jobs=7, hr_employees=11, hr_year=2019, hr_invalid_every=0
    )
    assert "--hr-invalid-every" in cfg.to_args()
    assert config_from_args(parser().parse_args(cfg.to_args())) == cfg
    assert SandboxConfig.from_mapping({"hr-employees": "9"}).hr_employees == 9


def test_files_over_http_without_a_token():
    cfg = SandboxConfig(hr_employees=500)
    server = SandboxServer(cfg).start()
    try:
        with httpx.Client(base_url=server.url) as client:
            before = server.request_count
            for name, expected in zip(
                ("departments", "jobs", "employees"), all_files(cfg), strict=True
            ):
                resp = client.get(f"/hr/{name}.csv")
                assert resp.status_code == 200
                assert resp.headers["content-type"] == "text/csv; charset=utf-8"
                assert resp.content == expected.encode("utf-8")
            assert len(rows(resp.text)) == 500
            missing = client.get("/hr/nope.csv")
            assert missing.status_code == 404 and "nope.csv" in missing.text
            assert client.get("/hr/").status_code == 404
            assert client.post("/hr/jobs.csv").status_code == 405
            assert server.request_count == before + 6
    finally:
        server.stop()


def test_generic_faults_apply_to_the_hr_files():
    with SandboxServer(SandboxConfig(hr_employees=10, fail_pattern="/hr/jobs")) as server:
        assert httpx.get(server.url + "/hr/jobs.csv").status_code == 500
        assert httpx.get(server.url + "/hr/departments.csv").status_code == 200
        assert server.faults_served == {500: 1}


def test_the_ingest_row_rules_agree_with_the_faults():
    """Line-local faults break `extract.sources.hr.rules`'s rules; the others need the database."""
    from extract.sources.hr.rules import TABLES, parse_csv_lines

    cfg = SandboxConfig(hr_employees=700, hr_invalid_every=10)
    for name, text in zip(("departments", "jobs"), all_files(cfg)[:2], strict=True):
        assert not any(r.reasons for r in parse_csv_lines(TABLES[name], text.splitlines(True)))
    parsed = list(parse_csv_lines(TABLES["employees"], employees_csv(cfg).splitlines(True)))
    assert len(parsed) == 700
    for row in parsed:
        fault = fault_of_line(row.line_number, 10)
        line_local = fault not in (None, "unknown_department", "duplicate_id")
        assert bool(row.reasons) == line_local, (fault, row.raw, row.reasons)
