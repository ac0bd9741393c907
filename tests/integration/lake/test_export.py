"""The OLTP -> lake export (extract.lake.export) on a real Postgres and a lake folder: the types
the lake keeps, the cursors (the tables' and the tombstones'), large tables read in two streams,
and a lake an earlier (dlt) export wrote."""

from __future__ import annotations

import datetime as dt
import json
import posixpath
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from extract.lake import export as export_mod
from extract.lake.export import export_oltp
from extract.lake.files import list_files, open_lake
from extract.runtime.postgres import connect
from tests.support import pg_rows

pytestmark = pytest.mark.integration

STAMP = "2024-05-01 10:00:00+00"
LATER = "2024-05-02 10:00:00+00"

KINDS = """
CREATE SCHEMA IF NOT EXISTS oltp;
CREATE TABLE oltp.kinds (
    id integer PRIMARY KEY, small smallint, big bigint, money numeric(12, 2), exact numeric,
    ratio double precision, flag boolean, day date, at timestamptz, body text,
    last_edited_at timestamptz NOT NULL
);
INSERT INTO oltp.kinds VALUES
 (1, -32768, 9223372036854775807, 12345678.91, 3.141592653, 0.1, true, '2021-02-28',
  '2021-07-27 16:02:08.123456+02', 'é 𝄞', %(stamp)s),
 (2, NULL, NULL, -0.01, NULL, NULL, NULL, NULL, NULL, NULL, %(stamp)s);
"""


def run(settings, sql: str, params: dict | tuple | None = None) -> None:
    conn = connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def lake_rows(settings, table: str) -> pa.Table:
    lake = open_lake(settings)
    files = list_files(lake, f"oltp/{table}")
    return pa.concat_tables([pq.read_table(f) for f in files]) if files else pa.table({})


@pytest.fixture
def settings(make_settings):
    settings = make_settings()
    run(settings, KINDS, {"stamp": STAMP})
    return settings


def test_the_lake_keeps_the_types_the_warehouse_reads(settings):
    result = export_oltp(settings, tables=["kinds"])
    assert result.rows == {"kinds": 2}
    [path] = list_files(open_lake(settings), "oltp/kinds")
    schema = pq.read_schema(path)
    # integers of every width as int64 and numeric as decimal, as the lake has always had them
    # (the ADBC driver itself gives int32 and text); no driver metadata in the file
    assert {f.name: f.type for f in schema} == {
        "id": pa.int64(),
        "small": pa.int64(),
        "big": pa.int64(),
        "money": pa.decimal128(12, 2),
        "exact": pa.decimal128(38, 9),
        "ratio": pa.float64(),
        "flag": pa.bool_(),
        "day": pa.date32(),
        "at": pa.timestamp("us", tz="UTC"),
        "body": pa.string(),
        "last_edited_at": pa.timestamp("us", tz="UTC"),
    }
    assert not any(f.metadata for f in schema)
    # DuckDB reads the numbers as numbers and every value as Postgres holds it
    con = duckdb.connect()
    described = {
        name: kind for name, kind, *_ in con.execute(f"describe select * from '{path}'").fetchall()
    }
    assert described["money"] == "DECIMAL(12,2)" and described["exact"] == "DECIMAL(38,9)"
    first = con.execute(f"select * from '{path}' where id = 1").fetchone()
    assert first[:9] == (
        1, -32768, 9223372036854775807, Decimal("12345678.91"), Decimal("3.141592653"), 0.1,
        True, dt.date(2021, 2, 28), dt.datetime(2021, 7, 27, 14, 2, 8, 123456, tzinfo=dt.UTC),
    )  # fmt: skip
    assert first[9] == "é 𝄞"


def test_only_rows_edited_after_the_cursor_are_exported(settings):
    assert export_oltp(settings, tables=["kinds"]).rows == {"kinds": 2}
    again = export_oltp(settings, tables=["kinds"])
    assert again.rows == {"kinds": 0} and again.load_id is None
    assert len(list_files(open_lake(settings), "oltp/kinds")) == 1  # no empty file
    run(settings, "UPDATE oltp.kinds SET body = 'changed', last_edited_at = %s WHERE id = 2",
        (LATER,))  # fmt: skip
    assert export_oltp(settings, tables=["kinds"]).rows == {"kinds": 1}
    # the lake appends: the old version of row 2 and its new one
    assert sorted(lake_rows(settings, "kinds").column("body").to_pylist(), key=str) == [
        None, "changed", "é 𝄞",
    ]  # fmt: skip
    [(watermark,)] = pg_rows(
        settings,
        "SELECT watermark FROM lake_export.exports WHERE table_name = 'kinds' "
        "ORDER BY exported_at DESC LIMIT 1",
    )
    assert dt.datetime.fromisoformat(watermark) == dt.datetime(2024, 5, 2, 10, tzinfo=dt.UTC)


