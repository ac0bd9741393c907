"""Data extracts for everyone: after a warehouse build, every mart and dimension as Parquet and
CSV under `<lake>/extracts/<name>/`, with a dictionary (columns, types, descriptions from the
dbt manifest, row count, build time) beside them.

Each file replaces the one before as a whole (written beside it, then moved over it), so a
reader downloads the previous extract or the new one, never a partial file.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from extract.lake import files as lake_mod
from extract.runtime.query import reading
from extract.settings import Settings
from extract.warehouse.catalog import Resource, load_catalog, rows_as_csv, rows_as_parquet

FOLDER = "extracts"
FORMATS = ("parquet", "csv")


@dataclass
class Extract:
    name: str
    rows: int
    files: list[str]


def _write(lake: lake_mod.Lake, path: str, data: bytes) -> None:
    """`data` as the file at `path`, replacing it whole."""
    import uuid

    lake.fs.makedirs(posixpath.dirname(path), exist_ok=True)
    beside = f"{path}.{uuid.uuid4().hex}.partial"
    with lake.fs.open(beside, "wb") as handle:
        handle.write(data)
    lake.fs.mv(beside, path)


def write_extracts(settings: Settings, built_at: str | None = None) -> list[Extract]:
    """Every served table of the warehouse as an extract; returns what was written."""
    lake = lake_mod.open_lake(settings)
    built_at = built_at or datetime.now(UTC).isoformat()
    written = []
    catalog = load_catalog(settings)
    with reading(settings, "warehouse", internal=True) as reader:
        for resource in catalog.values():
            columns = ", ".join(c.name for c in resource.columns)
            order = ", ".join(resource.key)
            _, rows = reader.run(f"select {columns} from {resource.relation} order by {order}")
            written.append(_write_extract(lake, resource, rows, built_at))
    return written


def _write_extract(
    lake: lake_mod.Lake, resource: Resource, rows: list[tuple[Any, ...]], built_at: str
) -> Extract:
    """One table's Parquet, CSV and dictionary."""
    folder = lake.path(FOLDER, resource.name)
    dictionary = {
        "name": resource.name,
        "table": resource.relation,
        "description": resource.description,
        "rows": len(rows),
        "built_at": built_at,
        "key": list(resource.key),
        "columns": [
            {"name": c.name, "type": c.kind, "description": c.description} for c in resource.columns
        ],
        "files": [f"{resource.name}.{fmt}" for fmt in FORMATS],
    }
    paths = {
        "parquet": posixpath.join(folder, f"{resource.name}.parquet"),
        "csv": posixpath.join(folder, f"{resource.name}.csv"),
        "json": posixpath.join(folder, "dictionary.json"),
    }
    _write(lake, paths["parquet"], rows_as_parquet(resource, rows))
    _write(lake, paths["csv"], rows_as_csv(resource, rows))
    _write(lake, paths["json"], json.dumps(dictionary, indent=2).encode())
    return Extract(resource.name, len(rows), list(paths.values()))


def list_extracts(settings: Settings) -> list[dict[str, Any]]:
    """The dictionaries of the extracts in the lake."""
    lake = lake_mod.open_lake(settings)
    base = lake.path(FOLDER)
    if not lake.fs.exists(base):
        return []
    found = []
    for path in sorted(lake.fs.find(base)):
        if posixpath.basename(path) == "dictionary.json":
            with lake.fs.open(path, "rb") as handle:
                found.append(json.loads(handle.read()))
    return found


def read_extract(settings: Settings, name: str, fmt: str) -> bytes | None:
    """An extract's file (`fmt`: parquet, csv or json for its dictionary), None if absent."""
    lake = lake_mod.open_lake(settings)
    file = "dictionary.json" if fmt == "json" else f"{name}.{fmt}"
    path = lake.path(FOLDER, name, file)
    if not lake.fs.exists(path):
        return None
    with lake.fs.open(path, "rb") as handle:
        return bytes(handle.read())
