"""The home's locks: what two runs (or a run and a command) must not do at once.

Each lock is a file under `<home>/locks/`, held with an flock (the `filelock` library), so a
killed holder never leaves it held: the kernel drops the lock with the process. Beside each lock
file, `<name>.holder` says who holds it (pid, command, since when), so a waiter can say what it
waits for instead of hanging silently.

The step locks keep one writer per store whatever starts it (a Dagster run, a `gourmand`
command, a test): `source-<name>` (a source's dlt pipeline folders, state and raw schema),
`oltp` (a dbt_oltp build: the folds and their ledgers), `lake-export` (the export's cursors and
markers), `warehouse` (a dbt_dwh build and the warehouse loads). A process holds one step lock at
a time, so step locks cannot deadlock one another; a block that holds a lock may enter another
block of the same lock in the same process (the warehouse writer around its dbt build).

`runs` keeps whole runs of the chain apart (`gourmand materialize`, the demo, `gourmand
socrata`, `gourmand extract`, `gourmand lake-export`): taken before any step lock, it makes
overlapping runs end as if one had run after the other, and lets a run's checks count one
consistent state across the layers.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from extract.settings import Settings

# the locks this process holds, with how many blocks hold each: a block inside another that
# holds the same lock (the warehouse writer around its dbt build) goes on, instead of waiting for
# itself on a second file descriptor
_HELD: dict[str, int] = {}
_HELD_GUARD = threading.Lock()

RUNS = "runs"
OLTP = "oltp"
LAKE_EXPORT = "lake-export"
WAREHOUSE = "warehouse"


def source_lock(name: str) -> str:
    """The step lock of one source."""
    return f"source-{name}"


def lock_names(settings: Settings) -> list[str]:
    """Every lock of the home that a writer holds (the sources' among them)."""
    sources = sorted(p.stem for p in _folder(settings).glob("source-*.lock"))
    return [RUNS, OLTP, LAKE_EXPORT, WAREHOUSE, *sources]


def _folder(settings: Settings) -> Path:
    folder = settings.home / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def holder(settings: Settings, name: str) -> dict[str, object] | None:
    """Who last took lock `name` (None if nobody ever did); it may have ended since."""
    path = _folder(settings) / f"{name}.holder"
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def is_held(settings: Settings, name: str) -> bool:
    """Whether some process (this one included) holds lock `name` now."""
    path = str(_folder(settings) / f"{name}.lock")
    with _HELD_GUARD:
        if _HELD.get(path):
            return True
    probe = FileLock(path, thread_local=False)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    probe.release()
    return False


def _describe(found: dict[str, object] | None) -> str:
    if not found:
        return "another process"
    since = time.strftime("%H:%M:%S", time.localtime(float(str(found.get("since", 0)))))
    return f"pid {found.get('pid')} ({found.get('what')}, since {since})"


@contextmanager
def home_lock(
    settings: Settings, name: str, what: str | None = None, say: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold lock `name` of the home for the block; wait for it, saying once who holds it.
    `what` names this holder for the next waiter (default: this process's command line)."""
    folder = _folder(settings)
    path = str(folder / f"{name}.lock")
    with _HELD_GUARD:
        if _HELD.get(path):
            _HELD[path] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _HELD_GUARD:
                if _HELD.get(path):
                    _HELD[path] -= 1
        return
    lock = FileLock(path, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        (say or (lambda _m: None))(
            f"waiting for the {name} lock, held by {_describe(holder(settings, name))}; it "
            "frees when that ends (a killed holder frees it at once)"
        )
        lock.acquire()
    try:
        label = what or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:200]
        mine = folder / f".{name}.holder.{os.getpid()}"
        mine.write_text(json.dumps({"pid": os.getpid(), "what": label, "since": time.time()}))
        mine.replace(folder / f"{name}.holder")
        with _HELD_GUARD:
            _HELD[path] = 1
        yield
    finally:
        with _HELD_GUARD:
            _HELD.pop(path, None)
        lock.release()
