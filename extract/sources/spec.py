"""What the runner (extract/pipelines.py) knows of a source: its layout, and the hooks through
which it builds its dlt source and names its batches. The registry (extract/sources/registry.py)
declares each source's spec, its build hook giving the source's dlt function its configuration
from the settings; the runner never asks a source's name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from extract.settings import Settings


@dataclass
class TableResult:
    dataset: str
    table: str
    rows: int
    seconds: float
    lake_files: list[str] = field(default_factory=list)
    # Every resource merges (delete-insert): of the rows written, `updated` replaced rows that
    # were there before the load (a re-run of a day) and `inserted` are new.
    inserted: int = 0
    updated: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class SourceRun:
    source: str
    batch: str
    seconds: float
    tables: list[TableResult]
    ledger: list[dict[str, Any]]  # the `_loads` rows of this batch: received/loaded/rejected
    load_ids: list[str]
    load: dict[str, Any] = field(default_factory=dict)  # a source's own load metadata row


Options = Mapping[str, Any]
Say = Callable[[str], None]


# (spec, settings, options, batch, to_lake, say) -> the run, or None to load through dlt
LoadInstead = Callable[["SourceSpec", Settings, Options, str, bool, Say], "SourceRun | None"]


def _no_options(_settings: Settings, options: Options | None) -> dict[str, Any]:
    return dict(options or {})


@dataclass(frozen=True)
class SourceSpec:
    """How one source is named, batched and laid out in Postgres and the lake, and its hooks."""

    name: str
    dataset: str
    resources: tuple[str, ...]
    # the dlt source of one load: (settings, the days of a daily source or [], options); the
    # hook reads the source's configuration from the settings, the dlt source takes it as values
    build: Callable[[Settings, list[date], Options], Any]
    # a daily source's batch is its day; any other's is named by this (from the options)
    batch: Callable[[Options], str] | None = None
    partition_column: str | None = None  # lake partition folder `<column>=<batch>`
    # indexes the models downstream need on the raw tables: {table: (columns, ...)}
    indexes: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    # the options a load runs with, resolved from what the caller gave (defaults, watermarks)
    resolve_options: Callable[[Settings, Options | None], dict[str, Any]] = _no_options
    # a load that does not go through dlt (Socrata's upsert of changed rows): its SourceRun, or
    # None to load through dlt as usual
    load_instead: LoadInstead | None = None
    # dlt configuration for this source's loads, and the file format its pages go to Postgres in
    dlt_config: Mapping[str, Any] = field(default_factory=dict)
    loader_file_format: str | None = None
    # the source counts its own inserts and updates (no table counts before and after)
    counts_updates: bool = False
    # after the load and its lake copy: (settings, options, the run, say)
    after_load: Callable[[Settings, Options, SourceRun, Say], None] | None = None

    @property
    def daily(self) -> bool:
        return self.batch is None

    def batch_of(self, day: date | None, options: Options) -> str:
        if self.batch is not None:
            return self.batch(options)
        if day is None:
            raise ValueError(f"the {self.name} source needs a survey day")
        return day.isoformat()
