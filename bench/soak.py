"""The soak (issue 29): a random sequence of runs against one home, each sequence ended by a
comparison of every table with an in-order reference home built from the same final source data.

`make soak` (or `python -m bench.soak`); not part of `make test` nor `make bench`. The soak
starts its own sandbox in this process (small: one county, a few hundred 311 requests a year),
so it can change the source between runs, and one home (GOURMAND_HOME in a temporary folder,
its own embedded Postgres). Each operation is a subprocess of the real command line:

- a Yelp survey day, `gourmand materialize --partition DAY` (four days of January 2024);
- a LA 311 year, `gourmand materialize --select '<the socrata_full selection>' --partition Y`;
- a full refresh: `dbt run --full-refresh` of dbt_oltp, the lake export with `full_refresh`,
  `dbt run --full-refresh` of dbt_dwh (the way the replay test refreshes, through run_dbt).

Steps, in random order: a plain run; a run killed (SIGKILL of its process group) at a random
moment of it, the next step being a run of the same thing again (killed again sometimes, then
plain); two runs started together (the same partition, two days, a day and a year, two years;
one of them killed sometimes); a change of the source (another Yelp day revised, or the 311
portal's later state) followed by a run of a changed partition; a full refresh. A run that
failed is run again next, once. Every `SOAK_STEPS` steps the sequence ends: whatever was
killed, failed or is stale against the source is run again (no other repair), then every
table of schemas oltp and reporting (Postgres) and dwh and marts (the DuckDB warehouse) is
checksummed and compared with a reference home that ran every day in order, then every year
in order, from empty, against the same final source data (built once per state of the
source, reused when the source is in that state again).

It prints each operation, kill (the step it landed in), overlap, failure (the run's error
lines, and what each of its failed checks observed), hang (an operation over SOAK_OP_TIMEOUT
seconds, killed) and mismatch (table, both checksums, the columns and a few rows that differ,
the sequence's steps), then one summary line; exit 1 on any mismatch, hang or failed run. A
home found different is kept aside for inspection and the soak goes on in a fresh one.

Knobs (environment, or the same flags): SOAK_MINUTES (60; no new step starts after them, the
last sequence is then closed and compared), SOAK_SEED (repeats the same plan; printed),
SOAK_STEPS (30 steps a sequence), SOAK_OP_TIMEOUT (600 s), SOAK_KEEP=1 keeps the work folder
(it is kept anyway when something was found). A goal ends it sooner, the same way (no new step,
the last sequence closed and compared): SOAK_UNTIL_KILLS and SOAK_UNTIL_OVERLAPS, both reached
after at least SOAK_LEAST_MINUTES.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("results") / "soak.json"

DAYS = tuple((date(2024, 1, 1) + timedelta(days=i)).isoformat() for i in range(4))
# the days the source may revise: inner days (a version before and after them), and few, as
# each state of the sources costs one reference home
REVISABLE = DAYS[1:3]
YEARS = ("2023", "2024")
# the selection of the socrata_full job, as issue 29 ran it
YEAR_SELECTION = "key:raw_socrata/service_requests+ or key:dwh/dim_date"
# small enough that a day's run is mostly the chain's fixed cost
SANDBOX_KNOBS: dict[str, Any] = {
    "counties": 1,
    "businesses_per_county": 15,
    "reviews_per_business": 2,
    "events_per_county": 2,
    "socrata_years": ",".join(YEARS),
    "socrata_rows_per_year": 300,
}
# the portal's later state: this share of each year's requests updated after the base data
SOCRATA_CHANGED_FRACTION = 0.05
POSTGRES_SCHEMAS = ("oltp", "reporting")
WAREHOUSE_SCHEMAS = ("dwh", "marts")

# how a step is drawn (weights), and how often a forced re-run is killed again
# Weighted so that a couple of hours reach issue 29's figures (200 kills, 50 overlapping pairs)
# on 2 cores: a day's run is ~32-45 s there, a year's ~20 s, and two commands started together
# take as long as both (the second waits for the first's `runs` lock). Plain runs are few: every
# killed run is run plain again anyway, and each sequence ends by running what is stale. Kills
# in a row of one run are what makes a kill cheaper than a run (each is a kill of a recovery in
# progress), and a kill step picks a year as often as a day, a year's run costing half a day's
# (bench/README.md has the arithmetic and the measured pace).
STEP_WEIGHTS = {"run": 0.02, "kill": 0.28, "overlap": 0.62, "change": 0.04, "refresh": 0.04}
KILL_AGAIN = 0.85
MAX_KILL_STREAK = 12  # consecutive kills of one operation before its plain re-run
KILL_DAYS = 0.5  # the share of kill steps that kill a survey day (the others a 311 year)
OVERLAP_KILL = 0.7
# a moment to kill at: this share range of the operation's usual seconds (its recent median)
KILL_SHARES = (0.02, 1.0)
USUAL_SECONDS = {"day": 45.0, "year": 25.0, "refresh": 30.0}  # until some runs are measured
CONVERGE_ROUNDS = 2  # what still fails after two tries at the end of a sequence is left so

# Dagster's log lines name the step: "... - gourmand_materialize - <run id> - [pid - ]<step> - "
_DAGSTER_STEP = re.compile(r" - [0-9a-f]{8}-[0-9a-f-]{27} - (?:\d+ - )?([A-Za-z_][\w.]*) - ")
_REFRESH_STEP = re.compile(r"^STEP (\w+)$", re.MULTILINE)

# the full refresh, as the replay test does it (there is no gourmand command for dbt's)
REFRESH_SCRIPT = """
import sys
from extract.lake.export import export_oltp
from extract.runtime.dbt_invoke import run_dbt
from extract.settings import get_settings

