"""Dagster's SQLite event log, with its connections kept open.

Dagster's SqliteEventLogStorage opens a new SQLAlchemy engine and a new SQLite connection for
every statement it runs, and closes both afterwards (fork safety in its multi-process setups).
Storing one event costs about 28 ms of CPU on this project's 2-core machines that way, mostly
creating the engine, compiling the same INSERT again and closing the connection; a demo run
writes about 1,800 events (every dbt test is an asset check: planned, then evaluated), which
came to a quarter of the demo's time. The same events with the engine and one connection per
thread kept for the process: about 9.6 ms each (`python -m bench.dagster_events` measures both).

Safety kept: engines are per process id (a forked child never uses its parent's connections),
one connection per thread (SQLite's own rule), at most ENGINES_KEPT run shards open at once (a
long-lived webserver reads many runs), and SQLite's file locks still serialize writers across
processes: an open connection outside a transaction holds no lock. Configured in the home's
dagster.yaml (dagster_project/lib/home.py), so the UI, the daemon and the runs all use it.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)

ENGINES_KEPT = 16


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage whose engines and connections live as long as the process."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        # before the parent's __init__, which already connects to the index shard
        self._engines: OrderedDict[tuple[int, str], Any] = OrderedDict()
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

    def _dispose_engines(self) -> None:
        for (pid, _), engine in list(self._engines.items()):
            if pid == os.getpid():
                engine.dispose()
        self._engines.clear()

    def wipe(self) -> None:
        self._dispose_engines()  # the files are deleted: no connection may outlive them
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()
