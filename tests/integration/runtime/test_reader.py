"""The analysts' door (`gourmand sql`, reports): a read-only role on Postgres, DuckDB without
external access. Each bypass a determined user tried is refused in one line, with nothing
written, no file touched and no program run, on every warehouse target that runs here."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import pytest

from extract.runtime.publication import build_path, publish
from extract.runtime.query import QueryError, run_query
from tests.support import pg_rows

# Each is refused by the role's privileges, not by a session default the SQL could change.
POSTGRES_BYPASSES = {
    "begin read write": "commit; begin read write; create table public.x1(i int); commit",
    "create in a data schema": "begin read write; create table {schema}.x2(i int); commit",
    "temporary table": "begin read write; create temp table x3 as select 1; commit",
    "copy to program": "copy (select 1) to program 'touch {marker}'",
    "read a server file": "select pg_read_file('/etc/hostname')",
    "become the owner": "set role postgres; create table public.x4(i int)",
    # before: stored 32 MB outside every schema, and blocked the pipeline's own locks
    "a large object": "begin read write; select lo_from_bytea(0, decode(repeat('ab', 4096), "
    "'hex')); commit",
    "an empty large object": "begin read write; select lo_create(0); commit",
    "an advisory lock": "select pg_advisory_lock(hashtext('raw_hr ddl'))",
    "a transaction's advisory lock": "select pg_try_advisory_xact_lock(1)",
}


def _prepare(settings) -> None:
    """A data schema with a table, and a table outside the data schemas, as the owner."""
    from extract.runtime.postgres import connect

    conn = connect(settings)
    with conn, conn.cursor() as cur:
        cur.execute("create schema if not exists oltp")
        cur.execute("create table if not exists oltp.thing as select 1 as i")
        cur.execute("create schema if not exists dwh")
        cur.execute("create table if not exists dwh.fact as select 2 as i")
        cur.execute("create table if not exists public.secret as select 'no' as s")
    conn.close()


def _refused(query: str, settings, target: str) -> str:
    with pytest.raises(QueryError) as refused:
        run_query(query, target=target, settings=settings)
    message = str(refused.value)
    assert "\n" not in message and "Traceback" not in message, message
    return message


def _postgres_bypasses_refused(settings, target: str, marker: Path) -> None:
    for name, query in POSTGRES_BYPASSES.items():
        schema = "dwh" if target == "warehouse" else "oltp"
        _refused(query.format(marker=marker, schema=schema), settings, target)
        assert not marker.exists(), name
    created = pg_rows(
        settings,
        "select table_schema, table_name from information_schema.tables "
        "where table_name in ('x1', 'x2', 'x3', 'x4')",
    )
    assert created == []
    assert pg_rows(settings, "select count(*) from pg_largeobject_metadata") == [(0,)]
    assert pg_rows(settings, "select has_schema_privilege('public', 'public', 'CREATE')") == [
        (False,)
    ]


@pytest.mark.parametrize("target", ["oltp", "warehouse"])
def test_postgres_bypasses_are_refused_with_nothing_written(make_settings, tmp_path, target):
    """The OLTP database and the Postgres warehouse target, through GOURMAND_READER_DSN (the
    production path: a role the DBA created, granted the data schemas by the pipeline)."""
    settings = make_settings(GOURMAND_WAREHOUSE="postgres")
    _prepare(settings)
    table = "dwh.fact" if target == "warehouse" else "oltp.thing"
    assert run_query(f"select i from {table}", target=target, settings=settings)[1] in (
        [(1,)],
        [(2,)],
    )
    assert "permission denied" in _refused("select * from public.secret", settings, target)
    _postgres_bypasses_refused(settings, target, tmp_path / "touched-by-the-server")


def test_a_production_server_without_a_reader_dsn_is_refused(make_settings):
    settings = make_settings(GOURMAND_READER_DSN="")
    assert settings.reader_dsn is None
    message = _refused("select 1", settings, "oltp")
    assert "GOURMAND_READER_DSN" in message and "--reader-sql" in message


def test_a_schema_created_after_the_first_read_is_readable(make_settings):
    from extract.runtime.postgres import connect

    settings = make_settings()
    _prepare(settings)
    assert run_query("select i from oltp.thing", settings=settings)[1] == [(1,)]
    conn = connect(settings)
    with conn, conn.cursor() as cur:
        cur.execute("create schema raw_later; create table raw_later.t as select 3 as i")
        cur.execute("create table oltp.later as select 4 as i")
    conn.close()
    assert run_query("select i from raw_later.t", settings=settings)[1] == [(3,)]
    assert run_query("select i from oltp.later", settings=settings)[1] == [(4,)]


def test_the_embedded_home_creates_its_role_once_and_keeps_it_read_only(tmp_path):
    """A home on the embedded server (an existing home included: the role comes on first
    read), twice, then with the password file lost."""
    from extract.runtime.postgres import stop_embedded
    from extract.settings import load_settings

    settings = load_settings({"GOURMAND_HOME": str(tmp_path / "home"), "PATH": os.environ["PATH"]})
    assert settings.embedded_postgres and settings.reader_dsn is None
    try:
        _prepare(settings)
        for _ in range(2):
            assert run_query("select i from oltp.thing", settings=settings)[1] == [(1,)]
        roles = pg_rows(
            settings,
            "select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = %s",
            "gourmand_reader",
        )
        assert roles == [(False, False, False)]
        password = settings.home / "postgres.reader-password"
        assert oct(password.stat().st_mode & 0o777) == "0o600"
        password.unlink()  # a new password is set on the role
        assert run_query("select i from oltp.thing", settings=settings)[1] == [(1,)]
        _postgres_bypasses_refused(settings, "oltp", tmp_path / "touched-by-the-server")
    finally:
        stop_embedded(settings)


DUCKDB_BYPASSES = {
    "write a file": "copy (select 1) to '{marker}'",
    "read a file": "select * from read_csv('/etc/passwd')",
    "list files": "select * from glob('/etc/*')",
    "attach a database": "attach '{marker}' as other",
    "install an extension": "install httpfs",
    "load an extension": "load httpfs",
    "switch access back on": "set enable_external_access = true",
    "unlock the configuration": "set lock_configuration = false",
    "write the warehouse": "create table dwh.x (i int)",
}


def test_duckdb_bypasses_are_refused_with_nothing_written(tmp_path):
    import duckdb

    from tests.support import settings_for

    settings = settings_for(tmp_path / "home", "postgresql://unused@127.0.0.1:1/x")
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create schema dwh; create table dwh.fact as select 2 as i")
    con.close()
    read = build_path(settings, publish(settings))  # what the door opens
    before = read.stat().st_mtime_ns
    marker = tmp_path / "written-by-duckdb"
    assert run_query("select i from dwh.fact", target="warehouse", settings=settings)[1] == [(2,)]
    for name, query in DUCKDB_BYPASSES.items():
        _refused(query.format(marker=marker), settings, "warehouse")
        assert not marker.exists(), name
    assert read.stat().st_mtime_ns == before
    con = duckdb.connect(str(read), read_only=True)
    assert con.execute("select count(*) from information_schema.tables").fetchall() == [(1,)]
    con.close()


def test_values_are_bound_not_interpolated(make_settings):
    settings = make_settings()
    _prepare(settings)
    hostile = "1'; drop table oltp.thing; --"
    rows = run_query("select %s::text as v, count(*) from oltp.thing", settings=settings,
                     params=[hostile])[1]  # fmt: skip
    assert rows == [(hostile, 1)]
    assert run_query("select i from oltp.thing", settings=settings)[1] == [(1,)]
    # a % in a query without parameters is SQL, not a placeholder
    assert run_query("select 'a%' like 'a%%'", settings=settings)[1] == [(True,)]


def test_one_session_answers_statement_after_statement_and_survives_a_failed_one(
    make_settings,
):
    """`reading` keeps one connection for several statements (the catalog, the extracts): a
    statement that fails leaves the session answering, on Postgres and on DuckDB, and the
    session is as read-only as a single query."""
    import duckdb

    from extract.runtime.query import reading

    settings = make_settings()
    _prepare(settings)
    with reading(settings, "oltp") as reader:
        pid = reader.run("select pg_backend_pid()")[1]
        with pytest.raises(QueryError, match="no_such_table"):
            reader.run("select * from oltp.no_such_table")
        with pytest.raises(QueryError):
            reader.run("create table oltp.x5 (i int)")
        assert reader.run("select i from oltp.thing where i = %s", [1])[1] == [(1,)]
        assert reader.run("select pg_backend_pid()")[1] == pid  # the same connection
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create schema dwh; create table dwh.fact as select 2 as i")
    con.close()
    publish(settings)
    with reading(settings, "warehouse") as reader:
        with pytest.raises(QueryError, match="no_such_table"):
            reader.run("select * from dwh.no_such_table")
        with pytest.raises(QueryError):
            reader.run("create table dwh.x (i int)")
        assert reader.run("select i from dwh.fact where i = %s", [2])[1] == [(2,)]
    assert pg_rows(settings, "select to_regclass('oltp.x5') is null")[0] == (True,)


def test_the_staging_views_are_for_the_pipeline_not_the_door(tmp_path):
    """A view over lake files answers the pipeline's own reads; through the read-only door it
    is refused in one line that says to query dwh and marts."""
    import duckdb

    from tests.support import settings_for

    settings = settings_for(tmp_path / "home", "postgresql://unused@127.0.0.1:1/x")
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    lake = tmp_path / "t.parquet"
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute(f"copy (select 1 as i) to '{lake}'")
    con.execute(f"create schema dwh_staging; create view dwh_staging.v as select * from '{lake}'")
    con.close()
    publish(settings)
    query = "select i from dwh_staging.v"
    assert run_query(query, target="warehouse", settings=settings, internal=True)[1] == [(1,)]
    assert "query dwh.* and marts.*" in _refused(query, settings, "warehouse")


def test_a_query_is_stopped_at_the_doors_limit_whatever_it_sets(make_settings):
    """Before: `set statement_timeout = 0; select pg_sleep(330)` outlived the role's 5-minute
    default, and a DuckDB read had no limit at all (a count of range(1e11) ran until killed).
    The door cancels a person's query from outside once GOURMAND_READ_TIMEOUT passes."""
    import duckdb

    settings = make_settings(GOURMAND_READ_TIMEOUT="1")
    _prepare(settings)
    started = time.monotonic()
    message = _refused("set statement_timeout = 0; select pg_sleep(20)", settings, "oltp")
    assert "limit of 1 seconds" in message, message
    assert time.monotonic() - started < 15
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(settings.warehouse_path)).close()
    publish(settings)
    started = time.monotonic()
    message = _refused("select count(*) from range(100000000000)", settings, "warehouse")
    assert "limit of 1 seconds" in message, message
    assert time.monotonic() - started < 15
    # the door still answers after a stop
    assert run_query("select 1", settings=settings)[1] == [(1,)]


