"""DataFrames from the two databases the checks read: the OLTP Postgres and the warehouse."""

from __future__ import annotations

from typing import Any

from extract.settings import Settings


def pg_frame(settings: Settings, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """One read-only query on the OLTP Postgres as a DataFrame."""
    import pandas as pd

    from extract.runtime.postgres import connect

    conn = connect(settings, read_only=True)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            columns = [d[0] for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=columns)
    finally:
        conn.rollback()
        conn.close()


def pg_value(settings: Settings, sql: str, params: tuple[Any, ...] = ()) -> Any:
    frame = pg_frame(settings, sql, params)
    return None if frame.empty else frame.iat[0, 0]


def warehouse_frame(settings: Settings, sql: str) -> Any:
    """One query on the warehouse (DuckDB read-only, or the Postgres warehouse) as a DataFrame."""
    import pandas as pd

    from extract.runtime.publication import WORKING
    from extract.runtime.query import run_query

    # the pipeline's own check, not an analyst's query: the audit of the run's build, before
    # it is published (extract/runtime/publication.py)
    columns, rows = run_query(
        sql, target="warehouse", settings=settings, internal=True, build=WORKING
    )
    return pd.DataFrame(rows, columns=columns)
