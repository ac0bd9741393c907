"""The warehouse's build stamp: what the read API keys its cache and ETags on.

A successful warehouse build records itself (`record_build`, called by the Dagster warehouse
assets when their `dbt build` succeeds). The stamp is that record, and on DuckDB also the
publication's pointer (extract/runtime/publication.py), so a build published outside Dagster
changes it too. A stamp that changes
makes every cached answer and ETag of the earlier one unreachable: nothing stale is served.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extract.runtime.publication import pointer_path
from extract.settings import Settings


def _record_path(settings: Settings) -> Path:
    return settings.home / "warehouse.built"


def record_build(settings: Settings, build: str | None = None) -> str:
    """Record a successful build (`build`: its id, the published build's on DuckDB); returns
    the id."""
    build = build or uuid.uuid4().hex
    path = _record_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    beside = path.with_name(f".{path.name}.{os.getpid()}")
    beside.write_text(json.dumps({"id": build, "at": datetime.now(UTC).isoformat()}))
    beside.replace(path)
    return build


def last_build(settings: Settings) -> dict[str, str] | None:
    """The newest recorded build ({id, at}), if any."""
    try:
        found = json.loads(_record_path(settings).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_mtime_ns, found.st_size, found.st_ino)


_known: dict[tuple[Any, ...], str] = {}


def build_stamp(settings: Settings) -> str:
    """A short text that changes whenever the warehouse may have changed. Asked on every API
    request: two stat calls decide whether the record must be read again."""
    # on DuckDB, the publication's pointer: a build published outside Dagster changes it too
    duckdb_file = pointer_path(settings) if settings.warehouse == "duckdb" else None
    signature = (
        str(settings.home),
        _signature(_record_path(settings)),
        _signature(duckdb_file) if duckdb_file else None,
    )
    stamp = _known.get(signature)
    if stamp is None:
        parts = [json.dumps(last_build(settings), sort_keys=True), repr(signature[2])]
        stamp = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
        if len(_known) > 64:
            _known.clear()
        _known[signature] = stamp
    return stamp
