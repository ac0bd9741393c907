"""Rejects and load accounting shared by every source.

A record that cannot be loaded (structurally broken, wrong types) is never dropped: it goes to
the dataset's `_rejects` table with its raw payload and the reason, in the same load package as
the good rows, so both land together or not at all. Each resource also writes one `_loads` row
per batch with received = loaded + rejected. Both tables are replaced per (resource, batch), so
re-running a batch (a Yelp day, a Census vintage) replaces its rejects instead of adding to them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dlt

REJECTS_TABLE = "_rejects"
LOADS_TABLE = "_loads"

_REJECT_COLUMNS: dict[str, Any] = {
    "resource": {"data_type": "text", "nullable": False},
    "batch": {"data_type": "text", "nullable": False},
    "reason": {"data_type": "text", "nullable": False},
    "payload": {"data_type": "text", "nullable": True},
    "context": {"data_type": "text", "nullable": True},
    "extracted_at": {"data_type": "timestamp", "nullable": False},
}
_LOAD_COLUMNS: dict[str, Any] = {
    "resource": {"data_type": "text", "nullable": False},
    "batch": {"data_type": "text", "nullable": False},
    "received": {"data_type": "bigint", "nullable": False},
    "loaded": {"data_type": "bigint", "nullable": False},
    "rejected": {"data_type": "bigint", "nullable": False},
    "extract_seconds": {"data_type": "double", "nullable": False},
    "extracted_at": {"data_type": "timestamp", "nullable": False},
}


def _hints(table: str, columns: dict[str, Any]) -> Any:
    return dlt.mark.make_hints(
        table_name=table,
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        merge_key=["resource", "batch"],
        columns=columns,
    )


def to_table(
    table: str,
    rows: Any,  # a list of dicts, or an Arrow table
    *,
    primary_key: str | list[str],
    merge_key: str | list[str] | None = None,
    columns: dict[str, Any] | None = None,
    append: bool = False,
) -> Any:
    """Dispatch data rows to `table` with that table's own keys.

    A resource that also writes `_rejects`/`_loads` keeps its own hints bare (only the write
    disposition): dlt starts every table variant from the resource's hints, so a primary key
    declared on the resource would be demanded of the accounting tables too.
    """
    # append: the caller knows the table is empty (a first bulk load), nothing to replace
    disposition: Any = "append" if append else {"disposition": "merge", "strategy": "delete-insert"}
    hints = dlt.mark.make_hints(
        table_name=table,
        write_disposition=disposition,
        primary_key=primary_key,
        merge_key=merge_key,  # type: ignore[arg-type]
        columns=columns or {},
    )
    return dlt.mark.with_hints(rows, hints, create_table_variant=True)


class Rejected(ValueError):
    """Raised by a record parser: the record is malformed for the given reason."""


@dataclass
class BatchLedger:
    """Counts one resource's records in one batch and keeps its rejects."""

    resource: str
    batch: str
    extracted_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    received: int = 0
    loaded: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)
    _started: float = field(default_factory=time.perf_counter)

    def accept(self) -> None:
        self.received += 1
        self.loaded += 1

    def accept_many(self, count: int) -> None:
        """A page of `count` good records (Arrow sources count pages, not rows)."""
        self.received += count
        self.loaded += count

    def reject(self, payload: Any, reason: str, context: str | None = None) -> None:
        self.received += 1
        self._reject(payload, reason, context)

    def demote(self, payload: Any, reason: str, context: str | None = None) -> None:
        """A record accepted earlier is rejected after all (a check only the database can
        make, at write time): loaded one fewer, rejected one more, received unchanged."""
        self.loaded -= 1
        self._reject(payload, reason, context)

    def _reject(self, payload: Any, reason: str, context: str | None) -> None:
        try:
            text = json.dumps(payload, sort_keys=True, default=str)
        except (TypeError, ValueError):
            text = repr(payload)
        self.rejects.append(
            {
                "resource": self.resource,
                "batch": self.batch,
                "reason": reason,
                "payload": text,
                "context": context,
                "extracted_at": self.extracted_at,
            }
        )

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    def summary_row(self) -> dict[str, Any]:
        """This batch's `_loads` row."""
        return {
            "resource": self.resource,
            "batch": self.batch,
            "received": self.received,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "extract_seconds": round(time.perf_counter() - self._started, 3),
            "extracted_at": self.extracted_at,
        }

    def summary_items(self) -> Iterator[Any]:
        """The rejects and the one `_loads` row, dispatched to their own tables."""
        if self.rejects:
            yield dlt.mark.with_hints(
                self.rejects, _hints(REJECTS_TABLE, _REJECT_COLUMNS), create_table_variant=True
            )
        yield dlt.mark.with_hints(
            [self.summary_row()], _hints(LOADS_TABLE, _LOAD_COLUMNS), create_table_variant=True
        )