def test_tombstones_of_a_table_written_after_an_export_with_the_same_stamp_are_exported(
    settings,
):
    """Several models of one dbt run write tombstones with the run's start time, each in its
    own transaction: an export between two of them must not skip the second's."""
    run(settings, """
        CREATE SCHEMA oltp_meta;
        CREATE TABLE oltp_meta.deleted_rows (
            table_name text NOT NULL, row_key text NOT NULL, deleted_at timestamptz NOT NULL);
    """)  # fmt: skip
    insert = "INSERT INTO oltp_meta.deleted_rows VALUES (%s, %s, %s)"
    run(settings, insert, ("review", "r1", STAMP))
    assert export_oltp(settings, tables=["kinds"]).tombstones == 1
    run(settings, insert, ("business_holding", "h1", STAMP))  # same run, a later commit
    assert export_oltp(settings, tables=["kinds"]).tombstones == 1
    assert export_oltp(settings, tables=["kinds"]).tombstones == 0
    run(settings, insert, ("review", "r2", LATER))
    assert export_oltp(settings, tables=["kinds"]).tombstones == 1
    assert sorted(lake_rows(settings, "deleted_rows").column("row_key").to_pylist()) == [
        "h1", "r1", "r2",
    ]  # fmt: skip


def test_a_cursor_the_dlt_export_recorded_is_honoured(settings):
    """A home the dlt export wrote: its ledger holds one timestamp per table (the tombstones'
    too) and its markers are under _dlt_loads; the next export goes on from there."""
    run(settings, """
        CREATE SCHEMA oltp_meta;
        CREATE TABLE oltp_meta.deleted_rows (
            table_name text NOT NULL, row_key text NOT NULL, deleted_at timestamptz NOT NULL);
        INSERT INTO oltp_meta.deleted_rows VALUES ('review', 'old', '2024-05-01 10:00:00+00');
        CREATE SCHEMA lake_export;
        CREATE TABLE lake_export.exports (exported_at timestamptz NOT NULL, load_id text,
            table_name text NOT NULL, rows_written bigint NOT NULL, watermark text,
            full_refresh boolean NOT NULL, seconds double precision NOT NULL);
        INSERT INTO lake_export.exports VALUES
          (now(), '1700000000.1', 'kinds', 2, '2024-05-01 10:00:00+00:00', false, 1),
          (now(), '1700000000.1', 'deleted_rows', 1, '2024-05-01 10:00:00+00:00', false, 1);
    """)  # fmt: skip
    lake = open_lake(settings)
    old = lake.path("oltp", "kinds", "1700000000.1.abcdef.parquet")
    lake.fs.makedirs(posixpath.dirname(old), exist_ok=True)
    pq.write_table(pa.table({"id": [1]}), old)
    loads = lake.path("oltp", "_dlt_loads")
    lake.fs.makedirs(loads, exist_ok=True)
    lake.fs.pipe(posixpath.join(loads, "gourmand_lake_export__1700000000.1.jsonl"), b"{}")
    run(settings, "INSERT INTO oltp_meta.deleted_rows VALUES ('review', 'new', %s)", (LATER,))
    result = export_oltp(settings, tables=["kinds"])
    assert result.rows == {"kinds": 0} and result.tombstones == 1
    assert old in list_files(lake, "oltp/kinds")  # a finished load of the dlt export: kept
    assert lake_rows(settings, "deleted_rows").column("row_key").to_pylist() == ["new"]
    [(watermark,)] = pg_rows(
        settings,
        "SELECT watermark FROM lake_export.exports WHERE table_name = 'deleted_rows' "
        "ORDER BY exported_at DESC LIMIT 1",
    )
    assert set(json.loads(watermark)) == {"*", "review"}


