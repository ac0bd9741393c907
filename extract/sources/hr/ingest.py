"""Ingest HR rows into `raw_hr`: one code path for whole files (the CLI, the drop-folder sensor)
and for API batches of 1 to 1,000 rows (`gourmand serve`).

A batch is streamed into a temp table in chunks (COPY, never row-by-row INSERTs, memory flat
whatever the file's size), together with the rules each line broke on its own
(`extract.sources.hr.rules`). The rules that need the whole batch or the database run in SQL: a
duplicate id (the first clean line with an id keeps it), an employee's unknown department or
job (looked up in `raw_hr.departments` / `raw_hr.jobs`). Then, in one transaction: rejects
into `raw_hr._rejects` with every reason, clean rows upserted on the id, one `_loads` row.

Which export wins is decided by what each export says of itself, not by when it arrives: a
batch is stamped with its export time (`extract.sources.hr.stamps`: the date in a file's name,
else the file's modification time; an API batch, the moment it is received), and every row
keeps the stamp of the newest export that stated it (`_exported_at`). A row from an older
export than the one a row holds is not applied ("superseded"): an older export dropped after a
newer one changes nothing the newer one stated, and exports dropped in any order leave what
dropping them in order leaves. Rows only the older export has are still added (an export is
not a list of deletions). Two exports with the same stamp: the one ingested later wins, which is
how a fixed file dropped again under its name replaces the broken one.

Re-sending a batch is idempotent: its id is a hash of its content, its rejects and `_loads` row
are replaced, and rows whose content did not change are not rewritten (counted "unchanged"; a
newer export stating the same content only moves the row's `_exported_at`). Same id with
different content from an export at least as new: the row is updated in place and its
`_loaded_at` moves, which is what the OLTP model's incremental build picks up.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from extract.runtime.postgres import connect
from extract.settings import Settings
from extract.sources.hr.rules import (
    DATASET,
    TABLES,
    HrTable,
    ParsedRow,
    hr_table,
    parse_csv_lines,
)
from extract.sources.hr.stamps import StampError, export_stamp

REJECTS = f"{DATASET}._rejects"
LOADS = f"{DATASET}._loads"
FILES = f"{DATASET}._files"
_CHUNK = 20_000  # rows per COPY into the temp table
_SQL_TYPES = {"integer": "integer", "string": "text", "timestamp": "timestamptz"}
REJECT_SAMPLE = 1_000  # rejects returned to the caller (all of them for an API batch)


class IngestError(RuntimeError):
    """The batch as a whole cannot be ingested (unreadable file, no row with the right shape)."""


@dataclass
class IngestResult:
    table: str
    batch: str
    context: str = ""  # where the batch came from: the file's path, or "api"
    received: int = 0
    loaded: int = 0
    rejected: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0  # not rewritten: the same content, or superseded
    superseded: int = 0  # of the unchanged: rows a newer export already stated
    exported_at: datetime | None = None  # what the batch says of itself (stamps.py)
    seconds: float = 0.0
    # (line number, reasons joined by "; "), in line order, at most REJECT_SAMPLE of them
    rejects: list[tuple[int, str]] = field(default_factory=list)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "batch": self.batch,
            "received": self.received,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "superseded": self.superseded,
            "exported_at": self.exported_at.isoformat() if self.exported_at else None,
            "seconds": round(self.seconds, 3),
        }


def _ddl(table: HrTable) -> str:
    columns = ", ".join(
        f"{f.name} {_SQL_TYPES[f.type]} NOT NULL"
        + (" PRIMARY KEY" if f.name == table.id_field else "")
        for f in table.fields
    )
    return (
        f"CREATE TABLE IF NOT EXISTS {DATASET}.{table.name} ({columns}, "
        "_batch text NOT NULL, _loaded_at timestamptz NOT NULL, _exported_at timestamptz NOT NULL)"
    )


def ensure_tables(cur: Any) -> None:
    """raw_hr's tables, created once (under a lock: two first ingests at once would race)."""
    cur.execute("SELECT pg_advisory_xact_lock(hashtext('raw_hr ddl'))")
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {DATASET}")
    for table in TABLES.values():
        cur.execute(_ddl(table))
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {REJECTS} (resource text NOT NULL, batch text NOT NULL, "
        "line_number bigint NOT NULL, reason text NOT NULL, payload text NOT NULL, "
        "context text, extracted_at timestamptz NOT NULL)"
    )
    cur.execute(f"CREATE INDEX IF NOT EXISTS _rejects_batch ON {REJECTS} (resource, batch)")
    # which drop-folder files were ingested (extract/sources/hr/drops.py)
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {FILES} (name text NOT NULL, size bigint NOT NULL, "
        "mtime_ns bigint NOT NULL, resource text NOT NULL, batch text NOT NULL, "
        "ingested_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (name, size, mtime_ns))"
    )
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {LOADS} (resource text NOT NULL, batch text NOT NULL, "
        "context text, received bigint NOT NULL, loaded bigint NOT NULL, "
        "rejected bigint NOT NULL, inserted bigint NOT NULL, updated bigint NOT NULL, "
        "unchanged bigint NOT NULL, seconds double precision NOT NULL, "
        "extracted_at timestamptz NOT NULL, superseded bigint NOT NULL DEFAULT 0, "
        "exported_at timestamptz, PRIMARY KEY (resource, batch))"
    )
    _add_export_stamps(cur)


