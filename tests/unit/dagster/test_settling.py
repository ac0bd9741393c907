"""A failed reconciliation counts again once no other writer of the home is mid-way: it waits for
a process holding one of the home's locks, says for whom, and does not wait for a writer that is
itself waiting in its checks (two runs waiting on each other would wait for ever)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

from dagster import DagsterInstance

from dagster_project.lib.settling import settle
from extract.runtime.locks import is_held
from tests.support import ROOT, settings_for

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from dagster import DagsterInstance
    from dagster_project.lib.settling import settle
    from extract.runtime.locks import home_lock
    from tests.support import settings_for

    settings = settings_for(Path(sys.argv[1]), "postgresql://unused@127.0.0.1:1/x")
    with home_lock(settings, "oltp", "a test writer"):
        print("HELD", flush=True)
        if sys.argv[2] == "settling":
            with DagsterInstance.ephemeral() as instance:
                settle(instance, settings, "other-run", lambda: time.sleep(20), print)
        else:
            time.sleep(float(sys.argv[2]))
    """
)


def _writer(home, mode: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(home), mode], stdout=subprocess.PIPE, text=True,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "HELD"
    return proc


def test_waits_for_a_writer_mid_way_and_counts_after_it(tmp_path):
    settings = settings_for(tmp_path / "home", "postgresql://unused@127.0.0.1:1/x")
    writer = _writer(settings.home, "2.0")
    said: list[str] = []
    started = time.monotonic()
    with DagsterInstance.ephemeral() as instance:
        counted = settle(
            instance, settings, "this-run", lambda: is_held(settings, "oltp"), said.append
        )
    writer.wait(timeout=10)
    assert counted is False  # counted once the writer had let go
    assert time.monotonic() - started > 1.0
    assert len(said) == 1 and "oltp (pid" in said[0] and "a test writer" in said[0]


def test_does_not_wait_for_a_writer_waiting_in_its_own_checks(tmp_path):
    settings = settings_for(tmp_path / "home", "postgresql://unused@127.0.0.1:1/x")
    writer = _writer(settings.home, "settling")
    try:
        marker = settings.home / "locks" / "settling" / "other-run.json"
        deadline = time.monotonic() + 60
        while not marker.exists():  # until it is in its wait
            assert time.monotonic() < deadline and writer.poll() is None
            time.sleep(0.1)
        said: list[str] = []
        started = time.monotonic()
        with DagsterInstance.ephemeral() as instance:
            settle(instance, settings, "this-run", lambda: None, said.append, wait_seconds=10)
        assert time.monotonic() - started < 5
        assert said == []
    finally:
        writer.kill()
        writer.wait(timeout=10)
