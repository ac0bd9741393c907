"""Running one of the dbt projects with the project's settings, for whatever is not Dagster.

`run_dbt()` is for whatever is not Dagster and needs a dbt invocation and its run results (the
tests and the benchmarks), so they reach the same database the same way an analyst's
`dbt build --profiles-dir ../profiles` does: through the GOURMAND_PG_* variables the shared
profiles read. `DbtThread` runs dbt for it and for Dagster's dbt assets
(dagster_project/lib/dbt_projects.py).

dbt runs in this process through its programmatic runner (dbtRunner): a subprocess pays dbt's
import and start-up, 4-5 s here, on every call; in process, a call after the first costs about
a second more than dbt's own work. The profile reads its settings from the environment, so the
settings' variables are set for the duration of the call (one call at a time: the environment
and dbt's adapters are the process's).
"""

from __future__ import annotations

import ctypes
import json
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extract.runtime.postgres import postgres_environment
from extract.settings import Settings, environment

_ONE_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class DbtRun:
    returncode: int
    stdout: str
    seconds: float
    run_results: dict[str, Any]

    def node_seconds(self, resource_type: str = "model") -> float:
        """Seconds spent executing nodes of one type: the run without dbt's start-up."""
        return sum(
            r["execution_time"]
            for r in self.run_results.get("results", [])
            if r["unique_id"].startswith(f"{resource_type}.")
        )


def dbt_environment(settings: Settings) -> dict[str, str]:
    """The variables profiles/profiles.yml and dbt_dwh's sources read: Postgres, the warehouse,
    the lake (secrets included: they go to dbt's environment for the call, never to a log)."""
    env = postgres_environment(settings)
    env.update(
        GOURMAND_WAREHOUSE=settings.warehouse,
        GOURMAND_WAREHOUSE_PATH=str(settings.warehouse_path),
        GOURMAND_DUCKDB_MEMORY_LIMIT=settings.duckdb_memory_limit,
        GOURMAND_LAKE_URL=settings.lake_url.rstrip("/"),
        GOURMAND_LAKE_REGION=settings.lake_region,
    )
    if settings.lake_endpoint_url:
        env["GOURMAND_LAKE_ENDPOINT_URL"] = settings.lake_endpoint_url
    if settings.lake_key_id:
        env["GOURMAND_LAKE_KEY_ID"] = settings.lake_key_id
        env["GOURMAND_LAKE_SECRET"] = settings.lake_secret
    env.update(bigquery_environment(settings))
    return env


def bigquery_environment(settings: Settings) -> dict[str, str]:
    """profiles.yml's BigQuery output: the project, and dbt-bigquery's method for the
    credentials the settings name (the same the loader's client uses)."""
    env = {"GOURMAND_BQ_PROJECT": settings.bq_project, "GOURMAND_BQ_LOCATION": settings.bq_location}
    if settings.bq_endpoint:
        # a local BigQuery API: `oauth-secrets` with any token is the one method that calls
        # nothing of Google's before it reaches the endpoint
        env.update(
            GOURMAND_BQ_METHOD="oauth-secrets",
            GOURMAND_BQ_TOKEN="local",
            GOURMAND_BQ_ENDPOINT=settings.bq_endpoint,
        )
    elif settings.bq_keyfile:
        env.update(GOURMAND_BQ_METHOD="service-account", GOURMAND_BQ_KEYFILE=settings.bq_keyfile)
    else:
        env["GOURMAND_BQ_METHOD"] = "oauth"  # application default credentials
    return env


def _close_duckdb() -> None:
    """dbt-duckdb keeps its database open in a class attribute for the life of the process (a
    CLI process ends, so it never needs to close it). In process, that handle would hold the
    warehouse file's write lock after the call, and clash with any other connection to the
    file; there is no public close, so the environment it caches is closed here."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # not installed: nothing was opened
        return
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


# dbt commands that write the project's tables
WRITING_COMMANDS = frozenset({"run", "build", "seed", "snapshot"})
# dbt commands whose result is a run's results (run_results.json)
RESULT_COMMANDS = WRITING_COMMANDS | {"test"}


def _command(args: Sequence[str]) -> str:
    """The dbt command of a command line (`build` of `build --select x`)."""
    return next((a for a in args if not a.startswith("-")), "")


def dbt_write_lock(
    settings: Settings, project: str, args: Sequence[str], say: Callable[[str], None] | None = None
) -> AbstractContextManager[None]:
    """The home's step lock of what `dbt <args>` in `project` writes (the OLTP model or the
    warehouse); none for a command that only reads (parse, compile, test, ls)."""
    from extract.runtime.locks import OLTP, WAREHOUSE, home_lock

    command = _command(args)
    if command not in WRITING_COMMANDS:
        return nullcontext()
    name = OLTP if Path(project).name == "dbt_oltp" else WAREHOUSE
    return home_lock(settings, name, f"dbt {command} in {Path(project).name}", say)


def run_dbt(
    project: str, args: list[str], settings: Settings, *, target_path: Path | None = None
) -> DbtRun:
    """`dbt <args>` in `project` (dbt_oltp or dbt_dwh); target/logs go to `target_path` if given
    (so runs against different homes keep their own partial-parse state). dbt runs on a thread
    of its own (DbtThread), as Dagster's builds do; Ctrl-C while it runs interrupts it."""
    from dbt.artifacts.schemas.run import RunExecutionResult

    project_dir = settings.project_root / project
    target = (target_path / "target") if target_path is not None else project_dir / "target"
    logs = (target_path / "logs") if target_path is not None else project_dir / "logs"
    argv = ["dbt", *args, "--project-dir", str(project_dir),
            "--profiles-dir", str(settings.project_root / "profiles"),
            "--target-path", str(target), "--log-path", str(logs)]  # fmt: skip
    # a target of its own: no manifest.json (dbt writes the whole manifest twice per call, about
    # a second of a dbt_dwh build), the run results written from the call's result
    own_target = target_path is not None and _command(args) in RESULT_COMMANDS
    if own_target:
        argv.append("--no-write-json")
    results_file = target / "run_results.json"
    results_file.unlink(missing_ok=True)  # a crashed invocation must not report the last one's
    started = time.perf_counter()
    with dbt_write_lock(settings, project, args):
        dbt = DbtThread(argv, {**os.environ, **dbt_environment(settings)})
        try:
            # what dbt would print: the INFO-level lines and up
            lines = [str(record["info"]["msg"]) for record in dbt.events()]
            returncode = dbt.wait()
        except BaseException:
            dbt.send_signal(signal.SIGINT)
            dbt.wait()
            raise
    result = dbt.result
    if result is not None:
        if own_target and isinstance(result.result, RunExecutionResult):
            result.result.write(str(results_file))
        if result.exception is not None:
            lines.append(f"{type(result.exception).__name__}: {result.exception}")
    seconds = time.perf_counter() - started
    run_results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return DbtRun(returncode if returncode is not None else 2, "\n".join(lines), seconds,
                  run_results)  # fmt: skip


