"""HR file ingest (extract.sources.hr.ingest, `gourmand ingest`) into a real Postgres: the seed
drop, rejects with every reason, idempotent re-runs, updates, file-level errors, a large file."""

from __future__ import annotations

import csv
import os
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from extract.sources.hr.ingest import IngestError, ingest_file
from extract.sources.hr.rules import TABLES
from tests.support import GOURMAND, HR_SEED, pg_rows

pytestmark = pytest.mark.integration

SEED = HR_SEED


@pytest.fixture
def seed() -> Path:
    if not (SEED / "employees.csv").is_file():
        pytest.skip(f"HR seed data not found at {SEED} (departments.csv, jobs.csv, employees.csv)")
    return SEED


@pytest.fixture
def settings(make_settings):
    return make_settings()


def scalar(settings, sql: str, *params):
    return pg_rows(settings, sql, *params)[0][0]


def write(path: Path, *lines: str | bytes) -> Path:
    path.write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    return path


def rejects(settings, table: str, batch: str) -> list[tuple]:
    return pg_rows(
        settings,
        "SELECT line_number, reason, payload, context FROM raw_hr._rejects "
        "WHERE resource = %s AND batch = %s ORDER BY line_number",
        table,
        batch,
    )


def loads(settings, table: str) -> list[tuple]:
    return pg_rows(
        settings,
        "SELECT batch, received, loaded, rejected, inserted, updated, unchanged "
        "FROM raw_hr._loads WHERE resource = %s ORDER BY extracted_at",
        table,
    )


def expected_from_csv(path: Path, table: str) -> tuple[dict[int, str], dict[int, list[str]]]:
    """Independently of the code under test: per line, the raw line and its "missing" reasons."""
    names = TABLES[table].field_names
    raw_lines = path.read_bytes().decode("utf-8").splitlines()
    reasons: dict[int, list[str]] = {}
    for number, fields in enumerate(csv.reader(raw_lines), start=1):
        assert len(fields) == len(names), f"line {number} of {path} has {len(fields)} fields"
        reasons[number] = [f"missing {n}" for n, v in zip(names, fields, strict=True) if not v]
    return dict(enumerate(raw_lines, start=1)), reasons


def load_seed_parents(settings, seed: Path) -> None:
    assert ingest_file(settings, "departments", seed / "departments.csv").inserted == 12
    assert ingest_file(settings, "jobs", seed / "jobs.csv").inserted == 183


def test_seed_drop_loads_and_rejects_exactly_the_rows_with_empty_fields(settings, seed):
    departments = ingest_file(settings, "departments", seed / "departments.csv")
    jobs = ingest_file(settings, "jobs", seed / "jobs.csv")
    assert (departments.received, departments.loaded, departments.inserted) == (12, 12, 12)
    assert (jobs.received, jobs.loaded, jobs.inserted) == (183, 183, 183)
    assert departments.rejected == jobs.rejected == 0

    path = seed / "employees.csv"
    result = ingest_file(settings, "employees", path)
    raw, missing = expected_from_csv(path, "employees")
    bad = {n: "; ".join(r) for n, r in missing.items() if r}
    assert result.received == len(raw) == 1999
    assert result.rejected == len(bad) == 70
    assert result.loaded + result.rejected == 1999
    assert result.inserted == result.loaded == 1929 and result.updated == result.unchanged == 0
    assert scalar(settings, "SELECT count(*) FROM raw_hr.employees") == result.loaded

    stored = rejects(settings, "employees", result.batch)
    assert {(n, reason) for n, reason, _, _ in stored} == set(bad.items())
    assert all(payload == raw[n] and context == str(path) for n, _, payload, context in stored)
    assert dict(result.rejects) == bad  # what the caller is told

    # the clean lines are stored as typed values, exactly
    want = set()
    for number, fields in enumerate(csv.reader(raw.values()), start=1):
        if number not in bad:
            hired = datetime.fromisoformat(fields[2].replace("Z", "+00:00"))
            want.add((int(fields[0]), fields[1], hired, int(fields[3]), int(fields[4])))
    got = pg_rows(
        settings,
        "SELECT employee_id, employee_name, hiring_date, department_id, job_id, _batch "
        "FROM raw_hr.employees",
    )
    assert {row[:5] for row in got} == want
    assert {row[5] for row in got} == {result.batch}

    assert [row[0] for row in loads(settings, "employees")] == [result.batch]
    assert loads(settings, "employees")[0][1:] == (1999, 1929, 70, 1929, 0, 0)
    assert scalar(settings, "SELECT count(*) FROM raw_hr._loads") == 3


