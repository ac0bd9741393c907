"""BigQuery as the warehouse: the lake's OLTP export loaded into dataset `lake` (the client is
`extract/runtime/bigquery.py`).

dbt_dwh reads the lake from tables on BigQuery, as it does on Postgres, but a BigQuery load
costs per byte and per job, so the files are loaded incrementally: each lake file once, in one
load job per table and run, every row stamped with the file it came from (`_lake_file`). The
ledger `lake._lake_files` records each file as `loading` before its job and `loaded` after; a
file the lake no longer has (a full-refresh export replaced it) has its rows deleted and is
recorded `removed`. A run that died between a load job and the ledger finds the file
`loading`, asks the table whether that file's rows are there (a load job is atomic: all of
them or none), and loads it only if they are not, so a re-run never loads a file twice.

The files are streamed through the client (`load_table_from_file`), one Parquet file per job
written with the destination's columns in the destination's order: the BigQuery API matches a
Parquet file's columns by name, the local emulator by position, and this way both agree. A
`gs://` lake is not streamed: each file is loaded from its URI into a scratch table and appended
with its stamp in one INSERT.

Not dlt's BigQuery destination: it takes no API endpoint (the local emulator cannot be
reached), and it keeps its own state and `_dlt_*` tables beside data that dlt already wrote.
"""

from __future__ import annotations

import io
import posixpath
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from extract.lake import files as lake_mod
from extract.runtime.bigquery import client
from extract.settings import Settings
from extract.warehouse.load import EXPORT_FOLDER, LAKE_SCHEMA, lake_tables

LEDGER = "_lake_files"
FILE_COLUMN = "_lake_file"
LOADING, LOADED, REMOVED = "loading", "loaded", "removed"
_STATE_ORDER = {LOADING: 0, LOADED: 1, REMOVED: 2}


@dataclass
class TableLoad:
    """What one run did to one lake table on BigQuery."""

    table: str
    files: int = 0  # files loaded by this run
    rows: int = 0
    recovered: int = 0  # files a killed run had loaded, found in the table and recorded
    removed: int = 0  # files gone from the lake whose rows were deleted
    seconds: float = 0.0
    files_loaded: list[str] = field(default_factory=list)


