"""Write, audit, publish on the DuckDB warehouse: readers see only whole, audited builds.

dbt writes one working file per home, `settings.warehouse_path` (`warehouse.duckdb`): dbt keeps
its partial-parse state per connection, and a path per build would make it parse the whole
project at every build. Readers never open that file. They open the *published* build:
`warehouse/builds/<id>.duckdb`, named by `warehouse/published.json`, a file that is replaced in
one rename. A reader opens whichever build the pointer names at that moment and keeps it for its
whole session, so every answer comes from exactly one build, and no reader ever holds the
working file (which a writer could then not open).

On Postgres and BigQuery (built in place until they get builds of their own), the lease alone
applies: one run's warehouse build at a time, from its first warehouse step to its publication.

A run's build goes through four steps:
- prepare (`take_lease`, by each of the run's warehouse steps): the first takes the home's build
  lease (`warehouse/building.json`, naming the run). Another run's live lease is waited for; a
  dead or finished run's is taken over, its unpublished work kept as a build of its own for
  inspection, and the working file starts again from the published build (its incremental
  models and snapshots continue from it).
- build: dbt writes the working file (the writer's lock keeps one step at a time on it).
- audit: dbt's tests, then the run's warehouse checks, read the working file (`WORKING`).
- publish (`publish`, the asset `warehouse/published`, downstream of every model and blocked by
  every halt check): the working file is copied to `builds/<id>.partial`, renamed to
  `builds/<id>.duckdb` and named by the pointer; the lease ends. A check that fails stops the run
  before this step: the previous build stays published.

The newest `KEPT` builds stay (readers in flight, cursors, a failed build to inspect); older ones
are deleted when a build is published. A kill at any point leaves the pointer on a whole build:
the next run takes the dead run's lease over and builds again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extract.runtime.locks import WAREHOUSE, home_lock
from extract.settings import Settings

WORKING = "working"  # the build a run is writing and auditing, as opposed to the published one
KEPT = 3  # builds kept beside the published one's predecessors (readers in flight, cursors)
_BUILD_ID = re.compile(r"^[0-9a-f][0-9a-f-]{7,35}$")  # a run id or a uuid4 hex
LEASE_POLL_SECONDS = 2.0


class PublicationError(RuntimeError):
    """A build that cannot be published, with the reason for a person."""


class UnknownBuild(LookupError):
    """A build id that names no kept build."""


def folder(settings: Settings) -> Path:
    return settings.home / "warehouse"


def builds_folder(settings: Settings) -> Path:
    return folder(settings) / "builds"


def _pointer(settings: Settings) -> Path:
    return folder(settings) / "published.json"


def _lease(settings: Settings) -> Path:
    return folder(settings) / "building.json"


def _read(path: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _write(path: Path, data: dict[str, Any]) -> None:
    """`data` as `path`, replaced whole: a reader reads the old or the new record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    beside = path.with_name(f".{path.name}.{os.getpid()}")
    with open(beside, "w") as handle:
        handle.write(json.dumps(data))
        handle.flush()
        os.fsync(handle.fileno())
    beside.replace(path)


def build_path(settings: Settings, build_id: str) -> Path:
    """The file of build `build_id` (checked to be an id, never a path)."""
    if not _BUILD_ID.match(build_id):
        raise UnknownBuild(f"{build_id!r} is not a build id")
    return builds_folder(settings) / f"{build_id}.duckdb"


def published(settings: Settings) -> dict[str, Any] | None:
    """The published build's record ({id, at, run}), or None before the first publication."""
    return _read(_pointer(settings))


def resolve(settings: Settings, build: str | None = None) -> tuple[str, Path]:
    """(build id, file) a reader opens: the published build's, a kept build's (`build`: its
    id), or the working file (`WORKING`: the pipeline's audit of the build it is writing). The
    pointer is read once: the id names the file opened even when a publication happens
    meanwhile."""
    if build == WORKING:
        return WORKING, settings.warehouse_path
    if build is None:
        record = published(settings)
        if record is None:
            raise UnknownBuild(
                f"no warehouse yet: no build is published in {folder(settings)}; build it first"
            )
        build = str(record["id"])
    path = build_path(settings, build)
    if not path.exists():
        raise UnknownBuild(f"build {build} is not kept any more (the newest {KEPT} are)")
    return build, path


def builds(settings: Settings) -> list[dict[str, Any]]:
    """The kept builds, newest first: id, file, when written, and whether it is published."""
    current = (published(settings) or {}).get("id")
    found = []
    for path in builds_folder(settings).glob("*.duckdb"):
        try:
            written = path.stat().st_mtime
        except OSError:
            continue  # deleted meanwhile
        found.append({
            "id": path.stem,
            "file": str(path),
            "at": datetime.fromtimestamp(written, UTC).isoformat(),
            "published": path.stem == current,
        })  # fmt: skip
    return sorted(found, key=lambda b: b["at"], reverse=True)