def test_new_records_drop(settings, seed):
    load_seed_parents(settings, seed)
    new = seed / "new_records"
    result = ingest_file(settings, "departments", new / "departments.csv")
    assert (result.received, result.inserted, result.rejected) == (1, 1, 0)
    result = ingest_file(settings, "jobs", new / "jobs.csv")
    assert (result.received, result.inserted, result.rejected) == (1, 1, 0)
    assert pg_rows(
        settings, "SELECT department_name FROM raw_hr.departments WHERE department_id = 13"
    ) == [("Testing",)]
    assert pg_rows(settings, "SELECT job_name FROM raw_hr.jobs WHERE job_id = 184") == [
        ("Some random position",)
    ]
    assert scalar(settings, "SELECT count(*) FROM raw_hr.departments") == 13
    assert scalar(settings, "SELECT count(*) FROM raw_hr.jobs") == 184

    line = (new / "employees.csv").read_text().splitlines()[0]
    result = ingest_file(settings, "employees", new / "employees.csv")
    assert (result.received, result.loaded, result.rejected) == (1, 0, 1)
    ((number, reason, payload, _),) = rejects(settings, "employees", result.batch)
    assert number == 1 and payload == line
    assert reason.startswith("bad timestamp hiring_date: '2027-08-29T00:0:1Z'")
    assert scalar(settings, "SELECT count(*) FROM raw_hr.employees") == 0


def test_reingesting_the_same_file_changes_nothing(settings, seed):
    load_seed_parents(settings, seed)
    path = seed / "employees.csv"
    first = ingest_file(settings, "employees", path)
    before = pg_rows(settings, "SELECT employee_id, _loaded_at FROM raw_hr.employees ORDER BY 1")
    again = ingest_file(settings, "employees", path)
    assert again.batch == first.batch
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.loaded)
    assert (again.received, again.rejected) == (1999, 70)
    assert pg_rows(settings, "SELECT employee_id, _loaded_at FROM raw_hr.employees ORDER BY 1") == (
        before
    )
    assert len(rejects(settings, "employees", first.batch)) == 70
    assert scalar(settings, "SELECT count(*) FROM raw_hr._rejects") == 70
    assert loads(settings, "employees") == [(first.batch, 1999, 1929, 70, 0, 0, 1929)]


def test_same_id_with_new_content_is_updated(settings, tmp_path):
    write(tmp_path / "d.csv", "1,Sales", "2,Legal")
    write(tmp_path / "j.csv", "1,Clerk")
    ingest_file(settings, "departments", tmp_path / "d.csv")
    ingest_file(settings, "jobs", tmp_path / "j.csv")
    first = ingest_file(
        settings,
        "employees",
        write(
            tmp_path / "e1.csv", "1,Ada,2021-07-27T16:02:08Z,1,1", "2,Bob,2021-07-28T00:00:00Z,1,1"
        ),
    )
    assert (first.inserted, first.updated) == (2, 0)
    query = (
        "SELECT employee_id, employee_name, department_id, _batch, _loaded_at "
        "FROM raw_hr.employees ORDER BY 1"
    )
    (ada, bob) = pg_rows(settings, query)

    second = ingest_file(
        settings,
        "employees",
        write(
            tmp_path / "e2.csv",
            "1,Ada King,2021-07-27T16:02:08Z,2,1",
            "2,Bob,2021-07-28T00:00:00Z,1,1",
        ),
    )
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 1)
    (ada2, bob2) = pg_rows(settings, query)
    assert ada2[:4] == (1, "Ada King", 2, second.batch)
    assert ada2[4] > ada[4]
    assert bob2 == bob  # unchanged content: not rewritten, its batch and _loaded_at stay
    assert [row[0] for row in loads(settings, "employees")] == [first.batch, second.batch]


