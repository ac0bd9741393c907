"""Write, audit, publish on the DuckDB warehouse (extract/runtime/publication.py), without
Dagster: a run's lease, a working file readers never open, and publications that switch every
reader at once, keep the newest builds and survive a holder that died."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import pytest

from extract.runtime import publication
from extract.runtime.publication import (
    WORKING,
    PublicationError,
    builds,
    publish,
    published,
    take_lease,
)
from extract.runtime.query import QueryError, reading, run_query
from tests.support import settings_for

pytestmark = pytest.mark.integration

RUN_A = "aaaaaaaa-0000-4000-8000-000000000001"  # run ids as Dagster makes them
RUN_B = "bbbbbbbb-0000-4000-8000-000000000002"


def _settings(tmp_path: Path):
    settings = settings_for(tmp_path / "home", "postgresql://unused@127.0.0.1:1/x")
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return settings


def _write(settings, value: int) -> None:
    """A "build": the working file's one table holds `value`, in a fact and a dimension that a
    reader joins (a cross-table invariant: both always hold the same value in one build)."""
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create schema if not exists dwh")
    con.execute(f"create or replace table dwh.fct as select {value} as v")
    con.execute(f"create or replace table dwh.dim as select {value} as v")
    con.close()


def _read(settings, **kw) -> int:
    return run_query("select v from dwh.fct", target="warehouse", settings=settings, **kw)[1][0][0]


def test_readers_see_the_published_build_until_the_next_is_published(tmp_path):
    settings = _settings(tmp_path)
    _write(settings, 1)
    with pytest.raises(QueryError, match="no build is published"):
        _read(settings)
    first = publish(settings)
    assert published(settings)["id"] == first and _read(settings) == 1
    _write(settings, 2)  # a build in progress: readers still see the published one
    assert _read(settings) == 1 and _read(settings, build=WORKING, internal=True) == 2
    with pytest.raises(QueryError, match="build in progress is not readable"):
        _read(settings, build=WORKING)  # a person's query never reads an unaudited build
    with reading(settings, "warehouse") as session:  # a reader in flight keeps its build
        second = publish(settings)
        assert session.build == first
        assert session.run("select v from dwh.fct")[1] == [(1,)]
    assert _read(settings) == 2 and _read(settings, build=first) == 1
    assert [b["id"] for b in builds(settings) if b["published"]] == [second]


def test_only_the_newest_builds_are_kept(tmp_path):
    settings = _settings(tmp_path)
    made = []
    for value in range(publication.KEPT + 2):
        _write(settings, value)
        made.append(publish(settings))
        time.sleep(0.01)  # distinct file times
    kept = [b["id"] for b in builds(settings)]
    assert kept == list(reversed(made[-publication.KEPT :]))
    with pytest.raises(QueryError, match="not kept any more"):
        _read(settings, build=made[0])
    with pytest.raises(QueryError, match="is not a build id"):
        _read(settings, build="../../etc/passwd")


def test_a_second_run_waits_for_the_lease_and_a_dead_holders_build_is_kept(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    _write(settings, 1)
    publish(settings)
    alive = {RUN_A: True}
    take_lease(settings, RUN_A, alive=lambda r: alive.get(r, False))
    _write(settings, 2)  # run A's build, not published yet
    took = threading.Event()

    def run_b() -> None:
        take_lease(settings, RUN_B, alive=lambda r: alive.get(r, False))
        took.set()

    waiter = threading.Thread(target=run_b)
    monkeypatch.setattr(publication, "LEASE_POLL_SECONDS", 0.05)
    waiter.start()
    time.sleep(0.5)
    assert not took.is_set()  # A is alive and holds the build
    # A was killed before its publication, in the middle of a copy
    (settings.warehouse_path.parent / ".warehouse.duckdb.99999.partial").write_bytes(b"half")
    alive[RUN_A] = False
    waiter.join(timeout=10)
    assert took.is_set()
    # B starts from the published build; A's unpublished build is kept for inspection, and a
    # copy A's process left half-written beside the working file is gone
    assert _read(settings, build=WORKING, internal=True) == 1 and _read(settings) == 1
    assert not list(settings.warehouse_path.parent.glob(".warehouse.duckdb.*.partial"))
    assert _read(settings, build=RUN_A) == 2
    with pytest.raises(PublicationError, match="does not hold the warehouse build"):
        publish(settings, RUN_A)
    _write(settings, 3)
    assert publish(settings, RUN_B) == RUN_B and _read(settings) == 3


def test_a_re_execution_continues_its_parents_build(tmp_path):
    """A run re-executed from its failure runs only the steps that failed: the build its parent
    left unpublished is continued, not reset to the published one."""
    settings = _settings(tmp_path)
    _write(settings, 1)
    publish(settings)
    take_lease(settings, RUN_A, alive=lambda r: True)
    _write(settings, 2)  # the parent's finished steps
    rerun = "cccccccc-0000-4000-8000-000000000003"
    take_lease(settings, rerun, alive=lambda r: False, parent=RUN_A)
    assert _read(settings, build=WORKING, internal=True) == 2
    assert [b["id"] for b in builds(settings) if b["id"] == RUN_A] == []  # nothing to inspect
    assert publish(settings, rerun) == rerun and _read(settings) == 2