def _add_export_stamps(cur: Any) -> None:
    """Tables made before exports were stamped get the columns once: a row already held counts
    as exported when it was loaded (the best it ever said of itself)."""
    cur.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = %s AND column_name IN ('_exported_at', 'superseded')",
        (DATASET,),
    )
    present = {(str(t), str(c)) for t, c in cur.fetchall()}
    for table in TABLES.values():
        if (table.name, "_exported_at") not in present:
            target = f"{DATASET}.{table.name}"
            cur.execute(f"ALTER TABLE {target} ADD COLUMN _exported_at timestamptz")
            cur.execute(f"UPDATE {target} SET _exported_at = _loaded_at")
            cur.execute(f"ALTER TABLE {target} ALTER COLUMN _exported_at SET NOT NULL")
    if ("_loads", "superseded") not in present:
        cur.execute(
            f"ALTER TABLE {LOADS} ADD COLUMN superseded bigint NOT NULL DEFAULT 0, "
            "ADD COLUMN exported_at timestamptz"
        )


def create_tables(settings: Settings) -> None:
    """The empty raw_hr tables (so the chain builds before the first drop arrives)."""
    conn = connect(settings)
    try:
        with conn.cursor() as cur:
            ensure_tables(cur)
        conn.commit()
    finally:
        conn.close()


def _copy_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class _Batch:
    """Rows streamed into the temp table `incoming`, with the hash that names the batch."""

    def __init__(self, cur: Any, table: HrTable) -> None:
        self.cur = cur
        self.table = table
        self.digest = hashlib.sha256(table.name.encode())
        self.received = 0
        self.misshapen = 0  # rows with the wrong number of fields
        typed = ", ".join(f"{f.name} {_SQL_TYPES[f.type]}" for f in table.fields)
        cur.execute(
            "CREATE TEMP TABLE incoming (line_number bigint NOT NULL, raw_line text NOT NULL, "
            f"reasons text NOT NULL, {typed}) ON COMMIT DROP"
        )
        self._columns = ["line_number", "raw_line", "reasons", *table.field_names]

    def write(self, rows: Iterable[ParsedRow]) -> None:
        buffer = io.StringIO()
        # csv.writer quotes a field only for the line terminator's characters: with "\r\n"
        # a value holding a lone carriage return is quoted too (COPY refuses it unquoted)
        writer = csv.writer(buffer, lineterminator="\r\n")
        pending = 0
        for row in rows:
            self.received += 1
            self.digest.update(row.raw.encode() + b"\n")
            # not only the first reason: "not UTF-8 text" or a NUL goes before the count
            if any(reason.startswith("expected ") for reason in row.reasons):
                self.misshapen += 1
            writer.writerow(
                [row.line_number, row.raw, "; ".join(row.reasons)]
                + [_copy_text(v) for v in row.values]
            )
            pending += 1
            if pending == _CHUNK:
                self._flush(buffer)
                buffer = io.StringIO()
                writer = csv.writer(buffer, lineterminator="\r\n")
                pending = 0
        if pending:
            self._flush(buffer)

    def _flush(self, buffer: io.StringIO) -> None:
        buffer.seek(0)
        # CSV's empty unquoted field is NULL; reasons and raw_line are quoted by csv.writer
        # when empty, so an empty reasons string stays '' (not NULL)
        self.cur.copy_expert(
            f"COPY incoming ({', '.join(self._columns)}) FROM STDIN WITH (FORMAT csv, "
            "FORCE_NOT_NULL (raw_line, reasons))",
            buffer,
        )