def _signature(path: Path) -> list[int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return [found.st_mtime_ns, found.st_size, found.st_ino]


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the file, so that the file alone is the whole build."""
    import duckdb

    if _wal(path).exists():
        con = duckdb.connect(str(path))
        try:
            con.execute("checkpoint")
        finally:
            con.close()


def _copy(source: Path, target: Path) -> None:
    """`source` as `target`, whole or not at all (copied beside it, then renamed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    beside = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.copyfile(source, beside)
    with open(beside, "rb") as handle:
        os.fsync(handle.fileno())
    beside.replace(target)


def _start_working_file(settings: Settings, previous: dict[str, Any] | None) -> None:
    """The working file as a copy of the published build. What a run that ended without
    publishing left in it is kept as a build of that run's id, for `--build`."""
    working = settings.warehouse_path
    base = published(settings)
    if working.exists():
        unchanged = (
            previous is not None
            and previous.get("published") is not None
            and base is not None
            and previous.get("published") == base.get("id")
            and previous.get("signature") == _signature(working)
            and not _wal(working).exists()
        )
        if unchanged:
            return  # still the published build, untouched since: nothing to copy
        owner = (previous or {}).get("run")
        if owner and previous and previous.get("published") is None:
            _checkpoint(working)
            kept = build_path(settings, str(owner))
            if not kept.exists():
                _copy(working, kept)
    if base is None:
        # nothing published yet (a first build, or a home from before publication): the build
        # continues from what is there, and the audit judges the whole of it before it is read
        return
    # copies a killed holder left beside the working file (the lease's lock is held: no copy
    # of a live process is under way)
    for partial in working.parent.glob(f".{working.name}.*.partial"):
        partial.unlink(missing_ok=True)
    for path in (working, _wal(working)):
        path.unlink(missing_ok=True)
    _copy(build_path(settings, str(base["id"])), working)


def take_lease(
    settings: Settings,
    run_id: str,
    alive: Callable[[str], bool],
    say: Callable[[str], None] = lambda _msg: None,
    parent: str | None = None,
) -> None:
    """Prepare: make `run_id` the holder of the home's build (see the module's docstring).
    Returns at once when it already is; waits while another live run holds it. `parent`: the
    run this one re-executes (from its failure): its unpublished build is continued, not
    reset, since the steps it finished are not run again."""
    told = False
    while True:
        with home_lock(settings, WAREHOUSE, "the warehouse build lease"):
            lease = _read(_lease(settings))
            owner = (lease or {}).get("run")
            if owner == run_id and lease and lease.get("published") is None:
                return
            if owner is None or lease is None or lease.get("published") or not alive(owner):
                continued = (
                    parent is not None and owner == parent and lease is not None
                    and lease.get("published") is None
                )  # fmt: skip
                if settings.warehouse == "duckdb" and not continued:
                    _start_working_file(settings, lease)
                base = (published(settings) or {}).get("id")
                _write(_lease(settings), {
                    "run": run_id, "base": base, "since": datetime.now(UTC).isoformat(),
                    "published": None,
                })  # fmt: skip
                return
        if not told:
            say(f"waiting for run {owner}'s warehouse build to be published or to end")
            told = True
        time.sleep(LEASE_POLL_SECONDS)


def publish(settings: Settings, run_id: str | None = None) -> str:
    """Publish the working file as a new build; returns its id. `run_id`: the run whose build
    it is, which must hold the lease; None for a build outside Dagster (a test, a benchmark),
    which takes no lease."""
    with home_lock(settings, WAREHOUSE, "the warehouse publication"):
        lease = _read(_lease(settings))
        if run_id is not None and ((lease or {}).get("run") != run_id or lease is None
                                   or lease.get("published") is not None):  # fmt: skip
            holder = (lease or {}).get("run")
            raise PublicationError(
                f"run {run_id} does not hold the warehouse build (held by {holder}): "
                "its build is not published"
            )
        build_id = run_id or uuid.uuid4().hex
        working = settings.warehouse_path
        if settings.warehouse == "duckdb":
            if not working.exists():
                raise PublicationError(f"no warehouse build to publish at {working}")
            _checkpoint(working)
            _copy(working, build_path(settings, build_id))
            now = datetime.now(UTC).isoformat()
            _write(_pointer(settings), {"id": build_id, "at": now, "run": run_id})
        # the working file is the published build until a run changes it: the next run
        # starts from it without a copy
        _write(_lease(settings), {
            "run": run_id, "base": (lease or {}).get("base"), "since": (lease or {}).get("since"),
            "published": build_id, "signature": _signature(working),
        })  # fmt: skip
        if settings.warehouse == "duckdb":
            _prune(settings, build_id)
    return build_id


def pointer_path(settings: Settings) -> Path:
    """The published build's record: replaced whole at every publication."""
    return _pointer(settings)


def _prune(settings: Settings, current: str) -> None:
    """Delete all but the newest KEPT builds (the published one always stays). A reader that
    has one open keeps reading it: the file goes when its last reader closes."""
    kept = [b for b in builds(settings) if b["id"] != current]
    for build in kept[KEPT - 1 :]:
        Path(build["file"]).unlink(missing_ok=True)
    for partial in builds_folder(settings).glob(".*.partial"):
        try:
            if time.time() - partial.stat().st_mtime > 3600:
                partial.unlink()  # a copy a killed process left
        except OSError:
            continue
