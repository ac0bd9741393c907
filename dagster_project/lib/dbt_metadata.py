"""Run metadata of dbt models: the table's row count, the model's seconds and rows/s.

dagster-dbt's `fetch_row_counts()` counts through the dbt adapter while dbt is still running,
which DuckDB refuses (one process may hold a writable file). So the events of one `dbt build`
are held until dbt exits, every table the build touched is counted in one query, and the events
go out with the figures attached. Both projects use this, so the figures mean the same
everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from dagster import AssetMaterialization, Output

from extract.runtime.publication import WORKING
from extract.runtime.query import QueryError, run_query
from extract.settings import Settings

Counter = Callable[[str], list[tuple[Any, ...]]]


def node_relations(manifest_path: str | Path) -> dict[str, str]:
    """unique_id -> `schema."alias"` of every model and snapshot that is stored as a table.

    The database part of dbt's relation_name is left out: it names the file or database the
    manifest was parsed against, and the count runs on the connection of this home."""
    manifest = json.loads(Path(manifest_path).read_text())
    return {
        uid: f'{node["schema"]}."{node["alias"]}"'
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "snapshot")
        and node["config"].get("materialized") != "view"
    }


def count_rows(relations: dict[str, str], target: str, settings: Settings) -> dict[str, int]:
    """Rows per unique_id, counted in one statement (`target`: oltp or warehouse)."""
    if not relations:
        return {}
    query = " union all ".join(
        f"select '{uid}' as node, count(*) as n from {relation}"
        for uid, relation in sorted(relations.items())
    )
    # the run's own build (on the warehouse: the one it is writing, not yet published)
    _, rows = run_query(query, target=target, settings=settings, internal=True, build=WORKING)
    return {str(uid): int(n) for uid, n in rows}


def with_row_counts(
    events: Iterable[Any],
    manifest_path: str | Path,
    target: str,
    log: Callable[[str], None],
    settings: Settings,
) -> Iterator[Any]:
    """The events of one dbt invocation, materializations carrying rows, seconds, rows/s."""
    held = list(events)
    tables = node_relations(manifest_path)
    built = {
        uid: tables[uid]
        for event in held
        if isinstance(event, Output | AssetMaterialization) and (uid := _unique_id(event)) in tables
    }
    try:
        counts = count_rows(built, target, settings)
    except QueryError as exc:
        # e.g. BigQuery, which `gourmand sql` does not read: the build itself succeeded
        log(f"row counts not collected: {exc}")
        counts = {}
    for event in held:
        if isinstance(event, Output | AssetMaterialization):
            uid = _unique_id(event)
            if uid in counts:
                event = event.with_metadata({**event.metadata, **_figures(event, counts[uid])})
        yield event


def _unique_id(event: Any) -> str:
    value = event.metadata.get("unique_id")
    return str(value.value) if value is not None else ""


def _figures(event: Any, rows: int) -> dict[str, Any]:
    duration = event.metadata.get("Execution Duration")
    seconds = float(duration.value) if duration is not None else 0.0
    return {
        "dagster/row_count": rows,
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds, 1) if seconds > 0 else 0.0,
    }