def _add_reason(cur: Any, condition_sql: str, reason_sql: str) -> None:
    # no parameters: format()'s %s placeholders must reach Postgres untouched
    cur.execute(
        "UPDATE incoming AS i SET reasons = concat_ws('; ', nullif(i.reasons, ''), "
        f"{reason_sql}) {condition_sql}"
    )


def _database_rules(cur: Any, table: HrTable) -> None:
    """The rules a line cannot check alone: duplicate ids, unknown references."""
    for column, referenced in table.references:
        parent = TABLES[referenced]
        _add_reason(
            cur,
            f"WHERE i.{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
            f"{DATASET}.{parent.name} AS p WHERE p.{parent.id_field} = i.{column})",
            f"format('unknown {column} %s', i.{column})",
        )
    key = table.id_field
    # the first line without other faults keeps a repeated id (else the first line with it);
    # last, so that a line with an unknown reference counts as faulty here
    _add_reason(
        cur,
        f"""FROM (
            SELECT {key} AS id, coalesce(min(line_number) FILTER (WHERE reasons = ''),
                                         min(line_number)) AS keeper
            FROM incoming WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1
        ) AS d WHERE i.{key} = d.id AND i.line_number <> d.keeper""",
        f"format('duplicate {key} %s (line %s has it)', i.{key}, d.keeper)",
    )


def _superseded(cur: Any, table: HrTable, exported_at: datetime) -> int:
    """Clean rows whose id a newer export already stated: they will not be applied."""
    key = table.id_field
    cur.execute(
        f"SELECT count(*) FROM incoming AS i JOIN {DATASET}.{table.name} AS held "
        f"ON held.{key} = i.{key} WHERE i.reasons = '' AND held._exported_at > %s",
        (exported_at,),
    )
    return int(cur.fetchone()[0])


def _upsert(cur: Any, table: HrTable, batch: str, exported_at: datetime) -> tuple[int, int]:
    names = table.field_names
    columns = ", ".join(names)
    target = f"{DATASET}.{table.name}"
    content = ", ".join(f"{c} = EXCLUDED.{c}" for c in names[1:])
    changed = (
        f"({', '.join(f'held.{c}' for c in names[1:])}) "
        f"IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in names[1:])})"
    )
    cur.execute(
        f"""
        WITH written AS (
            INSERT INTO {target} AS held ({columns}, _batch, _loaded_at, _exported_at)
            SELECT {columns}, %(batch)s, now(), %(exported_at)s FROM incoming WHERE reasons = ''
            ON CONFLICT ({table.id_field}) DO UPDATE SET {content},
                _batch = CASE WHEN {changed} THEN EXCLUDED._batch ELSE held._batch END,
                _loaded_at = CASE WHEN {changed} THEN EXCLUDED._loaded_at ELSE held._loaded_at END,
                _exported_at = EXCLUDED._exported_at
            -- an older export than the one the row holds changes nothing; the same content
            -- from a newer one is no new version (no new _loaded_at), only a newer stamp
            WHERE EXCLUDED._exported_at >= held._exported_at
                AND ({changed} OR EXCLUDED._exported_at > held._exported_at)
            -- a row this statement wrote has this transaction's now() as _loaded_at
            RETURNING (xmax = 0) AS fresh, _loaded_at = now() AS rewritten
        )
        SELECT count(*) FILTER (WHERE fresh), count(*) FILTER (WHERE rewritten AND NOT fresh)
        FROM written
        """,
        {"batch": batch, "exported_at": exported_at},
    )
    inserted, updated = cur.fetchone()
    return int(inserted), int(updated)


