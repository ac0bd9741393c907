"""Readers of the DuckDB warehouse open the published build read-only, never the file a run
writes, so a build in progress turns none of them away."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from tests.support import GOURMAND, home_env, settings_for

HOLD_WRITER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("create schema if not exists dwh; create or replace table dwh.t as select 1 as i")
print("holding", flush=True)
time.sleep(60)
"""


@contextmanager
def _holding_writer(path: Path) -> Iterator[None]:
    """Another process holds the DuckDB file `path` open for writing (and has written i = 1)
    for the block."""
    writer = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "holding"
        yield
    finally:
        writer.kill()
        writer.wait()


def test_readers_read_the_published_build_while_a_writer_holds_the_working_file(
    tmp_path: Path,
):
    """Before: 5 of 20 `gourmand sql --target warehouse` during a build were refused ("locked by
    a writer"). Readers open the published build, a file no run writes: a writer holding the
    working file turns none away. The run's own audit reads the working file, and gets a
    message, not a stack trace, if another process holds it."""
    from extract.runtime.publication import WORKING, publish
    from extract.runtime.query import QueryError, run_query

    settings = settings_for(tmp_path / "home", "postgresql://unused@127.0.0.1:1/x")
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create schema dwh; create table dwh.t as select 0 as i")
    con.close()
    publish(settings)
    with _holding_writer(settings.warehouse_path):
        for _ in range(20):
            assert run_query("select i from dwh.t", target="warehouse", settings=settings)[1] == [
                (0,)
            ]
        with pytest.raises(QueryError, match="locked by a writer"):
            run_query("select * from dwh.t", target="warehouse", settings=settings,
                      internal=True, build=WORKING)  # fmt: skip
    # the writer's build published, readers see it; the door still cannot write
    publish(settings)
    assert run_query("select i from dwh.t", target="warehouse", settings=settings)[1] == [(1,)]
    with pytest.raises(QueryError):
        run_query("create table dwh.u (i int)", target="warehouse", settings=settings)


@pytest.mark.parametrize("command", [["extracts"], ["report", "dashboards"]])
def test_extracts_and_dashboards_go_on_while_a_build_writes(tmp_path: Path, fresh_dsn, command):
    """`gourmand extracts` and `gourmand report dashboards` read every table through one
    session of the published build: a run holding the warehouse (its lock, and the working
    file open for writing) neither stops them nor is stopped by them."""
    from extract.runtime.locks import WAREHOUSE, home_lock
    from extract.runtime.publication import publish

    env = home_env(tmp_path / "home", fresh_dsn)
    settings = settings_for(tmp_path / "home", fresh_dsn)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(settings.warehouse_path)).close()
    publish(settings)
    with _holding_writer(settings.warehouse_path):
        with home_lock(settings, WAREHOUSE, "a warehouse build"):
            done = subprocess.run(
                [GOURMAND, *command], env=env, capture_output=True, text=True, timeout=120
            )
        assert done.returncode == 0, done.stdout + done.stderr
