"""Read-only SQL against the OLTP Postgres or the warehouse, for `gourmand sql` and scripts."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

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


Rows = tuple[list[str], list[tuple[Any, ...]]]


class _Postgres:
    """As the read-only role (extract/runtime/reader.py), never the pipeline's owner;
    `internal` reads (the pipeline's own checks and summaries) use the owner's read-only
    session."""

    build = ""  # built in place: no build of its own to name

    def __init__(self, settings: Settings, internal: bool) -> None:
        import psycopg2

        from extract.runtime.postgres import connect
        from extract.runtime.reader import ReaderUnavailable, connect_reader

        self.settings, self.internal = settings, internal
        try:
            self.conn = connect(settings, read_only=True) if internal else connect_reader(settings)
        except ReaderUnavailable as exc:
            raise QueryError(str(exc)) from exc
        except psycopg2.Error as exc:
            raise QueryError(f"cannot connect as the read-only role: {_one_line(exc)}") from exc

    def run(self, query: str, params: Sequence[Any] | None = None) -> Rows:
        import psycopg2

        try:
            with (
                _deadline(self.settings, self.conn.cancel, self.internal) as fired,
                self.conn.cursor() as cur,
            ):
                try:
                    cur.execute(query, params)
                    if cur.description is None:
                        return [], []
                    return [d[0] for d in cur.description], list(cur.fetchall())
                except psycopg2.errors.QueryCanceled as exc:
                    if fired.is_set():
                        raise _too_long(self.settings) from exc
                    raise
        except psycopg2.Error as exc:
            raise QueryError(_one_line(exc)) from exc
        finally:
            # each statement in a transaction of its own, as when it had the connection to
            # itself: a failed one leaves the session usable, and none holds a snapshot open
            # while its caller works on the rows
            self.conn.rollback()

    def close(self) -> None:
        self.conn.close()


class _DuckDB:
    """One build of the DuckDB warehouse (extract/runtime/publication.py): the published one,
    a kept one by its id, or the working file a run audits (`WORKING`)."""

    def __init__(self, settings: Settings, internal: bool, build: str | None) -> None:
        import duckdb

        from extract.runtime.publication import WORKING, UnknownBuild, resolve

        self.settings, self.internal = settings, internal
        try:
            self.build, path = resolve(settings, build)
        except UnknownBuild as exc:
            raise QueryError(str(exc)) from exc
        if build == WORKING and not path.exists():
            raise QueryError(f"no warehouse yet at {path}: build it first")
        try:
            # read-only, and no files but the database's own: no COPY TO, read_csv, ATTACH,
            # INSTALL or LOAD; locked, so a query cannot SET it back. The pipeline's own reads
            # may read the lake (the staging views are read_parquet over it).
            config: dict[str, str | bool | int | float | list[str]] = (
                {} if internal else {"enable_external_access": False, "lock_configuration": True}
            )
            self.con = duckdb.connect(str(path), read_only=True, config=config)
        except duckdb.IOException as exc:
            raise QueryError(
                f"the warehouse {path} is locked by a writer (a run in progress?); "
                f"try again when it finishes ({exc})"
            ) from exc

    def run(self, query: str, params: Sequence[Any] | None = None) -> Rows:
        import duckdb

        if params is not None:
            query = query.replace("%s", "?")  # DuckDB's placeholder
        try:
            with _deadline(self.settings, self.con.interrupt, self.internal) as fired:
                try:
                    cur = self.con.execute(query, list(params) if params is not None else None)
                    if cur.description is None:
                        return [], []
                    return [d[0] for d in cur.description], list(cur.fetchall())
                except duckdb.InterruptException as exc:
                    if fired.is_set():
                        raise _too_long(self.settings) from exc
                    raise
        except duckdb.PermissionException as exc:
            raise QueryError(
                f"{_one_line(exc)} (the read-only door opens no file: the dwh_staging views "
                "read the lake's files, so query dwh.* and marts.*)"
            ) from exc
        except duckdb.Error as exc:
            raise QueryError(_one_line(exc)) from exc

    def close(self) -> None:
        self.con.close()


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


class _BigQuery:
    """On BigQuery, least privilege is the credentials' IAM role (a reader's service account
    holds BigQuery Data Viewer and Job User only, docs/operations.md). On top of it a person's
    query is dry-run first and refused unless it is a SELECT, and may scan at most
    GOURMAND_BQ_MAX_BYTES_BILLED bytes. The pipeline's own (`internal`) queries are written in
    the Postgres dialect the other warehouses share and transpiled here."""

    build = ""  # built in place: no build of its own to name

    def __init__(self, settings: Settings, internal: bool) -> None:
        from extract.runtime.bigquery import client

        self.settings, self.internal = settings, internal
        self.bq = client(settings)

    def run(self, query: str, params: Sequence[Any] | None = None) -> Rows:
        from google.api_core.exceptions import GoogleAPIError
        from google.cloud import bigquery

        if self.internal:
            # the pipeline's own queries are written once for Postgres and DuckDB
            import sqlglot

            query = sqlglot.transpile(query, read="postgres", write="bigquery")[0]
        bound: list[Any] = []
        if params is not None:
            query, bound = _bigquery_parameters(query, params)
        try:
            if not self.internal:
                dry = self.bq.query(
                    query,
                    job_config=bigquery.QueryJobConfig(dry_run=True, query_parameters=bound),
                )
                if (dry.statement_type or "SELECT").upper() != "SELECT":
                    raise QueryError(
                        f"the warehouse door is read-only: a {dry.statement_type} is refused"
                    )
            config = bigquery.QueryJobConfig(query_parameters=bound)
            if not self.internal and self.settings.bq_max_bytes_billed:
                config.maximum_bytes_billed = self.settings.bq_max_bytes_billed
            result = self.bq.query(query, job_config=config).result()
            columns = [field.name for field in result.schema or []]
            return columns, [tuple(row.values()) for row in result]
        except GoogleAPIError as exc:
            message = (getattr(exc, "message", None) or str(exc)).strip().splitlines()[0]
            # the client prefixes the HTTP call ("POST http://…/jobs?…: "); the database's own
            # sentence is what a person needs
            raise QueryError(re.sub(r"^[A-Z]+ \S+: ", "", message)) from exc

    def close(self) -> None:
        self.bq.close()


class Reader(Protocol):
    """One read-only session: `run` one statement at a time, each with its own deadline;
    `build` names the DuckDB build every statement reads ("" where there is none)."""

    build: str

    def run(self, query: str, params: Sequence[Any] | None = None) -> Rows: ...


@contextmanager
def reading(
    settings: Settings, target: str = "oltp", *, internal: bool = False, build: str | None = None
) -> Iterator[Reader]:
    """One connection for several statements (a catalog, a set of extracts): opening the
    DuckDB file or a Postgres session costs more than a small query, ~20-80 ms each, and every
    statement of the session reads the same build. `target`, `internal` and `build` as for
    `run_query`."""
    session: _Postgres | _DuckDB | _BigQuery
    if build == "working" and not internal:
        # the build a run is writing is not audited yet: only the pipeline's own reads (its
        # audit) open it, never a person's query (`gourmand sql --build working`)
        raise QueryError("the build in progress is not readable: read the published build")
    if target == "oltp":
        session = _Postgres(settings, internal)
    elif target != "warehouse":
        raise QueryError(f"unknown target {target!r}: use oltp or warehouse")
    elif settings.warehouse == "duckdb":
        session = _DuckDB(settings, internal, build)
    elif build not in (None, "working"):
        raise QueryError(f"builds are kept on the DuckDB warehouse, not on {settings.warehouse}")
    elif settings.warehouse == "postgres":
        # the Postgres warehouse is schemas dwh / marts of the OLTP database
        session = _Postgres(settings, internal)
    else:
        session = _BigQuery(settings, internal)
    try:
        yield session
    finally:
        session.close()


def run_query(
    query: str,
    *,
    target: str = "oltp",
    settings: Settings,
    params: Sequence[Any] | None = None,
    internal: bool = False,
    build: str | None = None,
) -> Rows:
    """Run one statement read-only; writes are refused by the database itself. `params` are
    bound to `%s` placeholders on every target (as DuckDB's `?` and BigQuery's typed @p0, ...).
    Anything a person or a request asks reads through the read-only door; `internal` is for
    the pipeline's own reads (its checks, the demo's summary), never for a query it was
    given. On DuckDB, `build` picks what is read: the published build (None), a kept build by
    its id, or `"working"`, the build a run is auditing (extract/runtime/publication.py)."""
    with reading(settings, target, internal=internal, build=build) as reader:
        return reader.run(query, params)


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


def warehouse_columns(
    settings: Settings, tables: Collection[tuple[str, str]]
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, table) -> its columns (name, type as the warehouse spells it), in order, for
    each of `tables` that exists: one statement for all of them (one client on BigQuery), not
    one connection per table."""
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    if settings.warehouse == "bigquery":
        from google.api_core.exceptions import NotFound

        from extract.runtime.bigquery import client

        bq = client(settings)
        try:
            for schema, table in tables:
                try:
                    fields = bq.get_table(f"{schema}.{table}").schema
                except NotFound:
                    continue
                found[(schema, table)] = [(f.name, f.field_type) for f in fields]
        finally:
            bq.close()
        return found
    schemas = sorted({schema for schema, _ in tables})
    if not schemas:
        return found
    _, rows = run_query(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        f"where table_schema in ({', '.join(['%s'] * len(schemas))}) "
        "order by table_schema, table_name, ordinal_position",
        target="warehouse",
        settings=settings,
        params=schemas,
        internal=True,
    )
    for schema, table, name, kind in rows:
        if (schema, table) in tables:
            found.setdefault((str(schema), str(table)), []).append((str(name), str(kind)))
    return found
