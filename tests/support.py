"""Helpers the fixtures and the module-scoped fixtures of the tests share."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# the checkout, and the shared folder the project is cloned beside
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
HR_SEED = SHARED / "data" / "hr_seed"
# the command line, as a user runs it
GOURMAND = str(Path(sys.executable).with_name("gourmand"))


def _with_database(dsn: str, database: str) -> str:
    head, _, _ = dsn.rpartition("/")
    return f"{head}/{database}"


# The read-only role the tests' servers share (a role belongs to the cluster, not a database):
# created once per session by `ensure_test_reader`, granted each database's schemas by
# `extract.runtime.reader` when a test reads, as a production server's owner does.
READER_PASSWORD = "gourmand-test-reader"


def reader_dsn(dsn: str) -> str:
    """`dsn` with the read-only role as its user: what GOURMAND_READER_DSN is in production."""
    from urllib.parse import urlsplit, urlunsplit

    from extract.runtime.reader import ROLE

    parts = urlsplit(dsn)
    where = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{ROLE}:{READER_PASSWORD}@{where}"))


def ensure_test_reader(dsn: str) -> None:
    """Create the read-only role on the tests' server (as a DBA runs `gourmand postgres
    --reader-sql` on a production one)."""
    import psycopg2
    from psycopg2 import sql

    from extract.runtime.reader import ROLE

    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_roles where rolname = %s", (ROLE,))
        if cur.fetchone() is None:
            cur.execute(
                sql.SQL("create role {} login password {} nosuperuser noinherit").format(
                    sql.Identifier(ROLE), sql.Literal(READER_PASSWORD)
                )
            )
        cur.execute(
            sql.SQL("alter role {} set default_transaction_read_only = on").format(
                sql.Identifier(ROLE)
            )
        )
    conn.close()


def without_durability(dsn: str) -> None:
    """The session's own embedded server, thrown away at the end, trades durability for speed
    as test databases do: no fsync, no waiting for the WAL at commit, no full-page images
    (reloadable settings, written to its postgresql.auto.conf), and cheap logins. The suite
    commits thousands of small transactions (dlt loads, every dbt model); none of them need
    survive a crash. Not done to a server given by GOURMAND_TEST_PG_DSN: that one is not ours
    to change."""
    from urllib.parse import unquote, urlsplit

    import psycopg2
    from psycopg2 import sql

    from extract.runtime.reader import ROLE

    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                cur.execute(f"alter system set {setting} = off")
            cur.execute("select pg_reload_conf()")
            # Logins: dbt opens a connection for every model and test it runs, thousands in a
            # session; a local connect took 4.5 ms with SCRAM's 4,096 key-derivation rounds
            # (on each side) and 2.0 ms with one (measured). Same passwords, hashed again.
            cur.execute("set scram_iterations = 1")
            user = urlsplit(dsn)
            cur.execute(
                sql.SQL("alter role {} password {}").format(
                    sql.Identifier(unquote(user.username or "")),
                    sql.Literal(unquote(user.password or "")),
                )
            )
            cur.execute(
                sql.SQL("alter role {} password {}").format(
                    sql.Identifier(ROLE), sql.Literal(READER_PASSWORD)
                )
            )
    finally:
        conn.close()


@contextmanager
def new_database(base_dsn: str) -> Iterator[str]:
    """A new, empty database on the session's server, dropped afterwards."""
    import psycopg2

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(_with_database(base_dsn, "postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    try:
        yield _with_database(base_dsn, name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def home_env(home: Path, dsn: str) -> dict[str, str]:
    """The environment of `gourmand` commands against `home` and the database `dsn`, with a
    small sandbox (3 counties of 20 businesses, a malformed record every 13)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOURMAND_", "DAGSTER_"))}
    env.update({
        "GOURMAND_HOME": str(home),
        "GOURMAND_OLTP_DSN": dsn,
        "GOURMAND_READER_DSN": reader_dsn(dsn),
        "GOURMAND_SANDBOX_COUNTIES": "3",
        "GOURMAND_SANDBOX_BUSINESSES_PER_COUNTY": "20",
        "GOURMAND_SANDBOX_MALFORMED_EVERY": "13",
    })  # fmt: skip
    return env


def gourmand(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([GOURMAND, *args], env=env, capture_output=True, text=True, timeout=600)


def settings_for(home: Path, dsn: str, server: Any = None, **env: str) -> Any:
    """Settings with their own home and database, pointed at `server` (a sandbox) if given;
    keyword overrides are environment variables."""
    from extract.settings import load_settings

    base = {
        "GOURMAND_HOME": str(home),
        "GOURMAND_OLTP_DSN": dsn,
        "GOURMAND_READER_DSN": reader_dsn(dsn),
        "GOURMAND_HTTP_BACKOFF": "0.01",
        "GOURMAND_HTTP_MAX_DELAY": "2",
        "GOURMAND_HTTP_MAX_ATTEMPTS": "4",
        "PATH": os.environ["PATH"],
    }
    if server is not None:
        base.update(
            GOURMAND_YELP_BASE_URL=f"{server.url}/v3",
            GOURMAND_CENSUS_BASE_URL=f"{server.url}/data",
            GOURMAND_STATES_URL=f"{server.url}/abbreviations.htm",
        )
    base.update(env)
    return load_settings(base)


def pg_rows(settings: Any, sql: str, *params: Any) -> list[tuple]:
    """All rows of one read-only query on the settings' OLTP Postgres."""
    from extract.runtime.postgres import connect

    conn = connect(settings, read_only=True)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())
    finally:
        conn.close()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# no network: a proxy that goes nowhere for Chromium's own traffic (loopback included)
OFFLINE_CHROMIUM_ARGS = [
    *CHROMIUM_ARGS, "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
]  # fmt: skip


def file_only_route(outside: list[str]) -> Any:
    """A Playwright route handler that lets the page's own files through and aborts every
    other request, recording its URL in `outside`."""

    def route(r: Any) -> None:
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    return route


def chromium_or_skip() -> Path:
    """Debian's chromium, which `make test` installs when it can; a loud skip otherwise, and a
    failure in CI."""
    import pytest

    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() in ("true", "1"):
            # in CI a skipped browser test is a test that did not run: fail it
            pytest.fail(
                f"{CHROMIUM} is missing under CI=true: `make test` installs it with "
                "`.ci/ensure-chromium` (apt-get install chromium, as root)"
            )
        pytest.skip(
            "!!! BROWSER TEST SKIPPED: /usr/bin/chromium is missing and `make test` could not "
            "install Debian's chromium (apt-get install chromium) on this machine !!!"
        )
    return CHROMIUM


# The Yelp chain, layer by layer: what the replay and crash tests compare.
CHAIN_OLTP = (
    "country", "state", "county", "city", "payment_level", "business", "business_version",
    "business_category", "business_category_bridge", "transaction_type",
    "business_transaction_bridge", "business_holding", "review", "user", "event",
    "event_category", "county_growth",
)  # fmt: skip
CHAIN_WAREHOUSE = (
    "dwh.dim_business", "dwh.fct_business_holding", "dwh.bridge_business_category",
    "dwh.bridge_business_transaction", "dwh.dim_business_category", "dwh.dim_transaction_type",
    "dwh.dim_user", "dwh.dim_review", "dwh.dim_event", "dwh.dim_location", "dwh.dim_county",
    "dwh.fct_county_growth", "marts.businesses_per_100k_by_county",
    "marts.rating_distribution_by_price", "marts.reviews_by_payment_level",
    "marts.top_review_count_changes",
)  # fmt: skip
# when a row was processed, not what it says: differs between two homes with the same data
PROCESSING_TIME = ("last_edited_at", "version_edited_at", "_dlt_load_id", "_dlt_id")


def _value(value: Any) -> Any:
    # a float aggregate (an average) may differ in its last bits with the order the engine summed
    # in: equal to 12 significant digits is equal
    return float(f"{value:.12g}") if isinstance(value, float) else value


def _digest(columns: list[str], rows: list[tuple], keep: list[int]) -> str:
    import hashlib

    lines = sorted(repr(tuple(_value(row[i]) for i in keep)) for row in rows)
    return hashlib.md5("\n".join([repr([columns[i] for i in keep]), *lines]).encode()).hexdigest()


def chain_checksums(settings: Any, *, with_edit_times: bool = False) -> dict[str, str]:
    """A digest of every row of every table of the Yelp chain: the OLTP model, the lake as the
    warehouse reads it (the staging views), the warehouse and the marts. Processing-time columns
    are left out unless `with_edit_times` (two homes fed the same data differ only there)."""
    staged = [f"dwh_staging.stg_lake__{t}" for t in CHAIN_OLTP]
    return table_checksums(
        settings,
        [f'oltp."{table}"' for table in CHAIN_OLTP],
        [*staged, *CHAIN_WAREHOUSE],
        with_edit_times=with_edit_times,
    )


def table_checksums(
    settings: Any,
    postgres: Sequence[str],
    warehouse: Sequence[str],
    *,
    with_edit_times: bool = False,
) -> dict[str, str]:
    """A digest of every row of each table named, in Postgres and in the warehouse, without the
    processing-time columns unless `with_edit_times`."""
    from extract.runtime.query import run_query

    def keep(columns: list[str]) -> list[int]:
        return [i for i, c in enumerate(columns) if with_edit_times or c not in PROCESSING_TIME]

    out: dict[str, str] = {}
    for name in postgres:
        columns, rows = run_query(f"select * from {name}", settings=settings, internal=True)
        out[name.replace('"', "")] = _digest(columns, rows, keep(columns))
    for name in warehouse:
        # the staging views read the lake's files: the pipeline's door, not the analysts'
        columns, rows = run_query(
            f"select * from {name}", target="warehouse", settings=settings, internal=True,
            build="working",
        )  # fmt: skip
        out[name] = _digest(columns, rows, keep(columns))
    return out


# what the LA 311 and HR chains build, left out of the Yelp chain's runs
OTHER_CHAINS_OLTP = ("source:raw_socrata+", "source:raw_hr+")
OTHER_CHAINS_DWH = tuple(
    f"source:lake.{t}+"
    for t in ("service_request", "agency", "council", "request_type", "request_source",
              "hr_department", "hr_job", "hr_employee")
)  # fmt: skip


def run_chain_day(
    settings: Any, day: Any, dbt_work: Path, on_step: Any = lambda _step: None
) -> None:
    """One survey day through the whole Yelp chain, the way the daily job runs it: extract,
    dbt_oltp, the lake export, dbt_dwh (`on_step` hears each step's name as it starts)."""
    from extract.lake.export import export_oltp
    from extract.pipelines import run_source
    from extract.runtime.dbt_invoke import run_dbt

    if not (settings.home / ".chain-started").exists():
        run_source("states", settings=settings)
        run_source("census", settings=settings)
        (settings.home / ".chain-started").touch()
    on_step("extract")
    run_source("yelp", day=day, settings=settings)
    on_step("oltp")
    # the Yelp chain's models only (not 311's or HR's), without the data tests: the tests here
    # compare the data themselves
    # a target folder per project: dbt keeps one project's parse state in it, and the other
    # project's would make every call parse from scratch
    oltp = run_dbt("dbt_oltp", ["run", "--exclude", *OTHER_CHAINS_OLTP], settings,
                   target_path=dbt_work / "dbt_oltp")  # fmt: skip
    assert oltp.returncode == 0, f"dbt_oltp on {day}:\n{oltp.stdout[-3000:]}"
    on_step("lake")
    export_oltp(settings)
    on_step("warehouse")
    dwh = run_dbt("dbt_dwh", ["run", "--exclude", *OTHER_CHAINS_DWH], settings,
                  target_path=dbt_work / "dbt_dwh")  # fmt: skip
    assert dwh.returncode == 0, f"dbt_dwh on {day}:\n{dwh.stdout[-3000:]}"


CHILD = """
import sys
from datetime import date
from pathlib import Path
from extract.runtime.collector import tune_collector
from tests.support import run_chain_day, settings_for

tune_collector()

home, dsn, url, day, work = sys.argv[1:6]
server = type("Server", (), {"url": url})()
settings = settings_for(Path(home), dsn, server)
run_chain_day(settings, date.fromisoformat(day), Path(work),
              lambda step: print("STEP", step, flush=True))
print("DONE", flush=True)
"""


def run_chain_day_killed(settings: Any, day: Any, dbt_work: Path, step: str, after: float) -> str:
    """Run one chain day in a child process and kill it (SIGKILL, its whole process group) when
    it has been in `step` for `after` seconds; returns how the child ended ("killed in <step>",
    or "finished" if it was faster)."""
    import signal
    import subprocess
    import sys
    import threading

    url = settings.yelp_base_url.removesuffix("/v3")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(settings.home), settings.oltp_dsn, url,
         day.isoformat(), str(dbt_work)],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
        cwd=settings.project_root, env={**os.environ, "PYTHONPATH": str(settings.project_root)},
    )  # fmt: skip
    assert child.stdout is not None
    timer: threading.Timer | None = None
    for line in child.stdout:
        if line.strip() == f"STEP {step}":
            timer = threading.Timer(after, lambda: os.killpg(child.pid, signal.SIGKILL))
            timer.start()
        if line.strip() == "DONE":
            break
    child.wait(timeout=600)
    if timer is not None:
        timer.cancel()
    return f"killed in {step}" if child.returncode == -signal.SIGKILL else "finished"


def make_hr_marts(path: Path, hires: list[tuple], above: list[tuple]) -> Path:
    """A DuckDB warehouse holding just the two HR marts, as dbt_dwh builds them: `hires` rows of
    (year, department, job, q1, q2, q3, q4), `above` rows of (year, department_id, department,
    hired). The HR report's tests draw from it."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.hr_hires_by_quarter (year INTEGER, department VARCHAR, "
            "job VARCHAR, q1 BIGINT, q2 BIGINT, q3 BIGINT, q4 BIGINT)"
        )
        con.execute(
            "CREATE TABLE marts.hr_departments_above_mean (year INTEGER, department_id INTEGER, "
            "department VARCHAR, hired BIGINT)"
        )
        if hires:
            con.executemany("INSERT INTO marts.hr_hires_by_quarter VALUES (?,?,?,?,?,?,?)", hires)
        if above:
            con.executemany("INSERT INTO marts.hr_departments_above_mean VALUES (?,?,?,?)", above)
    finally:
        con.close()
    return path


def free_port() -> int:
    """A port free on 127.0.0.1 now (the servers the tests start bind it)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fuzz_api(
    url: str, token: str, cwd: Path, *, examples: int, seed: int, options: Sequence[str] = ()
) -> tuple[Any, int]:
    """Schemathesis' CLI (not its pytest plugin, which pytest 9 breaks) over a live API's own
    OpenAPI, every check on, a fixed seed, deterministic: (the finished run, how many test cases
    it generated). The suite's fuzz tests and `make fuzz` differ in `examples` only."""
    import re
    import subprocess
    import sys

    cli = Path(sys.executable).with_name("schemathesis")
    run = subprocess.run(
        [str(cli), "run", f"{url}/openapi.json", "--checks", "all", *options,
         "--header", f"Authorization: Bearer {token}", "--max-examples", str(examples),
         "--seed", str(seed), "--generation-deterministic", "--no-color"],
        capture_output=True, text=True, timeout=3600, cwd=cwd,
    )  # fmt: skip
    found = re.search(r"(\d+) generated", run.stdout)
    return run, int(found.group(1)) if found else 0