def ingest(
    settings: Settings,
    table_name: str,
    rows: Iterable[ParsedRow],
    *,
    context: str,
    batch_prefix: str,
    refuse_if_misshapen: bool = True,
    exported_at: datetime | None = None,
) -> IngestResult:
    """Validate and write one batch; everything commits together or not at all. `exported_at`
    is what the batch says of its own time (None: now, as an API batch is)."""
    table = hr_table(table_name)
    started = time.perf_counter()
    conn = connect(settings)
    try:
        with conn.cursor() as cur:
            ensure_tables(cur)
            # one writer per table at a time: concurrent batches would judge duplicates and
            # references against each other's half-written state
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"raw_hr.{table.name}",))
            cur.execute("SELECT coalesce(%s::timestamptz, now())", (exported_at,))
            stamp = cur.fetchone()[0]
            incoming = _Batch(cur, table)
            incoming.write(rows)
            if incoming.received == 0:
                raise IngestError(f"no rows: the {table.name} batch is empty")
            if refuse_if_misshapen and incoming.misshapen == incoming.received:
                raise IngestError(
                    f"no row has the {len(table.fields)} fields of {table.name} "
                    f"({', '.join(table.field_names)}): wrong file or wrong table?"
                )
            batch = f"{batch_prefix}:{incoming.digest.hexdigest()[:16]}"
            _database_rules(cur, table)
            key = (table.name, batch)
            cur.execute(f"DELETE FROM {REJECTS} WHERE resource = %s AND batch = %s", key)
            cur.execute(
                f"INSERT INTO {REJECTS} (resource, batch, line_number, reason, payload, context, "
                "extracted_at) SELECT %s, %s, line_number, reasons, raw_line, %s, now() "
                "FROM incoming WHERE reasons <> ''",
                (*key, context),
            )
            rejected = cur.rowcount
            cur.execute(
                "SELECT line_number, reasons FROM incoming WHERE reasons <> '' "
                f"ORDER BY line_number LIMIT {REJECT_SAMPLE}"
            )
            sample = [(int(n), str(r)) for n, r in cur.fetchall()]
            superseded = _superseded(cur, table, stamp)
            inserted, updated = _upsert(cur, table, batch, stamp)
            loaded = incoming.received - rejected
            result = IngestResult(
                table=table.name,
                batch=batch,
                context=context,
                received=incoming.received,
                loaded=loaded,
                rejected=rejected,
                inserted=inserted,
                updated=updated,
                unchanged=loaded - inserted - updated,
                superseded=superseded,
                exported_at=stamp,
                rejects=sample,
            )
            result.seconds = time.perf_counter() - started
            cur.execute(f"DELETE FROM {LOADS} WHERE resource = %s AND batch = %s", key)
            cur.execute(
                f"INSERT INTO {LOADS} (resource, batch, context, received, loaded, rejected, "
                "inserted, updated, unchanged, superseded, seconds, exported_at, extracted_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())",
                (
                    *key, context, result.received, result.loaded, result.rejected,
                    result.inserted, result.updated, result.unchanged, result.superseded,
                    result.seconds, stamp,
                ),
            )  # fmt: skip
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
    return result


def _file_rows(table: HrTable, path: Path) -> Iterator[ParsedRow]:
    """The rows of a file, read as a stream; a line that is not UTF-8 becomes a row that the
    dictionary rejects (its bytes shown escaped) instead of failing the whole file."""
    undecodable: set[int] = set()

    def lines() -> Iterator[str]:
        with path.open("rb") as fh:
            for number, data in enumerate(fh, start=1):
                try:
                    yield data.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError:
                    undecodable.add(number)
                    yield data.decode("utf-8", errors="backslashreplace")

    for row in parse_csv_lines(table, lines()):
        if row.line_number in undecodable:
            row.reasons.insert(0, "not UTF-8 text")
        yield row


def ingest_file(settings: Settings, table_name: str, path: Path) -> IngestResult:
    """One header-less CSV export of any size, stamped with what it says of its own time (the
    date in its name, else its modification time: extract.sources.hr.stamps)."""
    table = hr_table(table_name)
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"cannot read {path}: no such file")
    try:
        stamp = export_stamp(path)
    except StampError as exc:
        raise IngestError(f"cannot tell when {path} was exported: {exc}") from exc
    try:
        return ingest(
            settings, table.name, _file_rows(table, path), context=str(path),
            batch_prefix=f"file:{path.name}", exported_at=stamp,
        )  # fmt: skip
    except OSError as exc:
        raise IngestError(f"cannot read {path}: {exc}") from exc


def parse_json_body(body: bytes) -> list[Any]:
    """An API body: a JSON array of objects (ValueError with a clear message otherwise)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"malformed JSON: {exc}") from exc
    except RecursionError as exc:
        # the parser's depth limit (the interpreter's recursion limit): rows are flat objects
        raise ValueError("malformed JSON: nested too deeply for an array of row objects") from exc
    if not isinstance(data, list):
        raise ValueError("the body must be a JSON array of row objects")
    try:
        # JSON may escape a lone UTF-16 surrogate ("\ud800"), which is no Unicode character:
        # no database stores it, nor the rejects table; the body is refused, saying why
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError as exc:
        raise ValueError(
            "malformed JSON: a string holds a lone surrogate escape (such as \\ud800), which "
            "is not Unicode text"
        ) from exc
    except RecursionError as exc:
        raise ValueError("malformed JSON: nested too deeply for an array of row objects") from exc
    return data