def _bq_type(arrow_type: pa.DataType) -> str:
    """The BigQuery column type of an Arrow type (dictionary columns by their values)."""
    if pa.types.is_dictionary(arrow_type):
        return _bq_type(arrow_type.value_type)
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "STRING"
    if pa.types.is_null(arrow_type):
        return "STRING"
    if pa.types.is_integer(arrow_type):
        return "INT64"
    if pa.types.is_floating(arrow_type):
        return "FLOAT64"
    if pa.types.is_boolean(arrow_type):
        return "BOOL"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP" if arrow_type.tz else "DATETIME"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_time(arrow_type):
        return "TIME"
    if pa.types.is_decimal(arrow_type):
        fits = arrow_type.precision - arrow_type.scale <= 29 and arrow_type.scale <= 9
        return "NUMERIC" if fits else "BIGNUMERIC"
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return "BYTES"
    raise ValueError(f"no BigQuery type for the lake's Arrow type {arrow_type}")


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded and all-null columns typed as strings: what a Parquet load
    with an explicit schema accepts."""
    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        elif pa.types.is_null(column.type):
            column = column.cast(pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


class BigQueryLake:
    """The `lake` dataset of one project: its tables, and the ledger of the files they hold."""

    def __init__(self, settings: Settings, bq: Any = None) -> None:
        from google.cloud import bigquery

        self.settings = settings
        self.bq = bq or client(settings)
        self.dataset = f"{settings.bq_project}.{LAKE_SCHEMA}"
        self.bigquery = bigquery

    def _ref(self, table: str) -> str:
        return f"{self.dataset}.{table}"

    def _query(self, sql: str, **params: Any) -> list[Any]:
        bq = self.bigquery
        bound = []
        for name, value in params.items():
            if isinstance(value, list):
                kind = "INT64" if value and isinstance(value[0], int) else "STRING"
                bound.append(bq.ArrayQueryParameter(name, kind, value))
            elif isinstance(value, int):
                bound.append(bq.ScalarQueryParameter(name, "INT64", value))
            else:
                bound.append(bq.ScalarQueryParameter(name, "STRING", value))
        job = self.bq.query(sql, job_config=bq.QueryJobConfig(query_parameters=bound))
        return list(job.result())

    def ensure(self) -> None:
        """The dataset and the ledger, created when missing."""
        bq = self.bigquery
        dataset = bq.Dataset(self.dataset)
        dataset.location = self.settings.bq_location
        self.bq.create_dataset(dataset, exists_ok=True)
        ledger = bq.Table(
            self._ref(LEDGER),
            schema=[
                bq.SchemaField("file", "STRING", mode="REQUIRED"),
                bq.SchemaField("table_name", "STRING", mode="REQUIRED"),
                bq.SchemaField("state", "STRING", mode="REQUIRED"),
                bq.SchemaField("rows", "INT64"),
                bq.SchemaField("recorded_at", "TIMESTAMP", mode="REQUIRED"),
            ],
        )
        self.bq.create_table(ledger, exists_ok=True)

    def ledger(self) -> dict[str, tuple[str, str]]:
        """Each file's latest state: {file: (table, state)}."""
        rows = self._query(
            f"SELECT file, table_name, state, recorded_at FROM `{self._ref(LEDGER)}`"
        )
        latest: dict[str, tuple[Any, int, str, str]] = {}
        for row in rows:
            rank = (row["recorded_at"], _STATE_ORDER[row["state"]])
            seen = latest.get(row["file"])
            if seen is None or rank > seen[:2]:
                latest[row["file"]] = (*rank, row["table_name"], row["state"])
        return {file: (table, state) for file, (_, _, table, state) in latest.items()}

    def record(self, table: str, files: dict[str, int], state: str) -> None:
        """Append one ledger row per file: {file: its row count, or -1 where not counted}."""
        if not files:
            return
        names = list(files)
        self._query(
            f"INSERT INTO `{self._ref(LEDGER)}` (file, table_name, state, rows, recorded_at) "
            "SELECT file, @table, @state, NULLIF(counts[OFFSET(i)], -1), CURRENT_TIMESTAMP() "
            "FROM UNNEST(@files) AS file WITH OFFSET AS i "
            "CROSS JOIN (SELECT @counts AS counts)",
            table=table,
            state=state,
            files=names,
            counts=[files[n] for n in names],
        )

    def table_columns(self, table: str) -> list[Any] | None:
        """The table's schema fields, or None when it does not exist yet."""
        from google.api_core.exceptions import NotFound

        try:
            return list(self.bq.get_table(self._ref(table)).schema)
        except NotFound:
            return None

    def files_present(self, table: str, files: Sequence[str]) -> set[str]:
        """Which of `files` have rows in the table."""
        if not files or self.table_columns(table) is None:
            return set()
        rows = self._query(
            f"SELECT DISTINCT {FILE_COLUMN} AS file FROM `{self._ref(table)}` "
            f"WHERE {FILE_COLUMN} IN UNNEST(@files)",
            files=list(files),
        )
        return {row["file"] for row in rows}

    def delete_files(self, table: str, files: Sequence[str]) -> None:
        if files and self.table_columns(table) is not None:
            self._query(
                f"DELETE FROM `{self._ref(table)}` WHERE {FILE_COLUMN} IN UNNEST(@files)",
                files=list(files),
            )

    def _schema_for(self, table: str, incoming: dict[str, str]) -> list[Any]:
        """The table's columns in its order, then those of `incoming` ({name: type}) it lacks,
        which are added to an existing table first (DDL rather than a load's
        ALLOW_FIELD_ADDITION, which the local emulator does not take)."""
        bq = self.bigquery
        existing = self.table_columns(table)
        schema: list[Any] = list(existing or [])
        known = {column.name for column in schema}
        added = [bq.SchemaField(n, t) for n, t in incoming.items() if n not in known]
        if existing is not None:
            for column in added:
                self._query(
                    f"ALTER TABLE `{self._ref(table)}` "
                    f"ADD COLUMN IF NOT EXISTS {column.name} {column.field_type}"
                )
        return schema + added

    def append(self, table: str, data: pa.Table) -> None:
        """One load job: `data` appended to the table, created on the first load; columns new
        to the table are added at its end, columns the data lacks are loaded as nulls."""
        import pyarrow.parquet as pq

        bq = self.bigquery
        incoming = {name: _bq_type(data.schema.field(name).type) for name in data.column_names}
        schema = self._schema_for(table, incoming)
        for column in schema:
            if column.name not in incoming:
                # a column the lake's files no longer carry: nulls of its type
                data = data.append_column(column.name, pa.nulls(len(data), pa.string()))
        data = _plain(data.select([column.name for column in schema]))
        buffer = io.BytesIO()
        pq.write_table(data, buffer)
        buffer.seek(0)
        config = bq.LoadJobConfig(
            source_format=bq.SourceFormat.PARQUET,
            schema=schema,
            write_disposition=bq.WriteDisposition.WRITE_APPEND,
        )
        self.bq.load_table_from_file(buffer, self._ref(table), job_config=config).result()

    def append_uri(self, table: str, uri: str, name: str, file_schema: pa.Schema) -> int:
        """A `gs://` file appended without passing through this machine: a load job from its URI
        into a scratch table (the file's own columns, in its order), then one INSERT that stamps
        the rows with `name` and appends them (the one step that adds rows, as a load job is in
        `append`). Returns the rows appended."""
        bq = self.bigquery
        incoming = {n: _bq_type(file_schema.field(n).type) for n in file_schema.names}
        scratch = self._ref(f"_incoming_{table}")
        config = bq.LoadJobConfig(
            source_format=bq.SourceFormat.PARQUET,
            schema=[bq.SchemaField(n, t) for n, t in incoming.items()],
            write_disposition=bq.WriteDisposition.WRITE_TRUNCATE,
        )
        self.bq.load_table_from_uri(uri, scratch, job_config=config).result()
        schema = self._schema_for(table, {**incoming, FILE_COLUMN: "STRING"})
        if self.table_columns(table) is None:
            self.bq.create_table(bq.Table(self._ref(table), schema=schema), exists_ok=True)
        columns = [n for n in incoming if n != FILE_COLUMN]
        listed = ", ".join(columns)
        job = self.bq.query(
            f"INSERT INTO `{self._ref(table)}` ({listed}, {FILE_COLUMN}) "
            f"SELECT {listed}, @file FROM `{scratch}`",
            job_config=bq.QueryJobConfig(
                query_parameters=[bq.ScalarQueryParameter("file", "STRING", name)]
            ),
        )
        job.result()
        self.bq.delete_table(scratch, not_found_ok=True)
        return int(job.num_dml_affected_rows or 0)