def test_a_large_table_read_whole_is_read_in_two_streams_of_one_snapshot(settings, monkeypatch):
    run(settings, "INSERT INTO oltp.kinds (id, body, last_edited_at) "
        "SELECT g, 'row ' || g, %s FROM generate_series(3, 20000) AS g", (STAMP,))  # fmt: skip
    run(settings, "ANALYZE oltp.kinds")
    monkeypatch.setattr(export_mod, "SPLIT_ROWS", 1000)
    result = export_oltp(settings, tables=["kinds"])
    assert result.rows == {"kinds": 20000}
    assert len(list_files(open_lake(settings), "oltp/kinds")) == 2
    ids = lake_rows(settings, "kinds").column("id").to_pylist()
    assert sorted(ids) == list(range(1, 20001))  # every row once


def test_a_full_refresh_replaces_the_files_and_a_killed_write_leaves_none(settings, monkeypatch):
    export_oltp(settings, tables=["kinds"])
    lake = open_lake(settings)
    [first] = list_files(lake, "oltp/kinds")

    def broken(*args, **kwargs):
        yield pa.record_batch({
            "id": pa.array([1], pa.int32()),
            "last_edited_at": pa.array([dt.datetime(2024, 5, 1, tzinfo=dt.UTC)]),
        })  # fmt: skip
        raise RuntimeError("connection lost")

    monkeypatch.setattr(export_mod, "_read", broken)
    with pytest.raises(RuntimeError, match="connection lost"):
        export_oltp(settings, tables=["kinds"], full_refresh=True)
    # the refresh never finished: the old file stays, no part of a new one is left
    assert list_files(lake, "oltp/kinds") == [first]
    assert not [p for p in lake.fs.find(lake.path("oltp")) if p.endswith(".partial")]
    monkeypatch.undo()
    result = export_oltp(settings, tables=["kinds"], full_refresh=True)
    assert result.rows == {"kinds": 2}
    [second] = list_files(lake, "oltp/kinds")
    assert second != first


def test_an_export_opens_a_reader_connection_per_stream_not_per_table(settings, monkeypatch):
    """A connection per table made an export with nothing new take a second of CPU for the
    demo's 26 tables (an ADBC connect ~35 ms here); a failed read does not leave its connection
    to the next table the thread reads."""
    import adbc_driver_postgresql.dbapi as adbc

    for i in range(8):
        run(settings, f"CREATE TABLE oltp.t{i} (id int, last_edited_at timestamptz NOT NULL);"
            f"INSERT INTO oltp.t{i} VALUES ({i}, %s)", (STAMP,))  # fmt: skip
    opened = []
    real_connect = adbc.connect

    def counted(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        opened.append(conn)
        return conn

    monkeypatch.setattr(adbc, "connect", counted)
    result = export_oltp(settings)
    assert result.rows == {"kinds": 2, **{f"t{i}": 1 for i in range(8)}}
    assert 1 <= len(opened) <= export_mod.STREAMS

    # one table's read fails after its first batch: the export fails with that error, the
    # thread's next table is read on a new connection, and a re-run exports every table
    real_normalized = export_mod._normalized

    def failing(batch, types):
        if "id" in batch.schema.names and batch.column("id").to_pylist() == [3]:
            raise RuntimeError("disk full")
        return real_normalized(batch, types)

    monkeypatch.setattr(export_mod, "_normalized", failing)
    opened.clear()
    with pytest.raises(RuntimeError, match="disk full"):
        export_oltp(settings, full_refresh=True)
    assert export_mod.STREAMS < len(opened) <= export_mod.STREAMS + 1
    monkeypatch.setattr(export_mod, "_normalized", real_normalized)
    again = export_oltp(settings, full_refresh=True)
    assert again.rows == {"kinds": 2, **{f"t{i}": 1 for i in range(8)}}


def test_only_a_snapshot_id_in_postgres_shape_reaches_set_transaction_snapshot():
    """SET TRANSACTION SNAPSHOT takes no bound parameter: the id pg_export_snapshot() gave is
    written into the statement only when it has the shape Postgres gives it."""
    assert export_mod.SNAPSHOT_ID.fullmatch("00000003-0000001B-1")
    for odd in ("", "1'; DROP TABLE oltp.kinds; --", "00000003-0000001b-1", "0000 0003-1"):
        assert not export_mod.SNAPSHOT_ID.fullmatch(odd), odd