@pytest.mark.parametrize("path", ["embedded", "reader-dsn"])
def test_the_role_cannot_loosen_its_own_settings(make_settings, tmp_path, path):
    """Before: `alter role gourmand_reader set statement_timeout = 0` (any role may alter its
    own defaults) persisted for every later session. The door's sessions take their settings as
    connection options, and the role's defaults are put back on the next door opened."""
    from extract.runtime.postgres import stop_embedded
    from extract.settings import load_settings

    if path == "embedded":
        env = {"GOURMAND_HOME": str(tmp_path / "home"), "PATH": os.environ["PATH"]}
        settings = load_settings(env)
    else:
        settings = make_settings(GOURMAND_WAREHOUSE="postgres")
    try:
        _prepare(settings)
        loosen = (
            "begin read write; alter role current_user set statement_timeout = 0; "
            "alter role current_user set default_transaction_read_only = off; commit; "
            "show statement_timeout"
        )
        with contextlib.suppress(QueryError):  # refused outright is fine too
            run_query(loosen, settings=settings)
        for setting, wanted in (("statement_timeout", "5min"),
                                ("default_transaction_read_only", "on")):  # fmt: skip
            assert run_query(f"show {setting}", settings=settings)[1] == [(wanted,)]
        role_defaults = pg_rows(
            settings,
            "select s.setconfig from pg_db_role_setting as s join pg_roles as r "
            "on r.oid = s.setrole where r.rolname = %s",
            "gourmand_reader",
        )
        assert sorted(role_defaults[0][0]) == [
            "default_transaction_read_only=on",
            "statement_timeout=5min",
        ]
    finally:
        if path == "embedded":
            stop_embedded(settings)
