"""A run's reconciliation counted when no other writer of the home is mid-way.

The reconciliation compares one entity's keys across raw, the OLTP model, the lake and the
warehouse. While another run is between two of its steps (it has extracted a day and not yet
folded it, or folded and not yet exported), the layers differ for a moment, and a run that counts
then would fail a halt check because of the other run, not because of the data. So a
reconciliation that fails while another writer is mid-way waits for it and counts again.

What counts as another writer mid-way: a live Dagster run of this home other than this one (a
run launched from the UI or by the daemon; `gourmand` commands keep their runs apart with the
home's `runs` lock already), or a home lock (extract/runtime/locks.py) held by another process.
Two runs whose checks wait on each other would wait for ever, so a run that waits says so (a
marker per run under `<home>/locks/settling/`), and a writer that is itself waiting in its
checks has finished writing: it is not waited for. The wait is bounded; past it the last count
stands, and the check fails as counted.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from extract.settings import Settings

T = TypeVar("T")
WAIT_SECONDS = 1800.0  # a whole daily run at the demo's size is a minute; a backfill, more
POLL_SECONDS = 2.0


def _settling(settings: Settings) -> Path:
    folder = settings.home / "locks" / "settling"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _waiting(settings: Settings) -> tuple[set[str], set[int]]:
    """Runs (and their processes) whose checks are waiting here now."""
    runs: set[str] = set()
    pids: set[int] = set()
    for marker in _settling(settings).glob("*.json"):
        try:
            found = json.loads(marker.read_text())
        except (OSError, ValueError):
            continue
        if _pid_alive(int(found["pid"])):
            runs.add(str(found["run_id"]))
            pids.add(int(found["pid"]))
        else:
            marker.unlink(missing_ok=True)  # a killed waiter's marker
    return runs, pids


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def writers_mid_way(instance: Any, settings: Settings, run_id: str) -> list[str]:
    """What else writes this home now and is not itself waiting in its checks."""
    from dagster_project.lib.runs import run_alive, unfinished_runs
    from extract.runtime.locks import holder, is_held, lock_names

    waiting_runs, waiting_pids = _waiting(settings)
    busy = []
    for run in unfinished_runs(instance):
        if run.run_id == run_id or run.run_id in waiting_runs:
            continue
        alive, pids = run_alive(instance, run.run_id)
        if alive and not set(pids) & waiting_pids:
            busy.append(f"run {run.run_id[:8]}")
    for name in lock_names(settings):
        if not is_held(settings, name):
            continue
        found = holder(settings, name) or {}
        pid = int(str(found.get("pid", 0)))
        if pid and pid != os.getpid() and pid not in waiting_pids:
            busy.append(f"{name} (pid {pid}: {found.get('what')})")
    return busy


def settle(
    instance: Any,
    settings: Settings,
    run_id: str,
    recount: Callable[[], T],
    say: Callable[[str], None],
    wait_seconds: float = WAIT_SECONDS,
) -> T:
    """`recount()` once no other writer of the home is mid-way (or `wait_seconds` passed)."""
    marker = _settling(settings) / f"{run_id}.json"
    marker.write_text(json.dumps({"run_id": run_id, "pid": os.getpid()}))
    try:
        deadline = time.monotonic() + wait_seconds
        told = False
        while time.monotonic() < deadline:
            busy = writers_mid_way(instance, settings, run_id)
            if not busy:
                break
            if not told:
                say(f"the layers differ while {', '.join(busy)} is mid-way: counting again "
                    "when it is done")  # fmt: skip
                told = True
            time.sleep(POLL_SECONDS)
        return recount()
    finally:
        marker.unlink(missing_ok=True)