settings = get_settings()
work = settings.home / "dbt-full-refresh"
for project in ("dbt_oltp", "lake_export", "dbt_dwh"):
    print("STEP", project, flush=True)
    if project == "lake_export":
        export_oltp(settings, full_refresh=True)
        continue
    result = run_dbt(project, ["run", "--full-refresh"], settings, target_path=work)
    print(result.stdout[-4000:], flush=True)
    if result.returncode != 0:
        sys.exit(1)
print("DONE", flush=True)
"""


# --- the plan: pure, drawn from one seeded random.Random ---------------------------------------


@dataclass(frozen=True)
class Op:
    """One command: a survey day, a 311 year or a full refresh."""

    kind: str  # "day" | "year" | "refresh"
    partition: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.partition}".strip()

    def command(self, bin_dir: Path) -> list[str]:
        gourmand = str(bin_dir / "gourmand")
        if self.kind == "day":
            return [gourmand, "materialize", "--partition", self.partition]
        if self.kind == "year":
            return [
                gourmand,
                "materialize",
                "--select",
                YEAR_SELECTION,
                "--partition",
                self.partition,
            ]
        return [str(bin_dir / "python"), "-c", REFRESH_SCRIPT]


REFRESH = Op("refresh")
PARTITIONS = (*(Op("day", d) for d in DAYS), *(Op("year", y) for y in YEARS))


@dataclass(frozen=True)
class Sources:
    """What the sandbox serves that the soak changes: the final source data is one of these."""

    revised_day: str | None = None  # the Yelp day the source revised (one at a time)
    socrata_changed: bool = False  # the 311 portal's later state (one way: see `_change`)

    def knobs(self) -> dict[str, Any]:
        return {
            "yelp_revised_day": date.fromisoformat(self.revised_day) if self.revised_day else None,
            "socrata_changed_fraction": SOCRATA_CHANGED_FRACTION if self.socrata_changed else 0.0,
        }

    def affected(self, other: Sources) -> set[Op]:
        """The partitions whose data differ between these sources and `other`."""
        changed: set[Op] = set()
        if self.revised_day != other.revised_day:
            # the day revised before is served as first published again, the new one revised
            changed |= {Op("day", d) for d in (self.revised_day, other.revised_day) if d}
        if self.socrata_changed != other.socrata_changed:
            changed |= {Op("year", y) for y in YEARS}
        return changed

    @property
    def label(self) -> str:
        return (
            f"yelp revised {self.revised_day or 'none'}, "
            f"311 {'changed' if self.socrata_changed else 'base'}"
        )


@dataclass(frozen=True)
class Step:
    """What the soak does next: one operation, or two started together."""

    kind: str  # "run" | "rerun" | "kill" | "overlap" | "change" | "refresh"
    ops: tuple[Op, ...]
    # (which of `ops`, the moment as a share of its usual seconds) for a step that kills
    kill: tuple[int, float] | None = None
    change: Sources | None = None  # a change step: the sources from now on

    @property
    def label(self) -> str:
        text = " + ".join(op.label for op in self.ops)
        if self.change is not None:
            text = f"source now {self.change.label}; {text}"
        if self.kill is not None:
            text += f" (kill {self.ops[self.kill[0]].label} at {self.kill[1]:.0%})"
        return f"{self.kind} {text}"


def _partition(rng: random.Random, days: float = 0.7) -> Op:
    """A survey day (`days` of the time) or a 311 year."""
    return Op("day", rng.choice(DAYS)) if rng.random() < days else Op("year", rng.choice(YEARS))


def _pair(rng: random.Random) -> tuple[Op, Op]:
    r = rng.random()
    if r < 0.25:
        op = _partition(rng)
        return op, op
    if r < 0.6:
        a, b = rng.sample(DAYS, 2)
        return Op("day", a), Op("day", b)
    if r < 0.9:
        return Op("day", rng.choice(DAYS)), Op("year", rng.choice(YEARS))
    return Op("year", YEARS[0]), Op("year", YEARS[1])


def _share(rng: random.Random) -> float:
    return rng.uniform(*KILL_SHARES)


def _change(rng: random.Random, sources: Sources) -> Step:
    # The 311 change happens once: the loader keeps each request's newest update, so a portal
    # going back to an older state is not something a re-run undoes (nor should it).
    if not sources.socrata_changed and rng.random() < 0.3:
        new = dataclasses.replace(sources, socrata_changed=True)
        return Step("change", (Op("year", rng.choice(YEARS)),), change=new)
    choices = [d for d in (None, *REVISABLE) if d != sources.revised_day]
    revised = rng.choice(choices)
    new = dataclasses.replace(sources, revised_day=revised)
    # re-run the day whose data just changed (the newly revised one, else the one restored)
    rerun = revised or sources.revised_day
    assert rerun is not None
    return Step("change", (Op("day", rerun),), change=new)


def plan_step(
    rng: random.Random, sources: Sources, pending: Sequence[Op], kill_streak: int
) -> Step:
    """The next step. An operation that was killed or failed (`pending`, oldest first) is run
    again first: killed again at times (`kill_streak` kills in a row so far), then plain."""
    if pending:
        op = pending[0]
        if kill_streak and kill_streak < MAX_KILL_STREAK and rng.random() < KILL_AGAIN:
            return Step("kill", (op,), kill=(0, _share(rng)))
        return Step("rerun", (op,))
    kind = rng.choices(list(STEP_WEIGHTS), weights=list(STEP_WEIGHTS.values()))[0]
    if kind == "run":
        return Step("run", (_partition(rng),))
    if kind == "kill":
        return Step("kill", (_partition(rng, KILL_DAYS),), kill=(0, _share(rng)))
    if kind == "overlap":
        pair = _pair(rng)
        kill = (rng.randrange(2), _share(rng)) if rng.random() < OVERLAP_KILL else None
        return Step("overlap", pair, kill=kill)
    if kind == "change":
        return _change(rng, sources)
    kill = (0, _share(rng)) if rng.random() < 0.3 else None
    return Step("refresh", (REFRESH,), kill=kill)


# --- checksums ---------------------------------------------------------------------------------


def _normal(value: Any) -> Any:
    # a float summed in another order may differ in its last bits: not a difference of data
    return float(f"{value:.12g}") if isinstance(value, float) else value


def _kept(columns: Sequence[str]) -> list[int]:
    """The columns compared: all but the processing-time ones (the replay test's rule,
    tests/support.py: two homes fed the same data differ there)."""
    from tests.support import PROCESSING_TIME

    return [i for i, c in enumerate(columns) if c not in PROCESSING_TIME]


def _lines(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    keep = _kept(columns)
    return [repr(tuple(_normal(row[i]) for i in keep)) for row in rows]


def table_digest(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """An order-independent digest of a table's rows, without the processing-time columns."""
    header = repr([columns[i] for i in _kept(columns)])
    return hashlib.md5("\n".join([header, *sorted(_lines(columns, rows))]).encode()).hexdigest()