def _read_files(lake: lake_mod.Lake, paths: Sequence[str], names: Sequence[str]) -> pa.Table:
    """The files' rows, each stamped with its lake path (`_lake_file`), unified by column name
    (a later export may carry a column an earlier one did not)."""
    import pyarrow.parquet as pq

    tables = []
    for path, name in zip(paths, names, strict=True):
        with lake.fs.open(path, "rb") as handle:
            table = _plain(pq.read_table(handle))
        tables.append(table.append_column(FILE_COLUMN, pa.array([name] * len(table), pa.string())))
    return pa.concat_tables(tables, promote_options="permissive")


def _file_schema(lake: lake_mod.Lake, path: str) -> pa.Schema:
    """A Parquet file's schema, from its footer alone."""
    import pyarrow.parquet as pq

    with lake.fs.open(path, "rb") as handle:
        return pq.read_schema(handle)


def load_lake_to_bigquery(
    settings: Settings,
    *,
    tables: Sequence[str] | None = None,
    say: Callable[[str], None] | None = None,
    after_load: Callable[[str], None] | None = None,
) -> dict[str, TableLoad]:
    """Bring dataset `lake` up to the lake's exported files: load the new ones, delete the rows
    of the vanished ones. Returns what happened per table. `after_load(table)` runs between a
    table's load job and its ledger write (where a killed run is tested)."""
    lake = lake_mod.open_lake(settings)
    target = BigQueryLake(settings)
    target.ensure()
    ledger = target.ledger()
    results: dict[str, TableLoad] = {}
    for table in tables or lake_tables(settings):
        started = time.monotonic()
        result = results[table] = TableLoad(table)
        paths = lake_mod.list_files(lake, posixpath.join(EXPORT_FOLDER, table))
        names = {posixpath.relpath(path, lake.root): path for path in paths}
        states = {f: s for f, (t, s) in ledger.items() if t == table}

        # a file left `loading` by a killed run may hold rows too: gone from the lake, its
        # rows go with it (deleting none is harmless)
        gone = [f for f, s in states.items() if s in (LOADED, LOADING) and f not in names]
        if gone:
            target.delete_files(table, gone)
            target.record(table, dict.fromkeys(gone, -1), REMOVED)
            result.removed = len(gone)

        in_doubt = [f for f in names if states.get(f) == LOADING]
        found = target.files_present(table, in_doubt)
        if found:
            target.record(table, dict.fromkeys(found, -1), LOADED)
            result.recovered = len(found)

        new = [f for f in names if states.get(f) not in (LOADED, REMOVED) and f not in found]
        if new:
            if say:
                say(f"bigquery: loading {len(new)} file(s) of lake.{table}")
            target.record(table, dict.fromkeys(new, -1), LOADING)
            if lake.url.startswith("gs://"):
                counts = {
                    f: target.append_uri(table, f"gs://{names[f]}", f, _file_schema(lake, names[f]))
                    for f in new
                }
            else:
                data = _read_files(lake, [names[f] for f in new], new)
                counts = dict.fromkeys(new, 0)
                for name in data.column(FILE_COLUMN).to_pylist():
                    counts[name] += 1
                target.append(table, data)
            if after_load:
                after_load(table)
            target.record(table, counts, LOADED)
            result.files, result.rows, result.files_loaded = len(new), sum(counts.values()), new
        result.seconds = time.monotonic() - started
    return results
