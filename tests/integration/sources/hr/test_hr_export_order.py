"""HR exports in any order: an older export dropped after a newer one changes nothing the newer
one stated, so drops in any order (and all at once) leave raw_hr, the OLTP model, the lake and
the warehouse as dropping them in order does. What decides is what each export says of itself
(extract.sources.hr.stamps: the date in the file's name, else its modification time; an API
batch, its arrival), never when it arrived. Before, the later ingest won: the older export
dropped last put its names, departments and jobs back."""

from __future__ import annotations

import csv
import io
import itertools
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from extract.sources.hr.drops import ingest_drops
from extract.sources.hr.ingest import IngestError, ingest, ingest_file
from extract.sources.hr.rules import TABLES, parse_csv_lines
from tests.support import HR_SEED, new_database, pg_rows, settings_for

pytestmark = pytest.mark.integration

OLDER, NEWER = "2021-06-30", "2021-09-30"
RAW = {
    "departments": "department_id, department_name",
    "jobs": "job_id, job_name",
    "employees": "employee_id, employee_name, hiring_date, department_id, job_id",
}


def write(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def raw_rows(settings) -> dict[str, list[tuple]]:
    """Every raw_hr row's content and the export stamp it holds (not _batch and _loaded_at:
    which batch wrote the content and when, processing facts that depend on the order)."""
    return {
        f"raw_hr.{table}": pg_rows(
            settings, f"SELECT {columns}, _exported_at FROM raw_hr.{table} ORDER BY 1"
        )
        for table, columns in RAW.items()
    }


def rejects(settings) -> list[tuple]:
    """raw_hr's rejects, without where the file lay and when (they name the home)."""
    return pg_rows(
        settings,
        "SELECT resource, batch, line_number, reason, payload FROM raw_hr._rejects "
        "ORDER BY 1, 2, 3",
    )


# --- raw_hr: the rule itself --------------------------------------------------------------


@pytest.fixture
def settings(make_settings):
    return make_settings()


def test_an_older_export_dropped_after_a_newer_one_changes_nothing_the_newer_one_stated(
    settings, tmp_path
):
    ingest_file(settings, "departments", write(tmp_path / "departments.csv", "1,Sales", "2,Legal"))
    ingest_file(settings, "jobs", write(tmp_path / "jobs.csv", "1,Clerk"))
    newer = write(
        tmp_path / f"employees_{NEWER}.csv",
        "1,Ada King,2021-07-27T16:02:08Z,2,1",  # renamed and moved since the older export
        "2,Bob,2021-07-28T00:00:00Z,1,1",  # unchanged
        "4,Dan,2021-08-01T00:00:00Z,1,1",  # hired after the older export
    )
    older = write(
        tmp_path / f"employees_{OLDER}.csv",
        "1,Ada,2021-07-27T16:02:08Z,1,1",
        "2,Bob,2021-07-28T00:00:00Z,1,1",
        "3,Cy,2021-05-01T00:00:00Z,1,1",  # only the older export lists Cy
    )
    first = ingest_file(settings, "employees", newer)
    assert first.exported_at == datetime(2021, 9, 30, tzinfo=UTC)
    late = ingest_file(settings, "employees", older)
    # Ada and Bob: a newer export stated them; Cy is new
    assert (late.inserted, late.updated, late.unchanged, late.superseded) == (1, 0, 2, 2)
    assert pg_rows(
        settings,
        "SELECT employee_id, employee_name, department_id, _exported_at::date::text "
        "FROM raw_hr.employees ORDER BY 1",
    ) == [(1, "Ada King", 2, NEWER), (2, "Bob", 1, NEWER), (3, "Cy", 1, OLDER),
          (4, "Dan", 1, NEWER)]  # fmt: skip
    assert pg_rows(
        settings,
        "SELECT batch, superseded, exported_at::date::text FROM raw_hr._loads "
        "WHERE resource = 'employees' ORDER BY exported_at",
    ) == [(late.batch, 2, OLDER), (first.batch, 0, NEWER)]


def test_exports_in_every_order_leave_what_the_order_of_their_dates_leaves(settings, tmp_path):
    """Three exports, each changing what the one before stated, ingested in all six orders
    (each into an empty raw_hr) and all ending as the dated order ends."""
    from extract.runtime.postgres import connect

    exports = {
        "2021-03-31": ["1,Ada,2021-01-04T09:00:00Z,1,1", "2,Bob,2021-02-01T09:00:00Z,1,1"],
        "2021-06-30": ["1,Ada Byron,2021-01-04T09:00:00Z,1,2", "3,Cy,2021-04-01T09:00:00Z,2,1"],
        "2021-09-30": [
            "1,Ada King,2021-01-04T09:00:00Z,2,2",
            "2,Bob,2021-02-01T09:00:00Z,2,1",
            "4,Dan,2021-08-02T09:00:00Z,1,2",
        ],  # fmt: skip
    }
    files = {}
    for stamp, lines in exports.items():
        folder = tmp_path / stamp
        folder.mkdir()
        files[stamp] = write(folder / f"employees_{stamp}.csv", *lines)
    parents = write(tmp_path / "departments.csv", "1,Sales", "2,Legal")
    jobs = write(tmp_path / "jobs.csv", "1,Clerk", "2,Nurse")
    results = {}
    for order in itertools.permutations(sorted(exports)):
        conn = connect(settings)
        with conn, conn.cursor() as cur:
            cur.execute("DROP SCHEMA IF EXISTS raw_hr CASCADE")
        conn.close()
        ingest_file(settings, "departments", parents)
        ingest_file(settings, "jobs", jobs)
        for stamp in order:
            ingest_file(settings, "employees", files[stamp])
        results[order] = raw_rows(settings)["raw_hr.employees"]
    in_order = results[tuple(sorted(exports))]
    assert all(rows == in_order for rows in results.values()), results
    assert [row[:2] for row in in_order] == [(1, "Ada King"), (2, "Bob"), (3, "Cy"), (4, "Dan")]


def test_undated_files_are_ordered_by_their_modification_time(settings, tmp_path):
    ingest_file(settings, "departments", write(tmp_path / "departments.csv", "1,Sales", "2,Legal"))
    ingest_file(settings, "jobs", write(tmp_path / "jobs.csv", "1,Clerk"))
    newer = write(tmp_path / "employees.csv", "1,Ada King,2021-07-27T16:02:08Z,2,1")
    written = int(datetime(2021, 9, 30, tzinfo=UTC).timestamp()) * 10**9
    os.utime(newer, ns=(written, written))
    ingest_file(settings, "employees", newer)
    # an older export restored with its time kept (cp -p): superseded
    older = tmp_path / "restored" / "employees.csv"
    older.parent.mkdir()
    write(older, "1,Ada,2021-07-27T16:02:08Z,1,1")
    os.utime(older, ns=(written - 90 * 86400 * 10**9,) * 2)
    assert ingest_file(settings, "employees", older).superseded == 1
    assert pg_rows(settings, "SELECT employee_name FROM raw_hr.employees") == [("Ada King",)]
    # the same file written now (a plain copy): it says it is new, and wins
    os.utime(older)
    assert ingest_file(settings, "employees", older).updated == 1
    assert pg_rows(settings, "SELECT employee_name FROM raw_hr.employees") == [("Ada",)]


def test_a_fixed_file_dropped_again_under_its_name_replaces_the_broken_one(settings, tmp_path):
    """Same stated date: the later ingest wins (the runbook's "fix the file and drop it again")."""
    ingest_file(settings, "departments", write(tmp_path / "departments.csv", "1,Sales"))
    ingest_file(settings, "jobs", write(tmp_path / "jobs.csv", "1,Clerk"))
    path = tmp_path / f"employees_{NEWER}.csv"
    ingest_file(settings, "employees", write(path, "1,Ada Kign,2021-07-27T16:02:08Z,1,1"))
    fixed = ingest_file(settings, "employees", write(path, "1,Ada King,2021-07-27T16:02:08Z,1,1"))
    assert (fixed.updated, fixed.superseded) == (1, 0)
    assert pg_rows(settings, "SELECT employee_name FROM raw_hr.employees") == [("Ada King",)]


def test_an_api_batch_is_stated_as_of_its_arrival(settings, tmp_path):
    ingest_file(settings, "departments", write(tmp_path / "departments.csv", "1,Sales"))
    ingest_file(settings, "jobs", write(tmp_path / "jobs.csv", "1,Clerk"))
    export = write(tmp_path / f"employees_{OLDER}.csv", "1,Ada,2021-07-27T16:02:08Z,1,1")
    ingest_file(settings, "employees", export)
    table = TABLES["employees"]
    api = ingest(
        settings, "employees", parse_csv_lines(table, ["1,Ada King,2021-07-27T16:02:08Z,1,1"]),
        context="api", batch_prefix="api",
    )  # fmt: skip
    assert api.updated == 1 and api.exported_at is not None
    assert api.exported_at > datetime(2026, 1, 1, tzinfo=UTC)
    # the June export dropped again later: the correction made through the API stays
    assert ingest_file(settings, "employees", export).superseded == 1
    assert pg_rows(settings, "SELECT employee_name FROM raw_hr.employees") == [("Ada King",)]


def test_a_name_whose_date_cannot_be_trusted_is_refused_whole_and_retried(settings):
    folder = settings.hr_drops
    folder.mkdir(parents=True)
    write(folder / "departments_2021-13-01.csv", "1,Sales")
    with pytest.raises(IngestError, match="cannot tell when .* was exported: .* is not a date"):
        ingest_file(settings, "departments", folder / "departments_2021-13-01.csv")
    run = ingest_drops(settings)
    assert [name for name, _ in run.failed] == ["departments_2021-13-01.csv"]
    assert pg_rows(settings, "SELECT count(*) FROM raw_hr.departments") == [(0,)]
    # renamed to its real date, it goes in on the next run
    (folder / "departments_2021-13-01.csv").rename(folder / "departments_2021-12-01.csv")
    run = ingest_drops(settings)
    assert run.failed == [] and [r.inserted for r in run.results] == [1]


def test_tables_made_before_the_rule_get_their_stamps_once(settings):
    """A home from before: raw_hr without _exported_at (rows count as exported when loaded),
    _loads without superseded and exported_at."""
    from extract.runtime.postgres import connect

    conn = connect(settings)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA raw_hr")
        old_tables = {
            "departments": "department_id integer PRIMARY KEY, department_name text NOT NULL",
            "jobs": "job_id integer PRIMARY KEY, job_name text NOT NULL",
        }
        for table, columns in old_tables.items():
            cur.execute(
                f"CREATE TABLE raw_hr.{table} ({columns}, _batch text NOT NULL, "
                "_loaded_at timestamptz NOT NULL)"
            )
        cur.execute(
            "CREATE TABLE raw_hr._loads (resource text NOT NULL, batch text NOT NULL, "
            "context text, received bigint NOT NULL, loaded bigint NOT NULL, "
            "rejected bigint NOT NULL, inserted bigint NOT NULL, updated bigint NOT NULL, "
            "unchanged bigint NOT NULL, seconds double precision NOT NULL, "
            "extracted_at timestamptz NOT NULL, PRIMARY KEY (resource, batch))"
        )
        cur.execute(
            "INSERT INTO raw_hr.departments VALUES (1, 'Sales', 'old', '2022-01-01T00:00:00Z')"
        )
    conn.close()
    folder = settings.home / "files"
    folder.mkdir(parents=True)
    # an export from before the row was loaded: superseded by what the row says of itself
    export = write(folder / "departments_2021-09-30.csv", "1,Sales and Marketing", "2,Legal")
    late = ingest_file(settings, "departments", export)
    assert (late.inserted, late.superseded) == (1, 1)
    assert pg_rows(
        settings, "SELECT department_name, _exported_at::date::text FROM raw_hr.departments "
        "ORDER BY department_id",
    ) == [("Sales", "2022-01-01"), ("Legal", "2021-09-30")]  # fmt: skip
    assert pg_rows(
        settings, "SELECT batch, superseded FROM raw_hr._loads WHERE exported_at IS NOT NULL"
    ) == [(late.batch, 1)]


# --- the chain: raw_hr, OLTP, lake, warehouse ----------------------------------------------

OLTP_TABLES = ("oltp.hr_department", "oltp.hr_job", "oltp.hr_employee")
WAREHOUSE_TABLES = (
    "dwh_staging.stg_lake__hr_department", "dwh_staging.stg_lake__hr_job",
    "dwh_staging.stg_lake__hr_employee", "dwh.dim_hr_department", "dwh.dim_hr_job",
    "dwh.fct_hire", "marts.hr_hires_by_quarter", "marts.hr_departments_above_mean",
)  # fmt: skip
# when a row was processed, not what it says
PROCESSING_TIME = {"last_edited_at", "loaded_at"}
OLTP_SELECT = ["source:raw_hr+"]
DWH_SELECT = [f"source:lake.{t}+" for t in ("hr_department", "hr_job", "hr_employee")]


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def exports(folder: Path) -> dict[str, dict[str, Path]]:
    """Two quarterly exports: the seed drop (June), and September's, which adds a department
    and a job, renames one of each, renames 50 employees, moves 40 to the new department,
    no longer lists 30 (they stay: an export is not a list of deletions) and adds 25."""
    seed = {t: list(csv.reader((HR_SEED / f"{t}.csv").read_text().splitlines())) for t in RAW}
    new = {t: list(csv.reader((HR_SEED / "new_records" / f"{t}.csv").read_text().splitlines()))
           for t in ("departments", "jobs")}  # fmt: skip
    departments = [[i, "Sales and Partnerships" if i == "2" else n] for i, n in seed["departments"]]
    jobs = [[i, f"{n} (Senior)" if i == "3" else n] for i, n in seed["jobs"]]
    employees = []
    for number, row in enumerate(seed["employees"][:-30], start=1):
        row = [*row]
        if number % 40 == 1 and row[1]:
            row[1] += " Jr."
        if number % 45 == 2 and row[3]:
            row[3] = "13"
        employees.append(row)
    hires = [[str(5000 + i), f"New Hire {i}", f"2021-09-{i:02d}T09:00:00Z", "13", "184"]
             for i in range(1, 26)]  # fmt: skip
    contents = {
        OLDER: {t: (HR_SEED / f"{t}.csv").read_text() for t in RAW},
        NEWER: {
            "departments": _csv(departments + new["departments"]),
            "jobs": _csv(jobs + new["jobs"]),
            "employees": _csv(employees + hires),
        },
    }
    out: dict[str, dict[str, Path]] = {}
    for stamp, tables in contents.items():
        (folder / stamp).mkdir(parents=True)
        out[stamp] = {}
        for table, text in tables.items():
            path = folder / stamp / f"{table}_{stamp}.csv"
            path.write_text(text)
            out[stamp][table] = path
    return out


def contents(settings, *, with_warehouse: bool = True) -> dict[str, list[tuple]]:
    """Every row of raw_hr (as raw_rows), its rejects, the OLTP tables, the lake as the
    warehouse reads it and the warehouse, sorted, without processing times."""
    from extract.runtime.query import run_query

    out: dict[str, list[tuple]] = {"raw_hr._rejects": rejects(settings), **raw_rows(settings)}
    tables = [(t, "oltp") for t in OLTP_TABLES]
    if with_warehouse:
        tables += [(t, "warehouse") for t in WAREHOUSE_TABLES]
    for name, target in tables:
        # the build as dbt left it (no publication outside Dagster)
        columns, rows = run_query(
            f"select * from {name}", target=target, settings=settings, internal=True,
            build="working",
        )  # fmt: skip
        keep = [i for i, c in enumerate(columns) if c not in PROCESSING_TIME]
        out[name] = sorted((tuple(row[i] for i in keep) for row in rows), key=repr)
    return out


def build(settings, work: Path, project: str, select: list[str]) -> None:
    from extract.runtime.dbt_invoke import run_dbt

    run = run_dbt(project, ["build", "--select", *select], settings, target_path=work / project)
    assert run.returncode == 0, run.stdout[-4000:]


def hr_run(settings, work: Path, *dropped: Path) -> list:
    """Files into the drop folder, then what the `hr` job runs: the ingest of what is new, the
    OLTP models, the lake export."""
    from extract.lake.export import export_oltp

    settings.hr_drops.mkdir(parents=True, exist_ok=True)
    for path in dropped:
        shutil.copy2(path, settings.hr_drops / path.name)
    run = ingest_drops(settings)
    assert run.failed == []
    build(settings, work, "dbt_oltp", OLTP_SELECT)
    export_oltp(settings)
    return run.results


def warehouse(settings, work: Path) -> dict[str, list[tuple]]:
    """The warehouse's HR models and everything compared. They are tables rebuilt whole from
    the lake, so one build at the end of a home sees what a build after each drop would; the
    lake export, which is incremental, runs after each drop."""
    build(settings, work, "dbt_dwh", DWH_SELECT)
    return contents(settings)


@pytest.fixture(scope="module")
def dropped(base_dsn, tmp_path_factory):
    """Three homes: the June export then September's (in order), September's then June's
    (both through the chain), and both dropped at once (raw_hr only: one ingest run, and what
    the models build from it is what they build from the in-order raw_hr); what each holds at
    the end, and what the in-order home held after June."""
    work = tmp_path_factory.mktemp("hr-export-order")
    files = exports(work / "exports")
    older, newer = list(files[OLDER].values()), list(files[NEWER].values())
    with (new_database(base_dsn) as dsn_1, new_database(base_dsn) as dsn_2,
          new_database(base_dsn) as dsn_3):  # fmt: skip
        in_order, newer_first, together = (
            settings_for(work / name, dsn) for name, dsn in
            (("in-order", dsn_1), ("newer-first", dsn_2), ("together", dsn_3))
        )  # fmt: skip
        hr_run(in_order, work / "1", *older)
        after_june = contents(in_order, with_warehouse=False)
        hr_run(in_order, work / "1", *newer)
        hr_run(newer_first, work / "2", *newer)
        late = hr_run(newer_first, work / "2", *older)
        together.hr_drops.mkdir(parents=True)
        for path in (*older, *newer):
            shutil.copy2(path, together.hr_drops / path.name)
        assert ingest_drops(together).failed == []
        homes = {
            "June": after_june,
            "June, September": warehouse(in_order, work / "1"),
            "September, June": warehouse(newer_first, work / "2"),
        }
        yield homes, late, {"raw_hr._rejects": rejects(together), **raw_rows(together)}


def _differing(left: dict, right: dict) -> list[str]:
    return sorted(name for name in left.keys() | right.keys() if left.get(name) != right.get(name))


def test_september_changes_every_table_it_feeds(dropped):
    """Not vacuous: the June home and the final one differ in raw_hr and every OLTP table, and
    the warehouse holds what September changed and what only June listed."""
    homes, *_ = dropped
    june, final = homes["June"], homes["June, September"]
    assert _differing(june, {name: final[name] for name in june}) == sorted(
        [*(f"raw_hr.{t}" for t in RAW), "raw_hr._rejects", *OLTP_TABLES]
    )
    assert len(final["oltp.hr_employee"]) == len(june["oltp.hr_employee"]) + 25 == 1929 + 25
    assert len(final["oltp.hr_department"]) == 13 and len(final["oltp.hr_job"]) == 184
    departments = dict(final["dwh.dim_hr_department"])
    assert len(departments) == 13 and departments[2] == "Sales and Partnerships"
    hires = {row[0]: row for row in final["dwh.fct_hire"]}
    assert len(hires) == 1929 + 25 and all(
        hires[5000 + i][1] == f"New Hire {i}" for i in range(1, 26)
    )
    renamed = [name for _, name, *_ in hires.values() if name.endswith(" Jr.")]
    assert len(renamed) > 40
    # the employees September no longer lists are still there, as June stated them
    june_only = {row[0] for row in june["raw_hr.employees"]} - {
        row[0] for row in final["raw_hr.employees"] if row[-1].date().isoformat() == NEWER
    }
    assert 0 < len(june_only) <= 30 and june_only <= set(hires)


def test_june_dropped_after_september_equals_the_in_order_home(dropped):
    homes, late, _ = dropped
    assert _differing(homes["September, June"], homes["June, September"]) == []
    # June's rows that September restated were loaded and not applied
    employees = next(r for r in late if r.table == "employees")
    # the valid June lines among the 30 September no longer lists are added; no other row moves
    assert 0 < employees.inserted <= 30 and employees.updated == 0
    assert employees.superseded == employees.unchanged == 1929 - employees.inserted


def test_both_dropped_at_once_equal_the_in_order_home(dropped):
    """One run ingests both (departments first, then jobs, then employees, whatever the
    dates): raw_hr and its rejects are what the in-order home holds."""
    homes, _, together = dropped
    in_order = {name: rows for name, rows in homes["June, September"].items() if name in together}
    assert len(in_order) == 4 and _differing(together, in_order) == []
