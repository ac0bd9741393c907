"""Backup of any Postgres table to Avro in the lake, and its restore in one transaction.

`backup` streams the table through a server-side cursor into an Avro container file (schema
embedded, deflate-compressed) at `<lake>/backups/<schema.table>/<UTC timestamp>.avro`; earlier
backups stay. Every Avro field records its Postgres type (`pg_type`), so a restore can check the
file still fits the table. Types map to Avro's own where one exists (int, long, float, double,
boolean, bytes, string; decimal, date, timestamp-micros for timestamptz,
local-timestamp-micros for timestamp, time-micros, uuid); the rest (json, intervals, arrays,
unconstrained numeric, ...) travel as their exact Postgres text form, and so does a column that
holds a value its Avro type cannot carry (infinity, a BC date, 24:00, NaN). Nullable columns are
`["null", T]` unions, so nulls and empty strings stay apart.

`restore` reads the file into a temp table, then replaces the table's rows in the same
transaction: a restore that fails or is killed midway leaves the table as it was. Tables with
a primary key are restored by upsert plus delete of the keys the backup lacks, so foreign keys
that point at rows present in both stay valid during the swap.
"""

from __future__ import annotations

import io
import posixpath
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dtime
from decimal import Decimal
from typing import Any

from extract.lake.files import Lake, open_lake
from extract.runtime.postgres import connect
from extract.settings import Settings

BACKUPS = "backups"
_BATCH = 10_000  # rows fetched per round trip and COPYed per chunk


class BackupError(RuntimeError):
    """The table, the backup or their fit is wrong; nothing was changed."""


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str  # format_type(): "numeric(10,2)", "timestamp with time zone", ...
    base: str  # pg_type.typname: int4, numeric, timestamptz, ...
    not_null: bool
    as_text: bool  # travels as its Postgres text form

    def avro_type(self) -> Any:
        avro: Any
        simple = {
            "int2": "int", "int4": "int", "int8": "long", "float4": "float",
            "float8": "double", "bool": "boolean", "bytea": "bytes", "text": "string",
            "varchar": "string", "bpchar": "string", "name": "string",
        }  # fmt: skip
        if self.as_text:
            avro = "string"
        elif self.base in simple:
            avro = simple[self.base]
        elif self.base == "numeric":
            precision, scale = _numeric_typmod(self.pg_type)
            avro = {"type": "bytes", "logicalType": "decimal", "precision": precision,
                    "scale": scale}  # fmt: skip
        elif self.base == "date":
            avro = {"type": "int", "logicalType": "date"}
        elif self.base == "timestamptz":
            avro = {"type": "long", "logicalType": "timestamp-micros"}
        elif self.base == "timestamp":
            avro = {"type": "long", "logicalType": "local-timestamp-micros"}
        elif self.base == "time":
            avro = {"type": "long", "logicalType": "time-micros"}
        elif self.base == "uuid":
            avro = {"type": "string", "logicalType": "uuid"}
        else:  # pragma: no cover - as_text covers every other type
            raise AssertionError(self.base)
        return avro if self.not_null else ["null", avro]


_NATIVE = {
    "int2", "int4", "int8", "float4", "float8", "bool", "bytea", "text", "varchar", "bpchar",
    "name", "date", "timestamptz", "timestamp", "time", "uuid",
}  # fmt: skip


def _numeric_typmod(pg_type: str) -> tuple[int, int]:
    inside = pg_type[pg_type.index("(") + 1 : pg_type.index(")")]
    precision, _, scale = inside.partition(",")
    return int(precision), int(scale or 0)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _split(qualified: str) -> tuple[str, str]:
    schema, dot, table = qualified.partition(".")
    if not dot or not schema or not table:
        raise BackupError(f"name the table as schema.table, got {qualified!r}")
    return schema, table


def _relation(schema: str, table: str) -> str:
    return f"{_quote_ident(schema)}.{_quote_ident(table)}"


