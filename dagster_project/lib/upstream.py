"""Where Gourmand reaches below the public API of Dagster and dagster-dbt, all in one place.

Also the name of one type Dagster does not export (AssetJob). Each piece says what it relies on
in the pinned versions (pyproject.toml), which public API was checked first and why it does not
do, and the upstream issue; each has a test in tests/unit/dagster/test_upstream.py that fails
when the behaviour it relies on changes (the signal to re-check the piece, and to drop it if
upstream fixed what it works around). No other module imports from `dagster._` (*checked*:
tests/unit/test_layout.py).

1. dbt in the Dagster step's process (InProcessDbtCliInvocation, run_dbt_in_process). Checked:
   DbtCliResource.cli has no parameter for how dbt is started; it calls DbtCliInvocation.run,
   which starts `dbt` as a subprocess (4-5 s of start-up per build here). Upstream: dagster#15258
   ("integrating the dbt resource implementation with the dbt python API"), open.
2. LeanDbtCliResource's two overrides of DbtCliResource's private methods: `_cli_version` runs
   `dbt --version` in a subprocess (~4 s) to learn the version of the dbt-core installed here;
   `_initialize_dbt_core_adapter` loads dbt's profile, project and macros in the Dagster process
   (~5 s) for adapter-based metadata (dagster#21542, row counts; dagster#21979, column
   metadata), which this project does not use (it counts rows itself:
   dagster_project/lib/dbt_metadata.py). Checked: no public switch turns either off.
3. patch_slot_wait, on InstanceConcurrencyContext: `interval_to_next_pending_claim_check`
   returns min([0, ...]), never more than 0, so a step waiting for a pool slot in the in-process
   executor never sleeps and spins a core (~95%, measured); and a slot held by a run killed with
   kill -9 is never freed. Upstream: dagster#20367 ("fix pending claim check sleep intervals"),
   closed unmerged; the dead holder is the liveness Dagster's run monitoring cannot see for
   in-process runs (dagster_project/lib/runs.py). Checked: concurrency config has no claim
   interval setting.
4. PooledSqliteEventLogStorage, a subclass of SqliteEventLogStorage: Dagster's SQLite event log
   opens an engine and a connection per statement (fork safety); kept per process and thread
   here, ~3x less time per event. Checked: the storage's config takes only base_dir; no issue
   upstream (SQLite is documented as the storage for local use, where this cost is accepted).
"""

from __future__ import annotations

import logging
import os
import signal
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from importlib.metadata import version as package_version
from typing import Any

import dagster_dbt.core.resource
from dagster import DagsterExecutionInterruptedError, get_dagster_logger
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from packaging import version

from dagster_project.lib.runs import HOLDER_CHECK_SECONDS, _reap_holders, describe_wait
from extract.runtime.dbt_invoke import DbtThread

logger = get_dagster_logger()

# --- 0. a type Dagster does not export ------------------------------------------------------

# what define_asset_job returns (jobs built by a function are annotated with it); the public
# API has no name for it
AssetJob = UnresolvedAssetJobDefinition

# --- 1. dbt in process ---------------------------------------------------------------------

# the environment of the dbt invocation being started (its connections, from the settings of
# the step): given per invocation, never written to this process's os.environ
_INVOCATION_ENV: ContextVar[dict[str, str] | None] = ContextVar("gourmand_dbt_env", default=None)


@contextmanager
def invocation_environment(env: dict[str, str]) -> Iterator[None]:
    """`env` on top of os.environ for the dbt invocations started in the block."""
    token = _INVOCATION_ENV.set(env)
    try:
        yield
    finally:
        _INVOCATION_ENV.reset(token)


class InProcessDbtCliInvocation(DbtCliInvocation):
    """dagster-dbt's invocation of the dbt CLI, with dbt run in this process: the same command
    line, environment, JSON events, errors and exit code, without a `dbt` process to start.

    dagster-dbt 0.29 has no hook for how dbt is started (DbtCliResource.cli calls
    DbtCliInvocation.run, which starts a subprocess), so the resource module's name for the
    class is pointed at this one below; the pin in pyproject.toml keeps the two in step, and
    tests/integration/runtime/test_dbt_in_process.py checks that a build runs here."""

    @classmethod
    def run(  # type: ignore[override]
        cls,
        args: Sequence[str],
        env: dict[str, str],
        dbt_project: DbtProject | None = None,
        **fields: Any,
    ) -> DbtCliInvocation:
        # dagster-dbt's own run also copies the checkout's partial-parse file into the target
        # path: HomeDbtCliResource.build puts the home's (or the checkout's) there
        env = {**env, **(_INVOCATION_ENV.get() or {})}
        invocation = cls(process=DbtThread(list(args), env), project=dbt_project, **fields)  # type: ignore[arg-type]
        logger.info(f"Running dbt command in process: `{invocation.dbt_command}`.")
        return invocation

    def _stream_stdout(self) -> Iterator[str | dict[str, Any]]:
        process: DbtThread = self.process  # type: ignore[assignment]
        try:
            for record in process.events():
                if record["info"]["level"] == "error":
                    self._error_messages.append(record["info"]["msg"])
                yield record
        except DagsterExecutionInterruptedError:
            # as dagster-dbt does for its subprocess: interrupt dbt, give it time to cancel
            process.send_signal(signal.SIGINT)
            process.wait(timeout=self.termination_timeout_seconds)
            raise


def run_dbt_in_process() -> None:
    """Point dagster-dbt's resource module at the in-process invocation (done when a resource is
    made, not at import: importing this module changes nothing)."""
    dagster_dbt.core.resource.DbtCliInvocation = InProcessDbtCliInvocation  # type: ignore[misc]


