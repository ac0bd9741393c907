"""Read-only SQL against the OLTP Postgres or the warehouse, for `gourmand sql` and scripts."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from extract.settings import Settings


class QueryError(RuntimeError):
    """A query that could not run, with a message meant for a person."""


@contextmanager
def _deadline(settings: Settings, cancel: Callable[[], Any], internal: bool) -> Iterator[Any]:
    """A person's query is cancelled from outside once `settings.read_timeout` passes: the
    reader role's statement_timeout is only a default its session may SET away (`set
    statement_timeout = 0`), and DuckDB has none. Yields an Event set when it fired. The
    pipeline's own (`internal`) reads are not limited."""
    fired = threading.Event()
    if internal:
        yield fired
        return

    def fire() -> None:
        fired.set()
        cancel()

    timer = threading.Timer(settings.read_timeout, fire)
    timer.daemon = True
    timer.start()
    try:
        yield fired
    finally:
        timer.cancel()


def _too_long(settings: Settings) -> QueryError:
    return QueryError(
        f"the query ran past the read-only door's limit of {settings.read_timeout:g} seconds "
        "and was stopped (GOURMAND_READ_TIMEOUT)"
    )


def _one_line(exc: BaseException) -> str:
    """The database's own sentence, without the SQL echo and caret lines under it."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _oltp(
    query: str, settings: Settings, params: Sequence[Any] | None = None, *, internal: bool = False
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """As the read-only role (extract/runtime/reader.py), never the pipeline's owner;
    `internal` reads (the pipeline's own checks and summaries) use the owner's read-only
    session."""
    import psycopg2

    from extract.runtime.postgres import connect
    from extract.runtime.reader import ReaderUnavailable, connect_reader

    try:
        conn = connect(settings, read_only=True) if internal else connect_reader(settings)
    except ReaderUnavailable as exc:
        raise QueryError(str(exc)) from exc
    except psycopg2.Error as exc:
        raise QueryError(f"cannot connect as the read-only role: {_one_line(exc)}") from exc
    try:
        with _deadline(settings, conn.cancel, internal) as fired, conn.cursor() as cur:
            try:
                cur.execute(query, params)
                if cur.description is None:
                    return [], []
                return [d[0] for d in cur.description], list(cur.fetchall())
            except psycopg2.errors.QueryCanceled as exc:
                if fired.is_set():
                    raise _too_long(settings) from exc
                raise
    except psycopg2.Error as exc:
        raise QueryError(_one_line(exc)) from exc
    finally:
        conn.rollback()
        conn.close()


def _warehouse(
    query: str,
    settings: Settings,
    params: Sequence[Any] | None = None,
    *,
    internal: bool = False,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    import duckdb

    if settings.warehouse == "postgres":
        # the Postgres warehouse is schemas dwh / marts of the OLTP database
        return _oltp(query, settings, params, internal=internal)
    if settings.warehouse == "bigquery":
        return _bigquery(query, settings, params, internal=internal)
    if params is not None:
        query = query.replace("%s", "?")  # DuckDB's placeholder
    path = settings.warehouse_path
    if not path.exists():
        raise QueryError(f"no warehouse yet at {path}: build it first")
    try:
        # read-only, and no files but the database's own: no COPY TO, read_csv, ATTACH, INSTALL
        # or LOAD; locked, so a query cannot SET it back. The pipeline's own reads may read
        # the lake (the staging views are read_parquet over it).
        config: dict[str, str | bool | int | float | list[str]] = (
            {} if internal else {"enable_external_access": False, "lock_configuration": True}
        )
        con = duckdb.connect(str(path), read_only=True, config=config)
    except duckdb.IOException as exc:
        raise QueryError(
            f"the warehouse {path} is locked by a writer (a run in progress?); "
            f"try again when it finishes ({exc})"
        ) from exc
    try:
        with _deadline(settings, con.interrupt, internal) as fired:
            try:
                cur = con.execute(query, list(params) if params is not None else None)
                if cur.description is None:
                    return [], []
                return [d[0] for d in cur.description], list(cur.fetchall())
            except duckdb.InterruptException as exc:
                if fired.is_set():
                    raise _too_long(settings) from exc
                raise
    except duckdb.PermissionException as exc:
        raise QueryError(
            f"{_one_line(exc)} (the read-only door opens no file: the dwh_staging views read "
            "the lake's files, so query dwh.* and marts.*)"
        ) from exc
    except duckdb.Error as exc:
        raise QueryError(_one_line(exc)) from exc
    finally:
        con.close()


def _bigquery_parameters(query: str, params: Sequence[Any]) -> tuple[str, list[Any]]:
    """`%s` placeholders as BigQuery's named, typed parameters (@p0, @p1, ...)."""
    import datetime as dt

    from google.cloud import bigquery

    kinds = [
        (bool, "BOOL"), (int, "INT64"), (float, "FLOAT64"), (dt.datetime, "TIMESTAMP"),
        (dt.date, "DATE"), (str, "STRING"),
    ]  # fmt: skip
    parts = query.split("%s")
    if len(parts) - 1 != len(params):
        raise QueryError(f"{len(parts) - 1} placeholders for {len(params)} parameters")
    bound = []
    for i, value in enumerate(params):
        kind = next((name for cls, name in kinds if isinstance(value, cls)), "STRING")
        bound.append(bigquery.ScalarQueryParameter(f"p{i}", kind, value))
    text = parts[0] + "".join(f"@p{i}{part}" for i, part in enumerate(parts[1:]))
    return text, bound


def _bigquery(
    query: str,
    settings: Settings,
    params: Sequence[Any] | None = None,
    *,
    internal: bool = False,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """On BigQuery, least privilege is the credentials' IAM role (a reader's service account
    holds BigQuery Data Viewer and Job User only, docs/operations.md). On top of it a person's
    query is dry-run first and refused unless it is a SELECT, and may scan at most
    GOURMAND_BQ_MAX_BYTES_BILLED bytes. The pipeline's own (`internal`) queries are written in
    the Postgres dialect the other warehouses share and transpiled here."""
    from google.api_core.exceptions import GoogleAPIError
    from google.cloud import bigquery

    from extract.runtime.bigquery import client

    bq = client(settings)
    if internal:
        # the pipeline's own queries are written once for Postgres and DuckDB
        import sqlglot

        query = sqlglot.transpile(query, read="postgres", write="bigquery")[0]
    bound: list[Any] = []
    if params is not None:
        query, bound = _bigquery_parameters(query, params)
    try:
        if not internal:
            dry = bq.query(
                query,
                job_config=bigquery.QueryJobConfig(dry_run=True, query_parameters=bound),
            )
            if (dry.statement_type or "SELECT").upper() != "SELECT":
                raise QueryError(
                    f"the warehouse door is read-only: a {dry.statement_type} is refused"
                )
        config = bigquery.QueryJobConfig(query_parameters=bound)
        if not internal and settings.bq_max_bytes_billed:
            config.maximum_bytes_billed = settings.bq_max_bytes_billed
        result = bq.query(query, job_config=config).result()
        columns = [field.name for field in result.schema or []]
        return columns, [tuple(row.values()) for row in result]
    except GoogleAPIError as exc:
        message = (getattr(exc, "message", None) or str(exc)).strip().splitlines()[0]
        # the client prefixes the HTTP call ("POST http://…/jobs?…: "); the database's own
        # sentence is what a person needs
        raise QueryError(re.sub(r"^[A-Z]+ \S+: ", "", message)) from exc
    finally:
        bq.close()


def run_query(
    query: str,
    *,
    target: str = "oltp",
    settings: Settings,
    params: Sequence[Any] | None = None,
    internal: bool = False,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one statement read-only; writes are refused by the database itself. `params` are
    bound to `%s` placeholders on every target (as DuckDB's `?` and BigQuery's typed @p0, ...).
    Anything a person or a request asks reads through the read-only door; `internal` is for
    the pipeline's own reads (its checks, the demo's summary), never for a query it was
    given."""
    if target == "oltp":
        return _oltp(query, settings, params, internal=internal)
    if target == "warehouse":
        return _warehouse(query, settings, params, internal=internal)
    raise QueryError(f"unknown target {target!r}: use oltp or warehouse")


def warehouse_tables(
    settings: Settings, schemas: Sequence[str] = ("dwh", "marts")
) -> list[tuple[str, str]]:
    """(schema, table) of the warehouse's tables in `schemas`, sorted. BigQuery keeps an
    information schema per dataset (or region), so its tables are listed through the API."""
    if settings.warehouse == "bigquery":
        from google.api_core.exceptions import NotFound

        from extract.runtime.bigquery import client

        bq = client(settings)
        found = []
        try:
            for schema in schemas:
                try:
                    found += [(schema, t.table_id) for t in bq.list_tables(schema)]
                except NotFound:
                    continue
        finally:
            bq.close()
        return sorted(found)
    _, rows = run_query(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({', '.join(['%s'] * len(schemas))}) order by 1, 2",
        target="warehouse",
        settings=settings,
        params=list(schemas),
        internal=True,
    )
    return [(str(schema), str(name)) for schema, name in rows]


def warehouse_columns(settings: Settings, schema: str, table: str) -> list[tuple[str, str]]:
    """(name, type as the warehouse spells it) of one warehouse table, in order; [] if none."""
    if settings.warehouse == "bigquery":
        from google.api_core.exceptions import NotFound

        from extract.runtime.bigquery import client

        bq = client(settings)
        try:
            return [(f.name, f.field_type) for f in bq.get_table(f"{schema}.{table}").schema]
        except NotFound:
            return []
        finally:
            bq.close()
    _, rows = run_query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        target="warehouse",
        settings=settings,
        params=[schema, table],
        internal=True,
    )
    return [(str(name), str(kind)) for name, kind in rows]
