"""Readers of the DuckDB warehouse open it read-only; while another process writes it they get a
message, not a stack trace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import settings_for

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