def _interrupt(thread: threading.Thread) -> None:
    """Interrupt dbt's thread as Ctrl-C would: a KeyboardInterrupt raised in it (dbt then
    cancels its open queries). There is no other way to stop a thread."""
    if thread.ident is not None and thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt)
        )


def file_log_level(env: Mapping[str, str]) -> str:
    """The level of dbt.log: info, or what DBT_LOG_LEVEL_FILE asks for. dbt's own default,
    debug (every statement's SQL), was 7% of a daily run's CPU in a py-spy profile."""
    return env.get("DBT_LOG_LEVEL_FILE") or "info"


# events dbt's CLI prints at its default log level: what dagster-dbt parses from its stdout
_PRINTED_LEVELS = frozenset({"info", "warn", "error"})


class DbtThread:
    """`dbt <argv>` run by dbtRunner in a thread of this process, read like the subprocess
    dagster-dbt would have started: `args`, `wait()`, `returncode`, `send_signal()`, and
    `events()`, the JSON log records dbt's CLI would have printed with `--log-format json`.

    Why a thread: the events stream out while dbt works (the progress display counts models as
    they finish), and the caller's thread keeps serving Dagster. And a short stack: every dbt
    adapter made (several per call) runs inspect.stack() once per behaviour flag (dbt_common's
    BehaviorFlagRendered), which reads the source file of every frame on the stack, and for a
    frame without one (a `<string>`, such as the exec() at the bottom of a pytest-xdist worker)
    scans all of sys.modules: called on a test's deep stack, that was 13% of the test suite's
    CPU (py-spy, 81 s of 645 s in the two workers)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.args = args  # the command line as dagster-dbt built it (its log names it)
        self.returncode: int | None = None
        # dbt's own result (dbtRunnerResult) once it is done, if dbt got as far as making one
        self.result: Any = None
        self._read = False
        self._records: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._invoke, args=(args[1:], env), daemon=True)
        self._thread.start()

    def _invoke(self, argv: list[str], env: dict[str, str]) -> None:
        from dbt.cli.main import dbtRunner
        from dbt_common.events.functions import msg_to_dict

        def forward(event: Any) -> None:
            if event.info.level in _PRINTED_LEVELS:
                self._records.put(msg_to_dict(event))

        returncode = 2
        try:
            # the CLI's JSON lines go to our callback instead of stdout; dbt.log in dbt's own
            # text format, not the JSON that dagster-dbt's `--log-format json` would make of it
            # too (a JSON document per line was 3.5% of a daily run's CPU, py-spy)
            quiet = {"DBT_LOG_LEVEL": "none", "DBT_LOG_LEVEL_FILE": file_log_level(env),
                     "DBT_LOG_FORMAT_FILE": "debug"}  # fmt: skip
            with _ONE_AT_A_TIME, environment({**env, **quiet}):
                try:
                    result = self.result = dbtRunner(callbacks=[forward]).invoke(argv)
                    # the CLI's exit codes: 1 for failed nodes, 2 for dbt's own error
                    returncode = 0 if result.success else 1 if result.exception is None else 2
                finally:
                    _close_duckdb()
        except BaseException as exc:  # noqa: BLE001  # reported as the CLI's crash would be
            self._records.put(_error_record(f"{type(exc).__name__}: {exc}"))
        finally:
            self.returncode = returncode
            self._records.put(None)

    def events(self) -> Iterator[dict[str, Any]]:
        """dbt's log records as they come, until dbt is done; once read, like a closed pipe,
        nothing more."""
        while not self._read and (record := self._records.get()) is not None:
            yield record
        self._read = True

    def wait(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        return self.returncode

    def send_signal(self, _signal: int) -> None:
        """Interrupt dbt as Ctrl-C would (see _interrupt)."""
        _interrupt(self._thread)


def _error_record(message: str) -> dict[str, Any]:
    """A log record in dbt's JSON shape, for an error dbt did not log itself."""
    return {"info": {"name": "MainEncounteredError", "level": "error", "msg": message},
            "data": {}}  # fmt: skip