def test_duplicate_ids_in_one_file_keep_the_first_clean_line(settings, tmp_path):
    write(tmp_path / "d.csv", "1,Sales")
    write(tmp_path / "j.csv", "1,Clerk")
    ingest_file(settings, "departments", tmp_path / "d.csv")
    ingest_file(settings, "jobs", tmp_path / "j.csv")
    result = ingest_file(
        settings,
        "employees",
        write(
            tmp_path / "e.csv",
            "1,First,2021-07-27T16:02:08Z,1,1",
            "2,Other,2021-07-27T16:02:08Z,1,1",
            "1,Second,2021-07-27T16:02:08Z,1,1",
            "1,Third,2021-07-27T16:02:08Z,1,1",
            # id 5: its first line fails a database rule, so the second line keeps the id
            "5,Unknown dept,2021-07-27T16:02:08Z,99,1",
            "5,Good,2021-07-27T16:02:08Z,1,1",
            # id 6: its first line fails a line rule
            "6,Bad date,2021-02-30T00:00:00Z,1,1",
            "6,Good too,2021-07-27T16:02:08Z,1,1",
        ),
    )
    assert (result.received, result.loaded, result.rejected) == (8, 4, 4)
    assert pg_rows(
        settings, "SELECT employee_id, employee_name FROM raw_hr.employees ORDER BY 1"
    ) == [
        (1, "First"),
        (2, "Other"),
        (5, "Good"),
        (6, "Good too"),
    ]
    got = {n: reason for n, reason, _, _ in rejects(settings, "employees", result.batch)}
    assert got[3] == "duplicate employee_id 1 (line 1 has it)"
    assert got[4] == "duplicate employee_id 1 (line 1 has it)"
    assert got[5] == "unknown department_id 99; duplicate employee_id 5 (line 6 has it)"
    assert got[7].startswith("bad timestamp hiring_date") and got[7].endswith(
        "; duplicate employee_id 6 (line 8 has it)"
    )
    assert set(got) == {3, 4, 5, 7}


def test_unknown_department_or_job_is_rejected(settings, tmp_path):
    write(tmp_path / "d.csv", "1,Sales")
    write(tmp_path / "j.csv", "1,Clerk")
    ingest_file(settings, "departments", tmp_path / "d.csv")
    ingest_file(settings, "jobs", tmp_path / "j.csv")
    result = ingest_file(
        settings,
        "employees",
        write(
            tmp_path / "e.csv",
            "1,Ok,2021-07-27T16:02:08Z,1,1",
            "2,No dept,2021-07-27T16:02:08Z,7,1",
            "3,No job,2021-07-27T16:02:08Z,1,8",
            "4,Neither,2021-07-27T16:02:08Z,7,8",
            "5,Missing and unknown,,7,",
        ),
    )
    assert (result.loaded, result.rejected) == (1, 4)
    assert [(n, r) for n, r, _, _ in rejects(settings, "employees", result.batch)] == [
        (2, "unknown department_id 7"),
        (3, "unknown job_id 8"),
        (4, "unknown department_id 7; unknown job_id 8"),
        (5, "missing hiring_date; missing job_id; unknown department_id 7"),
    ]
    assert pg_rows(settings, "SELECT employee_id FROM raw_hr.employees") == [(1,)]


def test_a_file_of_the_wrong_shape_is_refused_whole(settings, tmp_path):
    write(tmp_path / "d.csv", "1,Sales")
    ingest_file(settings, "departments", tmp_path / "d.csv")
    state = (
        "SELECT (SELECT count(*) FROM raw_hr.departments), "
        "(SELECT count(*) FROM raw_hr._rejects), (SELECT count(*) FROM raw_hr._loads)"
    )
    before = pg_rows(settings, state)
    assert before == [(1, 0, 1)]

    wrong = write(tmp_path / "jobs_as_departments.csv", "2,Clerk,extra", "3,Nurse,extra")
    with pytest.raises(IngestError, match="no row has the 2 fields of departments"):
        ingest_file(settings, "departments", wrong)
    # a binary file: every line is both misshapen and not UTF-8
    binary = write(tmp_path / "sheet.xlsx", b"PK\x03\x04\xff\xfe\x00,a,b", b"\x80\x81")
    with pytest.raises(IngestError, match="wrong file or wrong table"):
        ingest_file(settings, "departments", binary)
    with pytest.raises(IngestError, match="no such file"):
        ingest_file(settings, "departments", tmp_path / "absent.csv")
    with pytest.raises(IngestError, match="batch is empty"):
        ingest_file(settings, "departments", write(tmp_path / "blank.csv", "", "  "))
    assert pg_rows(settings, state) == before


def test_a_line_that_is_not_utf8_is_rejected_and_the_rest_loads(settings, tmp_path):
    path = write(
        tmp_path / "d.csv",
        "\ufeff1,Sales",  # a byte-order mark on the first line is not part of the id
        b"2,Caf\xe9 latin-1",
        "3,Café",
        b"4,Nul\x00byte",
    )
    result = ingest_file(settings, "departments", path)
    assert (result.received, result.loaded, result.rejected) == (4, 2, 2)
    assert pg_rows(settings, "SELECT department_id, department_name FROM raw_hr.departments") == [
        (1, "Sales"),
        (3, "Café"),
    ]
    assert [(n, r, p) for n, r, p, _ in rejects(settings, "departments", result.batch)] == [
        (2, "not UTF-8 text", "2,Caf\\xe9 latin-1"),
        (4, "contains a NUL character", "4,Nul\\x00byte"),
    ]


