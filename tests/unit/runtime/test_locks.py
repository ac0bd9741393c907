"""The home's locks: one holder at a time across processes, a waiter told who holds it, and a
holder killed with SIGKILL frees the lock at once (the kernel drops its flock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from extract.runtime.locks import OLTP, holder, home_lock, is_held
from tests.support import ROOT, settings_for

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from extract.runtime.locks import home_lock
    from tests.support import settings_for

    settings = settings_for(Path(sys.argv[1]), "postgresql://unused@127.0.0.1:1/x")
    with home_lock(settings, sys.argv[2], "the test's holder"):
        print("HELD", flush=True)
        time.sleep(float(sys.argv[3]))
    """
)


def _holder(home: Path, name: str, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home), name, str(seconds)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "HELD"
    return proc


def test_a_waiter_is_told_who_holds_the_lock_and_gets_it_when_freed(tmp_path):
    settings = settings_for(tmp_path / "home", "postgresql://unused@127.0.0.1:1/x")
    proc = _holder(settings.home, OLTP, 1.5)
    said: list[str] = []
    assert is_held(settings, OLTP)
    started = time.monotonic()
    with home_lock(settings, OLTP, "the waiter", said.append):
        waited = time.monotonic() - started
        assert holder(settings, OLTP)["pid"] == os.getpid()
    proc.wait(timeout=10)
    assert waited > 0.5  # it did wait for the holder
    assert len(said) == 1 and f"pid {proc.pid} (the test's holder" in said[0]
    assert not is_held(settings, OLTP)


def test_a_killed_holder_frees_the_lock_at_once(tmp_path):
    settings = settings_for(tmp_path / "home", "postgresql://unused@127.0.0.1:1/x")
    proc = _holder(settings.home, "source-yelp", 300)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    started = time.monotonic()
    with home_lock(settings, "source-yelp"):
        assert time.monotonic() - started < 5