def _columns(cur: Any, schema: str, table: str) -> list[Column]:
    cur.execute("SELECT to_regclass(%s)", (_relation(schema, table),))
    if cur.fetchone()[0] is None:
        raise BackupError(f"no table {schema}.{table}")
    cur.execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname, a.attnotnull
        FROM pg_attribute AS a JOIN pg_type AS t ON t.oid = a.atttypid
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
            AND a.attgenerated = ''
        ORDER BY a.attnum
        """,
        (_relation(schema, table),),
    )
    columns = []
    for name, pg_type, base, not_null in cur.fetchall():
        if base == "numeric":
            # numeric without precision, or with a scale Avro's decimal refuses (negative or
            # above the precision, which Postgres 15 allows), has no Avro decimal shape
            precision, scale = _numeric_typmod(pg_type) if "(" in pg_type else (0, -1)
            as_text = not 0 <= scale <= precision
        else:
            as_text = base not in _NATIVE
        columns.append(Column(name, pg_type, base, bool(not_null), as_text))
    return columns


# Values a native Avro type cannot carry: psycopg2 turns infinite dates and timestamps into
# date.max / datetime.min (a silent change), Python's dates stop at years 1..9999, its times at
# 23:59:59.999999 (Postgres has 24:00), Avro's decimal has no NaN. The session is in UTC.
_UNREPRESENTABLE = {
    "date": "NOT isfinite({c}) OR {c} < '0001-01-01' OR {c} > '9999-12-31'",
    "timestamp": "NOT isfinite({c}) OR {c} < '0001-01-01' OR {c} >= '10000-01-01'",
    "timestamptz": "NOT isfinite({c}) OR {c} < '0001-01-01Z' OR {c} >= '10000-01-01Z'",
    "time": "{c} = '24:00'",
    "numeric": "{c} = 'NaN'",
}


def _survey(cur: Any, relation: str, columns: list[Column]) -> tuple[int, list[Column]]:
    """The table's row count (the restore checks it got them all) and its columns, those
    holding a value their Avro type cannot carry switched to text: one scan, in the backup's
    snapshot."""
    candidates = [c for c in columns if not c.as_text and c.base in _UNREPRESENTABLE]
    checks = "".join(
        ", coalesce(bool_or("
        + _UNREPRESENTABLE[c.base].format(c=_quote_ident(c.name))
        + "), false)"
        for c in candidates
    )
    cur.execute(f"SELECT count(*){checks} FROM {relation}")
    count, *found = cur.fetchone()
    switch = {c.name for c, hit in zip(candidates, found, strict=True) if hit}
    return int(count), [
        Column(c.name, c.pg_type, c.base, c.not_null, True) if c.name in switch else c
        for c in columns
    ]


def _schema(qualified: str, columns: list[Column]) -> dict[str, Any]:
    return {
        "type": "record",
        "name": "row",
        "namespace": "gourmand.backup",
        "doc": f"rows of {qualified}",
        "fields": [{"name": c.name, "type": c.avro_type(), "pg_type": c.pg_type} for c in columns],
    }


@dataclass(frozen=True)
class BackupResult:
    table: str
    url: str
    rows: int
    seconds: float


def _folder(lake: Lake, qualified: str) -> str:
    return lake.path(BACKUPS, qualified)


def backup(settings: Settings, qualified: str) -> BackupResult:
    """Write the table's rows to a new Avro file in the lake (earlier backups stay)."""
    import fastavro

    schema_name, table = _split(qualified)
    started = time.perf_counter()
    lake = open_lake(settings)
    conn = connect(settings, read_only=True)
    # one snapshot for the whole read (a consistent backup of a table being written)
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    rows = 0
    try:
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            columns = _columns(cur, schema_name, table)
            expected_rows, columns = _survey(cur, _relation(schema_name, table), columns)
        select = ", ".join(
            f"{_quote_ident(c.name)}::text" if c.as_text else _quote_ident(c.name) for c in columns
        )
        names = [c.name for c in columns]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        folder = _folder(lake, qualified)
        lake.fs.makedirs(folder, exist_ok=True)
        final = posixpath.join(folder, f"{stamp}.avro")
        tmp = posixpath.join(folder, f".{stamp}.avro.tmp")

        def records() -> Iterator[dict[str, Any]]:
            nonlocal rows
            with conn.cursor(name="gourmand_backup") as server_side:
                server_side.itersize = _BATCH
                server_side.execute(f"SELECT {select} FROM {_relation(schema_name, table)}")
                for values in server_side:
                    rows += 1
                    yield {
                        n: bytes(v) if isinstance(v, memoryview) else v
                        for n, v in zip(names, values, strict=True)
                    }

        with lake.fs.open(tmp, "wb") as fh:
            fastavro.writer(
                fh,
                fastavro.parse_schema(_schema(qualified, columns)),
                records(),
                codec="deflate",
                sync_interval=1024 * 1024,
                metadata={
                    "gourmand.table": qualified,
                    "gourmand.created_at": stamp,
                    # Avro files have no end marker: a file cut after a block reads as complete
                    "gourmand.rows": str(expected_rows),
                },
            )
        lake.fs.mv(tmp, final)
    finally:
        conn.close()
    return BackupResult(qualified, lake.display(BACKUPS, qualified, f"{stamp}.avro"), rows,
                        time.perf_counter() - started)  # fmt: skip