# --- 2. the two costs of DbtCliResource this project does not need ---------------------------


class LeanDbtCliResource(DbtCliResource):
    """dagster-dbt's CLI resource without `dbt --version` in a subprocess and without the
    in-process adapter (see the module's docstring, item 2)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(package_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None


# --- 3. waiting for a pool slot --------------------------------------------------------------


def patch_slot_wait() -> None:
    """Make a step that waits for a pool slot wait well: asleep, saying what it waits for, and
    taking the slot of a holder whose process is gone.

    Dagster 1.13's InstanceConcurrencyContext.interval_to_next_pending_claim_check returns
    min([0, ...]), never more than 0, so the in-process executor's sleep_til_ready never sleeps
    and a run blocked on a pool spins a core at ~95% (measured). Here it is the intended value,
    the time until the next claim attempt is due. And a claim that fails checks, at most every
    few seconds, whether the holders still live, so a run killed while another waits does not
    block it for ever.
    """
    import time

    from dagster._core.execution.plan.instance_concurrency_context import (
        InstanceConcurrencyContext,
    )

    if getattr(InstanceConcurrencyContext, "_gourmand_patched", False):
        return
    log = logging.getLogger("gourmand.runs")
    original_claim = InstanceConcurrencyContext.claim

    def interval_to_next_pending_claim_check(self: Any) -> float:
        if not self._pending_claims or not self._pending_timeouts:
            return 0.0
        now = time.time()
        return max(0.0, min(ready_at - now for ready_at in self._pending_timeouts.values()))

    def claim(self: Any, concurrency_key: str, step_key: str, step_priority: int = 0) -> bool:
        if original_claim(self, concurrency_key, step_key, step_priority):
            return True
        now = time.time()
        checks = getattr(self, "_gourmand_checks", None)
        if checks is None:
            checks = self._gourmand_checks = {}
        if now < checks.get(step_key, 0.0):
            return False
        first = step_key not in checks
        checks[step_key] = now + HOLDER_CHECK_SECONDS
        live = _reap_holders(self._instance, concurrency_key)
        if not live:  # the holder was dead: its slot is free now, claim it at once
            self._pending_timeouts[step_key] = 0.0
            return original_claim(self, concurrency_key, step_key, step_priority)
        if first:
            log.warning("step %s is %s", step_key, describe_wait(concurrency_key, live))
        return False

    # kept for tests/unit/dagster/test_upstream.py, which checks the upstream bug is still there
    InstanceConcurrencyContext._gourmand_upstream_interval = (  # type: ignore[attr-defined]
        InstanceConcurrencyContext.interval_to_next_pending_claim_check
    )
    InstanceConcurrencyContext.interval_to_next_pending_claim_check = (  # type: ignore[method-assign]
        interval_to_next_pending_claim_check
    )
    InstanceConcurrencyContext.claim = claim  # type: ignore[method-assign]
    InstanceConcurrencyContext._gourmand_patched = True  # type: ignore[attr-defined]


# --- 4. the SQLite event log with its connections kept -------------------------------------
#
# Dagster's SqliteEventLogStorage opens a new SQLAlchemy engine and a new SQLite connection for
# every statement it runs, and closes both afterwards (fork safety in its multi-process setups).
# Storing one event costs about 28 ms of CPU on this project's 2-core machines that way, mostly
# creating the engine, compiling the same INSERT again and closing the connection; a demo run
# writes about 1,800 events (every dbt test is an asset check: planned, then evaluated), which
# came to a quarter of the demo's time. The same events with the engine and one connection per
# thread kept for the process: about 9.6 ms each (`python -m bench.dagster_events` measures both).
#
# Safety kept: engines are per process id (a forked child never uses its parent's connections),
# one connection per thread (SQLite's own rule), at most ENGINES_KEPT run shards open at once (a
# long-lived webserver reads many runs), and SQLite's file locks still serialize writers across
# processes: an open connection outside a transaction holds no lock. Configured in the home's
# dagster.yaml (dagster_project/lib/home.py), so the UI, the daemon and the runs all use it.
#
# Its `has_table` too creates an engine and a connection per call, and the storage asks it for
# every asset check event and every tagged materialization (`supports_asset_checks`): ~0.8 s of
# CPU in a first daily run (py-spy). A table that exists is remembered for the process: tables
# are created when a shard is initialized and dropped only by a wipe, which forgets them.

ENGINES_KEPT = 16


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage whose engines and connections live as long as the process."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        # before the parent's __init__, which already connects to the index shard
        self._engines: OrderedDict[tuple[int, str], Any] = OrderedDict()
        self._tables: set[str] = set()  # tables seen to exist (has_table)
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: Any, config_value: Any
    ) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Any:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import SingletonThreadPool

        key = (os.getpid(), self.conn_string_for_shard(shard))
        engine = self._engines.get(key)
        if engine is not None:
            self._engines.move_to_end(key)
            return engine
        engine = create_engine(
            key[1],
            poolclass=SingletonThreadPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        self._engines[key] = engine
        while len(self._engines) > ENGINES_KEPT:
            (pid, _), oldest = self._engines.popitem(last=False)
            if pid == os.getpid():
                oldest.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Any]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        if table_name in self._tables:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables.add(table_name)
        return found

    def _dispose_engines(self) -> None:
        for (pid, _), engine in list(self._engines.items()):
            if pid == os.getpid():
                engine.dispose()
        self._engines.clear()

    def wipe(self) -> None:
        self._dispose_engines()  # the files are deleted: no connection may outlive them
        self._tables.clear()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()