def explain(
    soak: tuple[Sequence[str], Sequence[Sequence[Any]]],
    reference: tuple[Sequence[str], Sequence[Sequence[Any]]],
    examples: int = 2,
) -> list[str]:
    """How one table's (columns, rows) in two homes differ: the row counts, the compared columns
    whose values differ (as multisets), and a few rows found in one home only."""
    from collections import Counter

    (a_columns, a_rows), (b_columns, b_rows) = soak, reference
    a_kept = [a_columns[i] for i in _kept(a_columns)]
    if a_kept != [b_columns[i] for i in _kept(b_columns)]:
        return [f"other columns: soak {list(a_columns)}, reference {list(b_columns)}"]
    columns = [
        name
        for i, name in zip(_kept(a_columns), a_kept, strict=True)
        if Counter(repr(_normal(r[i])) for r in a_rows)
        != Counter(repr(_normal(r[i])) for r in b_rows)
    ]
    a_lines, b_lines = Counter(_lines(a_columns, a_rows)), Counter(_lines(b_columns, b_rows))
    only_a, only_b = sorted((a_lines - b_lines).elements()), sorted((b_lines - a_lines).elements())
    out = [
        f"{len(a_rows)} rows in the soak home, {len(b_rows)} in the reference; columns that "
        f"differ: {', '.join(columns) or 'none (rows repeated differently)'}",
        f"{len(only_a)} rows only in the soak home, {len(only_b)} only in the reference; "
        f"columns {a_kept}",
    ]
    out += [f"soak only: {line[:400]}" for line in only_a[:examples]]
    out += [f"reference only: {line[:400]}" for line in only_b[:examples]]
    return out


ABSENT = "absent"


def differences(soak: dict[str, str], reference: dict[str, str]) -> list[tuple[str, str, str]]:
    """(table, soak's digest, reference's digest) of every table that differs, or that one
    home lacks (its digest `absent`), sorted by table."""
    return [
        (name, soak.get(name, ABSENT), reference.get(name, ABSENT))
        for name in sorted(soak.keys() | reference.keys())
        if soak.get(name) != reference.get(name)
    ]


