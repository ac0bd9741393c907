"""Readers of the DuckDB warehouse open it read-only; while another process writes it they get a
message, not a stack trace."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import GOURMAND, home_env, settings_for

HOLD_WRITER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("create schema if not exists dwh; create or replace table dwh.t as select 1 as i")
print("holding", flush=True)
time.sleep(60)
"""


def test_a_reader_gets_a_message_while_a_writer_holds_the_file(tmp_path: Path):
    from extract.runtime.query import QueryError, run_query

    settings = settings_for(tmp_path / "home", "postgresql://unused@127.0.0.1:1/x")
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    writer = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITER, str(settings.warehouse_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "holding"
        with pytest.raises(QueryError, match="locked by a writer"):
            run_query("select * from dwh.t", target="warehouse", settings=settings)
    finally:
        writer.kill()
        writer.wait()
    # the writer gone, the same read works and cannot write
    assert run_query("select i from dwh.t", target="warehouse", settings=settings)[1] == [(1,)]
    with pytest.raises(QueryError):
        run_query("create table dwh.u (i int)", target="warehouse", settings=settings)


@pytest.mark.parametrize("command", [["extracts"], ["report", "dashboards"]])
def test_extracts_and_dashboards_wait_for_a_build_instead_of_failing_it(
    tmp_path: Path, fresh_dsn, command
):
    """`gourmand extracts` and `gourmand report dashboards` read the file through one
    connection for all their tables, which a build starting meanwhile could not open for
    writing: they take the warehouse lock builds take, so they wait for a build in progress
    (and a build waits for them)."""
    import duckdb

    from extract.runtime.locks import WAREHOUSE, home_lock

    env = home_env(tmp_path / "home", fresh_dsn)
    settings = settings_for(tmp_path / "home", fresh_dsn)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(settings.warehouse_path)).close()
    with home_lock(settings, WAREHOUSE, "a warehouse build"):
        command = subprocess.Popen(
            [GOURMAND, *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        time.sleep(4)
        assert command.poll() is None, command.communicate()  # still waiting
    out, err = command.communicate(timeout=120)
    assert command.returncode == 0, out + err