@pytest.fixture
def cli(settings, monkeypatch):
    """`gourmand` in this process, on the test's settings."""
    from extract.cli import main
    from extract.settings import get_settings

    monkeypatch.setenv("GOURMAND_HOME", str(settings.home))
    monkeypatch.setenv("GOURMAND_OLTP_DSN", settings.oltp_dsn)
    get_settings.cache_clear()

    def run(*args: str):
        return CliRunner().invoke(main, list(args))

    yield run
    get_settings.cache_clear()


def test_cli_ingest_prints_the_counts(settings, seed, cli):
    result = cli("ingest", "departments", str(seed / "departments.csv"))
    assert result.exit_code == 0, result.output
    assert "departments: received 12, loaded 12 (12 new, 0 updated, 0 unchanged), rejected 0" in (
        result.stdout
    )
    assert cli("ingest", "jobs", str(seed / "jobs.csv")).exit_code == 0
    result = cli("ingest", "employees", str(seed / "employees.csv"))
    assert result.exit_code == 0, result.output
    assert "employees: received 1,999, loaded 1,929 (1,929 new, 0 updated, 0 unchanged), " in (
        result.stdout
    )
    assert "rejected 70 in " in result.stdout
    assert "line 2: missing job_id" in result.stderr
    assert "50 more in raw_hr._rejects (batch file:employees.csv:" in " ".join(
        result.stderr.split()
    )
    assert scalar(settings, "SELECT count(*) FROM raw_hr.employees") == 1929


def test_cli_ingest_of_a_missing_file_fails_clearly(settings, cli, tmp_path):
    result = cli("ingest", "employees", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert message.startswith("error: cannot read") and "nope.csv: no such file" in message
    assert result.stdout == ""
    result = cli("ingest", "salaries", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "'salaries' is not one of" in result.output
    assert pg_rows(settings, "SELECT to_regclass('raw_hr._loads')") == [(None,)]


def _cli_peak_rss(settings, tmp_path: Path, path: Path) -> tuple[str, int]:
    """Run `gourmand ingest employees <path>` as a process: its output and peak RSS (bytes)."""
    env = dict(os.environ, GOURMAND_HOME=str(settings.home), GOURMAND_OLTP_DSN=settings.oltp_dsn)
    out = tmp_path / f"{path.stem}.out"
    with out.open("wb") as fh:
        proc = subprocess.Popen(
            [GOURMAND, "ingest", "employees", str(path)], env=env, stdout=fh, stderr=fh
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    text = out.read_text()
    assert proc.returncode == 0, text
    return text, usage.ru_maxrss * 1024  # Linux reports kilobytes


def test_a_large_file_streams(settings, tmp_path):
    write(tmp_path / "d.csv", *(f"{i},Department {i}" for i in range(1, 13)))
    write(tmp_path / "j.csv", *(f"{i},Job {i}" for i in range(1, 184)))
    ingest_file(settings, "departments", tmp_path / "d.csv")
    ingest_file(settings, "jobs", tmp_path / "j.csv")

    def employees(path: Path, count: int) -> Path:
        with path.open("w") as fh:
            for i in range(1, count + 1):
                fh.write(
                    f"{i},Employee number {i},2021-07-27T16:02:08Z,{i % 12 + 1},{i % 183 + 1}\n"
                )
        return path

    small = employees(tmp_path / "small.csv", 25_000)
    big = employees(tmp_path / "big.csv", 150_000)
    _, small_peak = _cli_peak_rss(settings, tmp_path, small)
    text, big_peak = _cli_peak_rss(settings, tmp_path, big)
    assert (
        "employees: received 150,000, loaded 150,000 (125,000 new, 0 updated, 25,000 unchanged)"
        in (text)
    )
    assert scalar(settings, "SELECT count(*) FROM raw_hr.employees") == 150_000
    assert scalar(settings, "SELECT count(*) FROM raw_hr._rejects") == 0
    # held in memory, the 125,000 more rows' parsed lines alone take over 70 MB; streamed in
    # chunks of 20,000 rows, the peak barely moves with the file's size (about 45-55 MB)
    assert big_peak - small_peak < 30 * 2**20, (small_peak, big_peak)
