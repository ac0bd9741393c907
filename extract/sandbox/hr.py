"""The HR CSV drops of the sandbox: departments, jobs and employees as the HR system exports them.

Three header-less, comma-separated UTF-8 files under the data dictionary of the HR rules
(`extract.sources.hr.rules`: every field mandatory, ids unique, an employee's department and job
exist), "\\n" line ends and a trailing newline. Names come from small built-in lists. Employees are
generated column-wise with NumPy: hires spread unevenly over `hr_year` (each department has its own
size and its own quarterly rhythm, so some departments hire clearly above the mean) and ~10% of them
in the year before. Every `hr_invalid_every`-th employee line breaks one rule, in a fixed rotation
(`FAULTS`). Same config -> same bytes."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from extract.sandbox.config import SandboxConfig
from extract.sandbox.seeding import key_int

PREVIOUS_YEAR_SHARE = 0.10
DAY = 86_400

# What an invalid employee line breaks, in rotation order (the Nth, 2Nth, ... line).
FAULTS: tuple[str, ...] = (
    "empty_name",
    "empty_hiring_date",
    "empty_department_id",
    "empty_job_id",
    "malformed_timestamp",  # 2021-08-29T00:0:1Z: minute and second not zero-padded
    "unknown_department",  # hr_departments + 100
    "duplicate_id",  # the employee_id of an earlier line
)

DEPARTMENT_NAMES: tuple[str, ...] = (
    "Engineering", "Sales", "Marketing", "Product Management", "Research and Development",
    "Business Development", "Human Resources", "Customer Support", "Professional Services",
    "Training", "Legal", "Accounting", "Finance", "Operations", "Procurement",
    "Customer Success", "Quality Assurance", "Information Technology", "Facilities",
    "Data Science", "Design", "Security", "Logistics", "Compliance", "Public Relations",
    "Internal Audit",
)  # fmt: skip
# Titles that come in levels (the bare title, then I..IV) and titles that do not.
LEVELED_TITLES: tuple[str, ...] = (
    "Account Representative", "Accountant", "Administrative Assistant", "Analyst Programmer",
    "Biostatistician", "Business Systems Analyst", "Compensation Analyst", "Cost Accountant",
    "Data Coordinator", "Database Administrator", "Design Engineer", "Developer", "Editor",
    "Environmental Specialist", "Financial Analyst", "Graphic Designer", "Help Desk Operator",
    "Human Resources Assistant", "Marketing Assistant", "Office Assistant", "Programmer Analyst",
    "Project Manager", "Quality Engineer", "Recruiter", "Research Associate", "Sales Associate",
    "Software Engineer", "Software Test Engineer", "Staff Accountant", "Statistician",
    "Systems Administrator", "Tax Accountant", "Technical Writer", "Web Developer",
)  # fmt: skip
SINGLE_TITLES: tuple[str, ...] = (
    "VP Sales", "VP Marketing", "VP Engineering", "VP Product Management", "VP Accounting",
    "VP Quality Control", "Chief Design Engineer", "Director of Sales", "General Manager",
    "Human Resources Manager", "Marketing Manager", "Payroll Coordinator", "Recruiting Manager",
    "Senior Developer", "Junior Executive", "Senior Editor", "Nurse Practitioner",
    "Clinical Specialist", "Legal Counsel", "Executive Secretary",
)  # fmt: skip
FIRST_NAMES: tuple[str, ...] = (
    "Ada", "Alan", "Amara", "Anders", "Anika", "Aurelio", "Beatrix", "Bjørn", "Camille", "Chidi",
    "Cyrus", "Dagny", "Dmitri", "Elif", "Emeka", "Esme", "Fabian", "Farah", "Goran", "Greta",
    "Hamish", "Hana", "Ines", "Ivo", "Jonah", "José", "Kaito", "Keziah", "Lars", "Leilani",
    "Lucía", "Magnus", "Malia", "Mateo", "Mireille", "Nadia", "Niamh", "Oskar", "Priya", "Quentin",
    "Rafael", "Renée", "Saoirse", "Soren", "Tamsin", "Teodor", "Ulla", "Viktor", "Wen", "Yusuf",
    "Zoë", "Zora",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Abernathy", "Achebe", "Bergström", "Blackwood", "Calloway", "Castellanos", "Dimitrov",
    "Drummond", "Eriksen", "Fairbairn", "Falkenrath", "Gallagher", "Gutiérrez", "Haddad",
    "Hargreaves", "Ishikawa", "Jablonski", "Kowalczyk", "Lindqvist", "Lockhart", "Madsen",
    "Marchetti", "Müller", "Nakamura", "Novak", "Núñez", "O'Malley", "Okonkwo", "Pemberton",
    "Petrov", "Quinlan", "Rasmussen", "Rourke", "Sandoval", "Szabo", "Thackeray", "Underwood",
    "Valdés", "Vasquez", "Whitcombe", "Winslow", "Xu", "Yilmaz", "Zielinski",
)  # fmt: skip


class _Key(NamedTuple):
    seed: int
    departments: int
    jobs: int
    employees: int
    year: int
    invalid_every: int


def _key(config: SandboxConfig) -> _Key:
    return _Key(
        config.seed,
        config.hr_departments,
        config.hr_jobs,
        config.hr_employees,
        config.hr_year,
        config.hr_invalid_every,
    )


def _draws(seed: int, part: str) -> np.random.Generator:
    # One stream per column, so a change to one column leaves the others as they were.
    return np.random.default_rng(key_int(seed, "hr", part))


def _pick_names(pool: tuple[str, ...], n: int, g: np.random.Generator) -> list[str]:
    """n distinct names: a seeded order of the pool, then numbered repeats if n exceeds it."""
    order = [pool[i] for i in g.permutation(len(pool))]
    return [
        order[i] if i < len(order) else f"{order[i % len(order)]} {i // len(order) + 1}"
        for i in range(n)
    ]


def _lines(rows: list[tuple[str, ...]]) -> str:
    return "".join(",".join(row) + "\n" for row in rows)


def departments(config: SandboxConfig) -> list[str]:
    """Department names in id order (department_id = index + 1)."""
    return _pick_names(DEPARTMENT_NAMES, config.hr_departments, _draws(config.seed, "departments"))


def jobs(config: SandboxConfig) -> list[str]:
    """Job names in id order (job_id = index + 1)."""
    pool = (
        tuple([f"{t}{level}" for t in LEVELED_TITLES for level in ("", " I", " II", " III", " IV")])
        + SINGLE_TITLES
    )
    return _pick_names(pool, config.hr_jobs, _draws(config.seed, "jobs"))


def departments_csv(config: SandboxConfig) -> str:
    return _lines([(str(i), name) for i, name in enumerate(departments(config), start=1)])


def jobs_csv(config: SandboxConfig) -> str:
    return _lines([(str(i), name) for i, name in enumerate(jobs(config), start=1)])


def employees_csv(config: SandboxConfig) -> str:
    return _employees(_key(config))


def fault_of_line(line: int, invalid_every: int) -> str | None:
    """Which rule employee line `line` (1-based) breaks, if any."""
    if invalid_every <= 0 or line % invalid_every:
        return None
    return FAULTS[(line // invalid_every - 1) % len(FAULTS)]


def _weights(shape: np.ndarray, g: np.random.Generator) -> np.ndarray:
    """A skewed profile (Zipf-like) in a seeded order, with some noise; sums to 1."""
    w = g.permutation(shape) * g.uniform(0.85, 1.15, len(shape))
    return np.asarray(w / w.sum())


def _hire_seconds(key: _Key, department: np.ndarray) -> np.ndarray:
    """Hiring times (epoch seconds, UTC): by each department's quarterly rhythm in `year`,
    uniform over the year before for ~10%."""
    n = len(department)
    g = _draws(key.seed, "hired")
    year_start = np.datetime64(f"{key.year}-01-01", "D")
    q_starts = np.array(
        [np.datetime64(f"{key.year}-{m:02d}-01", "D") for m in (1, 4, 7, 10)]
        + [np.datetime64(f"{key.year + 1}-01-01", "D")]
    )
    q_days = np.diff(q_starts).astype(np.int64)
    # a company-wide rhythm (slow start, spring and autumn waves) times each department's own
    season = np.array([0.85, 1.1, 0.9, 1.15])
    quarter_p = season * g.gamma(3.0, 1.0 / 3.0, (key.departments, 4))
    quarter_p /= quarter_p.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(quarter_p, axis=1)[department]
    quarter = np.minimum((g.random(n)[:, None] >= cumulative).sum(axis=1), 3)
    offset_days = (q_starts[quarter] - year_start).astype(np.int64) + (
        g.random(n) * q_days[quarter]
    ).astype(np.int64)
    before = g.random(n) < PREVIOUS_YEAR_SHARE
    prev_days = (year_start - np.datetime64(f"{key.year - 1}-01-01", "D")).astype(np.int64)
    offset_days = np.where(before, -1 - g.integers(0, prev_days, n), offset_days)
    seconds = offset_days * DAY + g.integers(0, DAY, n)
    return np.asarray(year_start.astype("datetime64[s]").astype(np.int64) + seconds)


@lru_cache(maxsize=4)
def _employees(key: _Key) -> str:
    n = key.employees
    if n == 0:
        return ""
    g_dept = _draws(key.seed, "department")
    sizes = _weights((np.arange(key.departments) + 1.5) ** -0.5, g_dept)
    department = np.asarray(g_dept.choice(key.departments, size=n, p=sizes))
    g_job = _draws(key.seed, "job")
    job = g_job.choice(key.jobs, size=n, p=_weights(g_job.lognormal(0, 0.7, key.jobs), g_job))
    g_name = _draws(key.seed, "name")
    first = g_name.integers(0, len(FIRST_NAMES), n)
    last = g_name.integers(0, len(LAST_NAMES), n)
    hired = _hire_seconds(key, department)

    ids = [str(i) for i in range(1, n + 1)]
    names = [f"{FIRST_NAMES[f]} {LAST_NAMES[s]}" for f, s in zip(first, last, strict=True)]
    stamps = [s + "Z" for s in np.datetime_as_string(hired.astype("datetime64[s]"), unit="s")]
    dept_ids = [str(d + 1) for d in department]
    job_ids = [str(j + 1) for j in job]

    if key.invalid_every > 0:
        g_dup = _draws(key.seed, "duplicate")
        for line in range(key.invalid_every, n + 1, key.invalid_every):
            i = line - 1
            fault = fault_of_line(line, key.invalid_every)
            if fault == "empty_name":
                names[i] = ""
            elif fault == "empty_hiring_date":
                stamps[i] = ""
            elif fault == "empty_department_id":
                dept_ids[i] = ""
            elif fault == "empty_job_id":
                job_ids[i] = ""
            elif fault == "malformed_timestamp":  # 2021-08-29T00:00:01Z -> 2021-08-29T00:0:1Z
                s = stamps[i]
                stamps[i] = f"{s[:13]}:{int(s[14:16]) % 10}:{int(s[17:19]) % 10}Z"
            elif fault == "unknown_department":
                dept_ids[i] = str(key.departments + 100)
            elif fault == "duplicate_id":  # line >= 7 here: there is always an earlier line
                ids[i] = ids[int(g_dup.integers(0, i))]
    return _lines(list(zip(ids, names, stamps, dept_ids, job_ids, strict=True)))
