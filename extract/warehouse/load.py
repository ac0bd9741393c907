"""The warehouse side of the settings: what dbt_dwh needs to reach the lake and its target, the
one-writer rule for the DuckDB file, and the lake copy a Postgres warehouse reads.

DuckDB reads the lake's Parquet files in place (dbt-duckdb `external_location`); Postgres cannot,
so for `GOURMAND_WAREHOUSE=postgres` the lake's `oltp/<table>/` files are copied into schema
`lake` of the warehouse database first, the same files the DuckDB warehouse reads, duplicates
included (the staging models deduplicate either way).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from extract.lake import files as lake_mod
from extract.runtime.postgres import oltp_dsn
from extract.settings import Settings

LAKE_SCHEMA = "lake"
EXPORT_FOLDER = "oltp"


@contextmanager
def writer(settings: Settings) -> Iterator[None]:
    """Held by whatever writes the warehouse: DuckDB allows one writing process per file, so a
    second build waits here instead of failing on DuckDB's lock (the home's `warehouse` lock,
    which a dbt_dwh build outside Dagster takes too)."""
    from extract.runtime.locks import WAREHOUSE, home_lock

    with home_lock(settings, WAREHOUSE, "a warehouse build"):
        yield


def lake_tables(settings: Settings) -> list[str]:
    """The OLTP tables the lake export has written, sorted."""
    lake = lake_mod.open_lake(settings)
    base = lake.path(EXPORT_FOLDER)
    if not lake.fs.exists(base):
        return []
    return sorted(
        posixpath.basename(p.rstrip("/"))
        for p in lake.fs.ls(base, detail=False)
        if not posixpath.basename(p.rstrip("/")).startswith(("_", "."))
        and lake.fs.isdir(p)
        and lake_mod.list_files(lake, posixpath.join(EXPORT_FOLDER, posixpath.basename(p)))
    )


def copy_lake_to_postgres(settings: Settings) -> dict[str, int]:
    """Replace the rows of schema `lake` of the Postgres warehouse with the lake's exported files,
    in one transaction; returns rows per table.

    The tables keep their identity: dbt_dwh's staging views depend on them, so a table is never
    dropped while its columns stay the same (its rows are replaced), and a reader sees the old
    rows or the new ones. Only a table whose columns changed is dropped with its views, which the
    dbt build that follows creates again.
    """
    import adbc_driver_postgresql.dbapi as adbc
    import pyarrow.dataset as ds

    lake = lake_mod.open_lake(settings)
    counts: dict[str, int] = {}
    with adbc.connect(oltp_dsn(settings)) as conn:
        cur = conn.cursor()
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {LAKE_SCHEMA}")
        for table in lake_tables(settings):
            files = lake_mod.list_files(lake, posixpath.join(EXPORT_FOLDER, table))
            data = ds.dataset(files, filesystem=lake.fs, format="parquet").to_table()
            incoming = f"_incoming_{table}"
            cur.adbc_ingest(incoming, data, mode="replace", db_schema_name=LAKE_SCHEMA)
            if _columns(cur, table) == _columns(cur, incoming):
                cur.execute(f'TRUNCATE {LAKE_SCHEMA}."{table}"')
                cur.execute(
                    f'INSERT INTO {LAKE_SCHEMA}."{table}" SELECT * FROM {LAKE_SCHEMA}."{incoming}"'
                )
                cur.execute(f'DROP TABLE {LAKE_SCHEMA}."{incoming}"')
            else:
                cur.execute(f'DROP TABLE IF EXISTS {LAKE_SCHEMA}."{table}" CASCADE')
                cur.execute(f'ALTER TABLE {LAKE_SCHEMA}."{incoming}" RENAME TO "{table}"')
            counts[table] = data.num_rows
        conn.commit()
        cur.close()
    return counts


def _columns(cur: Any, table: str) -> list[tuple[str, str]]:
    """(name, type) of a table of schema `lake`, in order; [] if there is no such table."""
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = '{LAKE_SCHEMA}' AND table_name = $1 ORDER BY ordinal_position",
        parameters=(table,),
    )
    return [tuple(row) for row in cur.fetchall()]
