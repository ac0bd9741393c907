"""The warehouse's build stamp: what the read API keys its cache and ETags on.

A successful warehouse build records itself (`record_build`, called by the Dagster warehouse
assets when their `dbt build` succeeds). The stamp is that record, and on DuckDB also the
file's modification time, so a build run by hand with dbt changes it too. A stamp that changes
makes every cached answer and ETag of the earlier one unreachable: nothing stale is served.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from extract.settings import Settings


def _record_path(settings: Settings) -> Path:
    return settings.home / "warehouse.built"


def record_build(settings: Settings) -> str:
    """Record a successful build; returns its id."""
    build = uuid.uuid4().hex
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


def build_stamp(settings: Settings) -> str:
    """A short text that changes whenever the warehouse may have changed."""
    parts = [json.dumps(last_build(settings), sort_keys=True)]
    if settings.warehouse == "duckdb":
        try:
            parts.append(str(settings.warehouse_path.stat().st_mtime_ns))
        except OSError:
            parts.append("no-file")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