def list_backups(settings: Settings, qualified: str) -> list[str]:
    """The table's backups in the lake, oldest first (their names are UTC timestamps)."""
    _split(qualified)
    lake = open_lake(settings)
    folder = _folder(lake, qualified)
    if not lake.fs.exists(folder):
        return []
    return sorted(p for p in lake.fs.ls(folder, detail=False) if p.endswith(".avro")
                  and not posixpath.basename(p).startswith("."))  # fmt: skip


def _copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        text = "t" if value else "f"
    elif isinstance(value, bytes):
        text = "\\x" + value.hex()
    elif isinstance(value, datetime | date | dtime):
        text = value.isoformat()
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, Decimal):
        text = format(value, "f")
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _primary_key(cur: Any, schema_name: str, table: str) -> list[str]:
    cur.execute(
        """
        SELECT a.attname FROM pg_index AS i
        JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = %s::regclass AND i.indisprimary
        ORDER BY array_position(i.indkey, a.attnum)
        """,
        (_relation(schema_name, table),),
    )
    return [r[0] for r in cur.fetchall()]


def _read(reader: Any, shown: str) -> Iterator[Any]:
    """The records of a backup; a damaged file (cut short, bytes changed) is a BackupError."""
    try:
        yield from reader
    except Exception as exc:
        raise BackupError(f"{shown} is damaged: {type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class RestoreResult:
    table: str
    url: str
    rows: int
    seconds: float


def _locate(
    settings: Settings, lake: Lake, qualified: str, file: str | None
) -> tuple[Any, str, str]:
    """The backup to restore as (filesystem, path, name to show): the latest of the table's
    unless `file`, a lake URL, any fsspec URL or a local path."""
    if file is None:
        found = list_backups(settings, qualified)
        if not found:
            raise BackupError(f"no backup of {qualified} under {lake.display(BACKUPS)}")
        return lake.fs, found[-1], lake.display(BACKUPS, qualified, posixpath.basename(found[-1]))
    if file.startswith(lake.url.rstrip("/") + "/"):
        # a URL in the lake (as `backup` prints them): through the lake's endpoint and keys
        return lake.fs, lake.path(file[len(lake.url.rstrip("/")) + 1 :]), file
    if "://" in file:
        from fsspec.core import url_to_fs

        fs, path = url_to_fs(file)
        return fs, path, file
    from fsspec.implementations.local import LocalFileSystem

    return LocalFileSystem(), file, file


def _copy_into_temp(cur: Any, reader: Any, names: list[str], shown: str) -> int:
    """Every record of the backup into the temporary table `restoring`, in COPY batches."""
    column_list = ", ".join(_quote_ident(n) for n in names)
    rows = 0
    buffer = io.StringIO()
    for record in _read(reader, shown):
        buffer.write("\t".join(_copy_text(record[n]) for n in names) + "\n")
        rows += 1
        if rows % _BATCH == 0:
            buffer.seek(0)
            cur.copy_expert(f"COPY restoring ({column_list}) FROM STDIN", buffer)
            buffer = io.StringIO()
    buffer.seek(0)
    cur.copy_expert(f"COPY restoring ({column_list}) FROM STDIN", buffer)
    return rows


def _replace_rows(cur: Any, relation: str, key: list[str], names: list[str]) -> None:
    """The table's rows become `restoring`'s: by primary key (rows kept in place, so foreign
    keys pointing at them hold), or all deleted and inserted when the table has none."""
    column_list = ", ".join(_quote_ident(n) for n in names)
    insert = (
        f"INSERT INTO {relation} ({column_list}) OVERRIDING SYSTEM VALUE "
        f"SELECT {column_list} FROM restoring"
    )
    if not key:
        cur.execute(f"DELETE FROM {relation}")
        cur.execute(insert)
        return
    match = " AND ".join(f"r.{_quote_ident(k)} = t.{_quote_ident(k)}" for k in key)
    cur.execute(
        f"DELETE FROM {relation} AS t WHERE NOT EXISTS (SELECT 1 FROM restoring AS r WHERE {match})"
    )
    rest = [n for n in names if n not in key]
    action = (
        "DO UPDATE SET "
        + ", ".join(f"{_quote_ident(n)} = EXCLUDED.{_quote_ident(n)}" for n in rest)
        if rest
        else "DO NOTHING"
    )
    cur.execute(f"{insert} ON CONFLICT ({', '.join(_quote_ident(k) for k in key)}) {action}")


def restore(settings: Settings, qualified: str, file: str | None = None) -> RestoreResult:
    """Replace the table's rows with a backup's (the latest unless `file`), all or nothing."""
    import fastavro
    import psycopg2

    schema_name, table = _split(qualified)
    started = time.perf_counter()
    fs, path, shown = _locate(settings, open_lake(settings), qualified, file)
    if not fs.exists(path):
        raise BackupError(f"no backup file {shown}")
    relation = _relation(schema_name, table)
    conn = connect(settings)
    try:
        with conn.cursor() as cur, fs.open(path, "rb") as fh:
            cur.execute("SET application_name = 'gourmand restore'")
            cur.execute("SET TIME ZONE 'UTC'")
            columns = _columns(cur, schema_name, table)
            try:
                reader: Any = fastavro.reader(fh)
                written = [(f["name"], f.get("pg_type")) for f in reader.writer_schema["fields"]]
                promised = reader.metadata.get("gourmand.rows")  # absent from older backups
                promised_rows = None if promised is None else int(promised)
            except Exception as exc:
                raise BackupError(f"{shown} is not a readable backup: {exc}") from exc
            expected = [(c.name, c.pg_type) for c in columns]
            if written != expected:
                raise BackupError(
                    f"{shown} does not fit {qualified}: the backup has columns {written}, "
                    f"the table has {expected}"
                )
            # writers wait from here; readers see the old rows until the commit
            cur.execute(f"LOCK TABLE {relation} IN EXCLUSIVE MODE")
            cur.execute(
                f"CREATE TEMP TABLE restoring ON COMMIT DROP AS SELECT * FROM {relation} "
                "WITH NO DATA"
            )
            names = [c.name for c in columns]
            rows = _copy_into_temp(cur, reader, names, shown)
            if promised_rows is not None and rows != promised_rows:
                raise BackupError(
                    f"{shown} is truncated: it holds {rows:,} of the {promised_rows:,} rows "
                    "backed up"
                )
            _replace_rows(cur, relation, _primary_key(cur, schema_name, table), names)
        conn.commit()
    except psycopg2.Error as exc:
        # e.g. a foreign key of another table still points at a row the backup lacks
        conn.rollback()
        raise BackupError(
            f"restoring {qualified} from {shown} failed, the table is unchanged: {str(exc).strip()}"
        ) from exc
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
    return RestoreResult(qualified, shown, rows, time.perf_counter() - started)