def fetch_table(settings: Any, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(columns, rows) of `schema.table`: Postgres for oltp and reporting, else the warehouse
    (read-only)."""
    from extract.runtime.query import run_query

    schema, table = name.split(".", 1)
    target = "oltp" if schema in POSTGRES_SCHEMAS else "warehouse"
    return run_query(
        f'select * from "{schema}"."{table}"', target=target, settings=settings, internal=True
    )


def home_checksums(settings: Any) -> dict[str, str]:
    """The digest of every table of schemas oltp and reporting (Postgres) and dwh and marts
    (the warehouse), keyed `schema.table`."""
    from extract.runtime.query import run_query, warehouse_tables

    _, listed = run_query(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema = any(%s) order by 1, 2",
        settings=settings,
        params=[list(POSTGRES_SCHEMAS)],
        internal=True,
    )
    names = [f"{schema}.{table}" for schema, table in listed]
    names += [f"{s}.{t}" for s, t in warehouse_tables(settings, WAREHOUSE_SCHEMAS)]
    return {name: table_digest(*fetch_table(settings, name)) for name in names}


# --- running operations ------------------------------------------------------------------------


@dataclass
class Outcome:
    op: Op
    status: str  # "ok" | "failed" | "killed" | "hung"
    seconds: float
    log: Path
    where: str = ""  # the step it was in when killed
    missed_kill: float | None = None  # a kill planned at this second came after the end

    def describe(self) -> str:
        if self.status == "killed":
            return f"killed at {self.seconds:.1f}s in {self.where or 'start-up'}"
        if self.status == "hung":
            return f"HUNG: killed after {self.seconds:.0f}s in {self.where or 'start-up'}"
        text = f"{'ok' if self.status == 'ok' else 'FAILED'} {self.seconds:.1f}s"
        if self.missed_kill is not None:
            text += f" (ended before its kill at {self.missed_kill:.1f}s)"
        return text


def last_step(text: str) -> str:
    """The step a run's log was last in: Dagster's step key, or the refresh script's."""
    found = _DAGSTER_STEP.findall(text) or _REFRESH_STEP.findall(text)
    return found[-1] if found else ""


_ERROR_LINE = re.compile(
    r"^\s*(\S*(Error|Exception)\b.*|.*\bcheck failed: .*|run \S+: FAILED.*|"
    r".*(Database Error|Compilation Error|Runtime Error).*|error: .*|.*\bFAIL \d+ .*)$"
)


def error_lines(text: str, limit: int = 8) -> list[str]:
    """The lines of a failed run's output that say why: exceptions, dbt errors, failed checks,
    the run's verdict (each once, in order, cut at 300 characters)."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        if _ERROR_LINE.match(line):
            seen.setdefault(line.strip()[:300], None)
    lines = list(seen)
    return lines[:limit] + ([f"... {len(lines) - limit} more"] if len(lines) > limit else [])


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.killpg(proc.pid, signal.SIGKILL)


def _env(home: Path, url: str) -> dict[str, str]:
    """The environment of a command on `home` against the sandbox at `url` (as tests/support's
    settings_for points a home at one); the caller's own GOURMAND_* settings do not leak in."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("GOURMAND_") and k != "DAGSTER_HOME"
    }
    env.update(
        GOURMAND_HOME=str(home),
        GOURMAND_START_DATE=DAYS[0],
        GOURMAND_YELP_BASE_URL=f"{url}/v3",
        GOURMAND_CENSUS_BASE_URL=f"{url}/data",
        GOURMAND_STATES_URL=f"{url}/abbreviations.htm",
        GOURMAND_SOCRATA_BASE_URL=url,
        GOURMAND_SOCRATA_YEARS=",".join(YEARS),
        GOURMAND_HTTP_BACKOFF="0.01",
        GOURMAND_HTTP_MAX_DELAY="2",
        GOURMAND_HTTP_MAX_ATTEMPTS="4",
        # a retried extraction step waits a second, not 30 (nothing here fails on purpose)
        GOURMAND_STEP_RETRY_DELAY="1",
        PYTHONPATH=str(ROOT),
    )
    return env


@dataclass
class Figures:
    operations: int = 0  # every command started, the references' included
    reference_operations: int = 0
    kills: int = 0
    missed_kills: int = 0
    overlaps: int = 0
    changes: int = 0
    refreshes: int = 0
    failures: int = 0
    hangs: int = 0
    mismatches: int = 0
    sequences: int = 0
    comparisons: int = 0
    references_built: int = 0
    # every failure, hang and mismatch: what it was -> where it happened (each time)
    found: dict[str, list[str]] = field(default_factory=dict)


def combined(figures: Sequence[Figures]) -> Figures:
    """The figures of several lanes as one soak's: each count summed, every finding kept."""
    total = Figures()
    for f in figures:
        for name, value in dataclasses.asdict(f).items():
            if name == "found":
                for what, where in value.items():
                    total.found.setdefault(what, []).extend(where)
            else:
                setattr(total, name, getattr(total, name) + value)
    return total


def reached(figures: Figures, started: float, kills: int, overlaps: int, least: float) -> bool:
    """Whether the goal given (kills and overlapping pairs, after at least `least` minutes since
    `started`) is reached; no goal (both 0) is never reached."""
    if not (kills or overlaps):
        return False
    return (
        figures.kills >= kills
        and figures.overlaps >= overlaps
        and time.monotonic() - started >= least * 60
    )


# lanes start their homes' Postgres at the same moments: one at a time, so that two do not both
# take the port they both found free
_POSTGRES_START = threading.Lock()


class Soak:
    def __init__(self, work: Path, seed: int, op_timeout: float, lane: str = "") -> None:
        from extract.sandbox import SandboxConfig, SandboxServer

        self.lane = f"[{lane}] " if lane else ""
        self.work = work
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.rng = random.Random(seed)
        self.op_timeout = op_timeout
        self.bin = Path(sys.executable).parent
        self.sources = Sources()
        self.sandbox = SandboxServer(SandboxConfig(**SANDBOX_KNOBS, **self.sources.knobs())).start()
        self.home = work / "home"
        self.figures = Figures()
        self.started = time.monotonic()
        self.live: set[subprocess.Popen[bytes]] = set()
        self.homes_started: set[Path] = set()
        # per partition: the version of its source data now, and the one its last good run saw
        self.version = dict.fromkeys(PARTITIONS, 0)
        self.loaded: dict[Op, int] = {}
        self.pending: list[Op] = []  # run again next: killed, hung, or failed once
        self.unsettled: set[Op] = set()  # their last run did not end well: run at the end
        self.failed_in_row: dict[Op, int] = {}
        self.kill_streak = 0
        self.usual: dict[str, deque[float]] = {k: deque(maxlen=9) for k in USUAL_SECONDS}
        # per state of the sources: its reference's checksums, sequence and home (kept, its
        # Postgres stopped, to show how a home found different differs)
        self.references: dict[Sources, tuple[dict[str, str], int, Path]] = {}
        self.references_failed: set[Sources] = set()
        self.reference_homes = 0
        self.sequence: list[str] = []  # the steps of the current sequence, for a mismatch

    # -- output --

    def say(self, text: str) -> None:
        elapsed = int(time.monotonic() - self.started)
        print(f"{elapsed // 60:3d}:{elapsed % 60:02d} {self.lane}{text}", flush=True)

    def found(self, what: str, where: str) -> None:
        self.figures.found.setdefault(what, []).append(where)

    def why(self, outcome: Outcome, home: Path) -> tuple[list[str], str]:
        """The lines that say why a run failed (its error lines, and what each failed check
        of the run observed, from quality.check_results), and a short form of them."""
        text = outcome.log.read_text(errors="replace")
        lines = error_lines(text)
        checks: list[tuple[str, str]] = []
        run = re.search(r"^run (\S+): FAILED", text, re.MULTILINE)
        if run is not None:
            from extract.runtime.query import run_query

            try:
                _, rows = run_query(
                    "select check_name, observed from quality.check_results "
                    "where run_id = %s and not passed order by check_name",
                    settings=self.settings(home),
                    params=[run.group(1)],
                    internal=True,
                )
                checks = [(str(name), str(observed)) for name, observed in rows]
            except Exception:  # a diagnosis: whatever keeps it from the database, not a finding
                checks = []
        if checks:
            short = "checks failed: " + ", ".join(name for name, _ in checks)
        else:
            short = next((ln for ln in lines if not ln.startswith("run ")), "no error line")
        return lines + [f"check {name} observed: {seen}" for name, seen in checks], short

    # -- helpers of a home --

    def settings(self, home: Path) -> Any:
        from extract.settings import load_settings

        return load_settings(_env(home, self.sandbox.url))

    def start_postgres(self, home: Path) -> None:
        """The home's embedded Postgres, started here (not by a run the soak may kill)."""
        home.mkdir(parents=True, exist_ok=True)
        with _POSTGRES_START:
            subprocess.run(
                [str(self.bin / "gourmand"), "postgres"],
                env=_env(home, self.sandbox.url),
                cwd=ROOT,
                check=True,
                capture_output=True,
                timeout=120,
            )
        self.homes_started.add(home)

    def stop_postgres(self, home: Path) -> None:
        if home in self.homes_started:
            subprocess.run(
                [str(self.bin / "gourmand"), "postgres", "--stop"],
                env=_env(home, self.sandbox.url),
                cwd=ROOT,
                capture_output=True,
                timeout=120,
            )
            self.homes_started.discard(home)

    def usual_seconds(self, kind: str) -> float:
        measured = self.usual[kind]
        return statistics.median(measured) if measured else USUAL_SECONDS[kind]

    # -- operations --

    def run_ops(
        self, ops: Sequence[Op], home: Path, kill: tuple[int, float] | None = None
    ) -> list[Outcome]:
        """Start `ops` together on `home`; SIGKILL the process group of `kill[0]` at `kill[1]`
        seconds, and any over the timeout (a hang); their outcomes once all have ended."""
        env = _env(home, self.sandbox.url)
        procs: list[tuple[Op, subprocess.Popen[bytes], Path]] = []
        for op in ops:
            self.figures.operations += 1
            n = self.figures.operations
            log = self.logs / f"{n:05d}-{op.label.replace(' ', '-')}.log"
            with log.open("wb") as out:
                # its own session: a kill reaches every process of the run, and only those
                proc = subprocess.Popen(
                    op.command(self.bin),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=ROOT,
                    env=env,
                    start_new_session=True,
                )
            self.live.add(proc)
            procs.append((op, proc, log))
        started = time.monotonic()
        ended: dict[int, float] = {}
        killed: dict[int, str] = {}
        hung: set[int] = set()
        # bounded: every process is killed once the timeout passes, and then ends
        while len(ended) < len(procs):
            now = time.monotonic() - started
            for i, (_, proc, log) in enumerate(procs):
                if i in ended:
                    continue
                if proc.poll() is not None:
                    ended[i] = now
                elif kill is not None and kill[0] == i and now >= kill[1]:
                    _kill_group(proc)
                    proc.wait(timeout=60)
                    ended[i] = now
                    killed[i] = last_step(log.read_text(errors="replace"))
                elif now >= self.op_timeout:
                    _kill_group(proc)
                    proc.wait(timeout=60)
                    ended[i] = now
                    hung.add(i)
            time.sleep(0.1)
        outcomes = []
        for i, (op, proc, log) in enumerate(procs):
            self.live.discard(proc)
            text = log.read_text(errors="replace")
            if i in killed:
                outcome = Outcome(op, "killed", ended[i], log, where=killed[i])
            elif i in hung:
                outcome = Outcome(op, "hung", ended[i], log, where=last_step(text))
            else:
                status = "ok" if proc.returncode == 0 else "failed"
                outcome = Outcome(op, status, ended[i], log)
                if kill is not None and kill[0] == i:
                    outcome.missed_kill = kill[1]
            outcomes.append(outcome)
        return outcomes

    def note(self, outcome: Outcome, version: int | None, context: str) -> None:
        """Count an outcome on the soak home and keep what it leaves to do: a killed or hung
        run is run again next; a failed one too, once (the next run should repair it), then
        only at the end of the sequence."""
        op = outcome.op
        if outcome.status == "killed":
            self.figures.kills += 1
        if outcome.missed_kill is not None:
            self.figures.missed_kills += 1
        if outcome.status == "ok":
            if version is not None:
                self.loaded[op] = version
            self.pending = [p for p in self.pending if p != op]
            self.unsettled.discard(op)
            self.failed_in_row.pop(op, None)
            return
        self.unsettled.add(op)
        again = True
        if outcome.status in ("failed", "hung"):
            what = "hang" if outcome.status == "hung" else "failure"
            if outcome.status == "hung":
                self.figures.hangs += 1
            else:
                self.figures.failures += 1
                self.failed_in_row[op] = self.failed_in_row.get(op, 0) + 1
                again = self.failed_in_row[op] == 1
            lines, short = self.why(outcome, self.home)
            self.say(f"  {what.upper()} of {op.label} ({context}); log {outcome.log}")
            for line in lines:
                self.say(f"    {line}")
            self.found(f"{what}: {short}", f"{op.label} ({context}, {outcome.log.name})")
        if not again:
            self.pending = [p for p in self.pending if p != op]
        elif op not in self.pending:
            self.pending.append(op)

    def step(self, step: Step) -> None:
        self.sequence.append(step.label)
        if step.change is not None:
            for op in step.change.affected(self.sources):
                self.version[op] += 1
            self.sources = step.change
            self.sandbox.reconfigure(**self.sources.knobs())
            self.figures.changes += 1
        if step.kind == "overlap":
            self.figures.overlaps += 1
        if REFRESH in step.ops:
            self.figures.refreshes += 1
        kill = None
        if step.kill is not None:
            i, share = step.kill
            scale = 1.5 if len(step.ops) > 1 else 1.0  # two at once take longer
            kill = (i, share * scale * self.usual_seconds(step.ops[i].kind))
        versions = [self.version.get(op) for op in step.ops]
        first = self.figures.operations + 1
        outcomes = self.run_ops(step.ops, self.home, kill)
        last = self.figures.operations
        numbers = f"{first}" if first == last else f"{first}-{last}"
        self.say(f"#{numbers} {step.label}: " + " | ".join(o.describe() for o in outcomes))
        # the good outcomes first: a run of a partition killed (or failed) beside a good run
        # of the same partition is still run again, as the kill may have come after the end of
        # the good one
        ordered = sorted(zip(outcomes, versions, strict=True), key=lambda o: o[0].status != "ok")
        for outcome, version in ordered:
            if outcome.status == "ok" and len(step.ops) == 1:
                self.usual[outcome.op.kind].append(outcome.seconds)
            self.note(outcome, version, step.kind)
        if any(o.status == "killed" for o in outcomes):
            self.kill_streak += 1
        elif not self.pending:
            self.kill_streak = 0

    def converge(self) -> bool:
        """Run again whatever was killed, failed or hung, and every partition not loaded from
        the current source (in random order); False if something still fails."""
        for _ in range(CONVERGE_ROUNDS):
            stale = [op for op in PARTITIONS if self.loaded.get(op) != self.version[op]]
            self.rng.shuffle(stale)
            unsettled = sorted(self.unsettled - set(stale), key=lambda op: op.label)
            todo = list(dict.fromkeys([*self.pending, *unsettled, *stale]))
            if not todo:
                return True
            for op in todo:
                version = self.version.get(op)
                (outcome,) = self.run_ops([op], self.home)
                self.say(f"#{self.figures.operations} converge {op.label}: {outcome.describe()}")
                self.sequence.append(f"converge {op.label}")
                self.note(outcome, version, "converge")
        return not self.unsettled and all(
            self.loaded.get(op) == self.version[op] for op in PARTITIONS
        )

    def reference(self) -> tuple[dict[str, str], Path] | None:
        """The checksums of a home that ran every day in order, then every year in order,
        from empty, against the current sources (built once per state of the sources)."""
        known = self.references.get(self.sources)
        if known is not None:
            self.say(f"reference for {self.sources.label}: built in sequence {known[1]}, reused")
            return known[0], known[2]
        if self.sources in self.references_failed:
            self.say(f"reference for {self.sources.label}: failed before; no comparison")
            return None
        self.reference_homes += 1
        home = self.work / f"reference-{self.reference_homes}"
        self.say(f"reference for {self.sources.label}: building in {home.name}")
        self.start_postgres(home)
        try:
            for op in PARTITIONS:
                self.figures.reference_operations += 1
                (outcome,) = self.run_ops([op], home)
                self.say(f"#{self.figures.operations} reference {op.label}: {outcome.describe()}")
                if outcome.status != "ok":
                    self.figures.failures += 1
                    lines, short = self.why(outcome, home)
                    for line in lines:
                        self.say(f"    {line}")
                    self.found(f"failure: {short}", f"reference {op.label} ({outcome.log.name})")
                    self.references_failed.add(self.sources)
                    return None
            checksums = home_checksums(self.settings(home))
        finally:
            self.stop_postgres(home)
        self.figures.references_built += 1
        self.references[self.sources] = (checksums, self.figures.sequences, home)
        return checksums, home

    def close_sequence(self) -> None:
        self.say(f"sequence {self.figures.sequences} ends: converge, then compare")
        converged = self.converge()
        if not converged:
            stale = [op for op in PARTITIONS if self.loaded.get(op) != self.version[op]]
            left = sorted({*self.unsettled, *stale}, key=lambda op: op.label)
            self.say("  still failing: " + ", ".join(op.label for op in left) + "; compared so")
        built = self.reference()
        if built is None:
            return
        reference, reference_home = built
        soak = home_checksums(self.settings(self.home))
        self.figures.comparisons += 1
        found = differences(soak, reference)
        if not found:
            self.say(f"compare: {len(reference)} tables equal the reference")
            return
        self.figures.mismatches += len(found)
        self.say(
            f"MISMATCH: {len(found)} of {len(soak.keys() | reference.keys())} tables "
            f"differ after sequence {self.figures.sequences} ({self.sources.label})"
        )
        self.start_postgres(reference_home)
        for table, mine, theirs in found:
            self.say(f"  {table}: soak {mine} reference {theirs}")
            if ABSENT not in (mine, theirs):
                for line in explain(
                    fetch_table(self.settings(self.home), table),
                    fetch_table(self.settings(reference_home), table),
                ):
                    self.say(f"    {line}")
            self.found(
                f"mismatch: {table}",
                f"sequence {self.figures.sequences}: soak {mine} reference {theirs}",
            )
        self.stop_postgres(reference_home)
        self.say("  the sequence: " + "; ".join(self.sequence))
        # the home is kept for a look, and any next sequence starts in a fresh one: findings
        # after this one are then not echoes of it
        self.stop_postgres(self.home)
        aside = self.work / f"home-diverged-{self.figures.sequences}"
        self.home.rename(aside)
        self.say(f"  that home is kept at {aside} (reference: {reference_home})")
        self.loaded, self.pending, self.unsettled, self.failed_in_row = {}, [], set(), {}
        self.kill_streak = 0

    def run(self, minutes: float, steps: int, done: Callable[[], bool] = lambda: False) -> None:
        """Sequences until `minutes` have passed or `done()` (the goal, or the soak stopping)."""
        deadline = self.started + minutes * 60

        def over() -> bool:
            return time.monotonic() >= deadline or done()

        self.say(f"sandbox {self.sandbox.url}; home {self.home}; logs {self.logs}")
        while not over():
            self.start_postgres(self.home)  # the first home, or a fresh one after a mismatch
            self.figures.sequences += 1
            self.sequence = []
            self.say(f"sequence {self.figures.sequences} ({self.sources.label})")
            for _ in range(steps):
                if over():
                    break
                self.step(plan_step(self.rng, self.sources, self.pending, self.kill_streak))
            self.close_sequence()

    def close(self) -> None:
        for proc in list(self.live):
            _kill_group(proc)
        for home in list(self.homes_started):
            self.stop_postgres(home)
        self.sandbox.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES") or 60)
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=int(os.environ.get("SOAK_SEED") or random.SystemRandom().randrange(10**6)),
    )
    parser.add_argument("--steps", type=int, default=int(os.environ.get("SOAK_STEPS") or 30))
    parser.add_argument(
        "--op-timeout", type=float, default=float(os.environ.get("SOAK_OP_TIMEOUT") or 600)
    )
    parser.add_argument(
        "--until-kills", type=int, default=int(os.environ.get("SOAK_UNTIL_KILLS") or 0)
    )
    parser.add_argument(
        "--until-overlaps", type=int, default=int(os.environ.get("SOAK_UNTIL_OVERLAPS") or 0)
    )
    parser.add_argument(
        "--least-minutes", type=float, default=float(os.environ.get("SOAK_LEAST_MINUTES") or 0)
    )
    parser.add_argument("--keep", action="store_true", default=bool(os.environ.get("SOAK_KEEP")))
    parser.add_argument("--lanes", type=int, default=int(os.environ.get("SOAK_LANES") or 1))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gourmand-soak-"))
    print(
        f"soak: {args.minutes:g} minutes, seed {args.seed} (SOAK_SEED={args.seed} repeats "
        f"the plan), {args.steps} steps a sequence, work folder {work}",
        flush=True,
    )
    # a soak started in the background (nohup, `&`) inherits SIGINT ignored: SIGINT and SIGTERM
    # both end it the way Ctrl-C does (its runs killed, its Postgres and sandbox stopped)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # lanes: independent soaks (each its own seed, sandbox, home and references) at once, one
    # goal for their sum; on 2 cores one lane leaves a core mostly idle (a run is one Python
    # process at a time, the second of a pair waits on the `runs` lock)
    lanes = [
        Soak(work / f"lane-{i + 1}" if args.lanes > 1 else work, args.seed + i, args.op_timeout,
             lane=str(i + 1) if args.lanes > 1 else "")
        for i in range(args.lanes)
    ]  # fmt: skip
    started = time.monotonic()
    stop = threading.Event()
    errors: list[BaseException] = []

    def done() -> bool:
        figures = combined([soak.figures for soak in lanes])
        goal = (args.until_kills, args.until_overlaps, args.least_minutes)
        return stop.is_set() or reached(figures, started, *goal)

    def lane(soak: Soak) -> None:
        try:
            soak.run(args.minutes, args.steps, done)
        except BaseException as exc:  # noqa: BLE001  # reported by main, which stops the rest
            errors.append(exc)
            stop.set()

    interrupted = False
    threads = [threading.Thread(target=lane, args=(soak,), daemon=True) for soak in lanes]
    try:
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            for thread in threads:
                thread.join(0.5)
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
        lanes[0].say("interrupted: the last sequence is not compared")
    f = combined([soak.figures for soak in lanes])  # before closing: its kills are not the soak's
    for soak in lanes:
        soak.close()
    if errors:
        raise errors[0]
    minutes = (time.monotonic() - started) / 60
    if f.found:
        print("found (what, how many times, where):", flush=True)
        for what, where in f.found.items():
            more = f" and {len(where) - 3} more" if len(where) > 3 else ""
            print(f"  {what} x{len(where)}: {'; '.join(where[:3])}{more}", flush=True)
    print(
        f"soak: {f.operations} operations ({f.reference_operations} of them building "
        f"references), {f.kills} kills ({f.missed_kills} runs ended before "
        f"their kill), {f.overlaps} overlaps, {f.changes} source changes, {f.refreshes} full "
        f"refreshes, {f.sequences} sequences ({f.comparisons} compared, {f.references_built} "
        f"references built), {f.failures} failures, {f.mismatches} mismatches, {f.hangs} hangs, "
        f"{minutes:.1f} minutes, seed {args.seed}"
        + (
            f" (lanes {args.lanes}: seeds {args.seed}..{args.seed + args.lanes - 1})"
            if args.lanes > 1
            else ""
        ),
        flush=True,
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                **dataclasses.asdict(f),
                "minutes": minutes,
                "seed": args.seed,
                "lanes": [
                    {**dataclasses.asdict(soak.figures), "seed": args.seed + i}
                    for i, soak in enumerate(lanes)
                ],
            },
            indent=2,
        )
    )
    bad = bool(f.mismatches or f.hangs or f.failures or interrupted)
    if bad or args.keep:
        print(f"work folder kept: {work}", flush=True)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
