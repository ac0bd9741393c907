"""The read API, `/v1`: every mart and dimension as a resource (filters on its columns, sorting,
cursor paging, JSON / CSV / Parquet), and the two HR KPIs as the HR stakeholders asked for them.

Read-only by construction: every query goes through the warehouse's read-only door
(`run_query`, not internal: a read-only DuckDB connection with external access off, the
read-only Postgres role, a dry-run-checked SELECT on BigQuery), built from column names the
catalog knows and values bound as parameters.

Answers are cached in process, keyed by the warehouse's build (`extract/warehouse/builds.py`):
a new build changes the key, so a cached answer is never stale, and its ETag changes with it
(a client's conditional request gets 304 until then).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field, create_model
from starlette.concurrency import run_in_threadpool

from extract.reports.extracts import list_extracts, read_extract
from extract.runtime.query import QueryError, run_query
from extract.settings import Settings
from extract.warehouse.builds import build_stamp
from extract.warehouse.catalog import (
    Column,
    Resource,
    fits,
    plain_value,
    rows_as_csv,
    rows_as_parquet,
)

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
FORMATS = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
PY_TYPES: dict[str, Any] = {
    "string": str, "integer": int, "number": float, "boolean": bool,
    "date": dt.date, "timestamp": dt.datetime,
}  # fmt: skip
RANGED = ("integer", "number", "date", "timestamp")


@dataclass
class Answer:
    body: bytes
    media_type: str
    etag: str
    next_cursor: str | None


class AnswerCache:
    """The newest answers, by (build, request); a new build's requests never meet an old
    build's answers. Bounded by count: a page is at most MAX_LIMIT rows."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], Answer] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str]) -> Answer | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple[str, str], answer: Answer) -> None:
        with self._lock:
            stale = [k for k in self._items if k[0] != key[0]]
            for k in stale:  # an older build's answers can never be asked for again
                del self._items[k]
            self._items[key] = answer
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _parse(column: Column, raw: str, name: str) -> Any:
    """A query-string value as the column's type, or a 400 that says why (a number the
    column's type cannot hold included: the warehouse would refuse it with its own words)."""
    kind = column.kind
    try:
        if kind == "integer":
            value: Any = int(raw)
        elif kind == "number":
            value = float(raw)
        elif kind == "boolean":
            if raw.lower() not in ("true", "false"):
                raise ValueError("true or false")
            return raw.lower() == "true"
        elif kind == "date":
            return dt.date.fromisoformat(raw)
        elif kind == "timestamp":
            value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        else:
            return raw
    except ValueError as exc:
        raise HTTPException(400, f"{name}: {raw[:100]!r} is not a valid {kind}") from exc
    if isinstance(value, float) and not math.isfinite(value):
        raise HTTPException(400, f"{name}: {raw[:100]!r} is not a finite number")
    if not fits(column.sql_type, value):
        raise HTTPException(
            400, f"{name}: {raw[:100]!r} is out of the range of the column ({column.sql_type})"
        )
    return value


# a cursor: its payload (base64 of the offset and the build) and a MAC of it, so the API only
# ever reads offsets it gave out; checked before the payload is decoded
_MAX_CURSOR = 256
_MAX_OFFSET = 2**62


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode())


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:18])


def _cursor(offset: int, stamp: str, key: bytes) -> str:
    payload = _b64(json.dumps({"o": offset, "b": stamp}).encode())
    return f"{payload}.{_mac(key, payload)}"


def _offset(cursor: str | None, stamp: str, key: bytes) -> int:
    if cursor is None:
        return 0
    refused = HTTPException(400, "cursor: not a cursor this API gave out")
    payload, _, mac = cursor.partition(".")
    # as bytes: compare_digest refuses text that is not ASCII (a TypeError, a 500)
    expected = _mac(key, payload).encode()
    if len(cursor) > _MAX_CURSOR or not hmac.compare_digest(mac.encode(), expected):
        raise refused
    try:
        decoded = json.loads(_unb64(payload))
        offset, built = decoded["o"], decoded["b"]
    except (ValueError, KeyError, TypeError) as exc:
        raise refused from exc
    if type(offset) is not int or not 0 <= offset < _MAX_OFFSET or not isinstance(built, str):
        raise refused
    if built != stamp:
        raise HTTPException(
            410, "the warehouse was rebuilt since this cursor was given: start from the first page"
        )
    return offset


def canonical_query(resource: str, query: Sequence[tuple[str, str]]) -> str:
    """One request as a string: the resource and its parameters sorted and URL-encoded, so
    two different requests never share it (a value holding `&` or `=` included). The answer
    cache and the ETag both key on it."""
    return resource + "?" + urlencode(sorted(query))


@dataclass
class Page:
    """One request for rows of a resource, validated."""

    resource: Resource
    where: list[tuple[str, str, Any]]  # (column, operator, value)
    order: list[tuple[str, bool]]  # (column, descending)
    limit: int
    offset: int

    def sql(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        for column, op, value in self.where:
            clauses.append(f"{column} {op} %s")
            params.append(value)
        where = f" where {' and '.join(clauses)}" if clauses else ""
        # nulls last on every warehouse, so a page boundary never depends on the engine
        order = ", ".join(f"{c} is null, {c}{' desc' if desc else ''}" for c, desc in self.order)
        columns = ", ".join(c.name for c in self.resource.columns)
        return (
            f"select {columns} from {self.resource.relation}{where} order by {order} "
            f"limit {self.limit + 1} offset {self.offset}",
            params,
        )


def _page(
    resource: Resource,
    query: Sequence[tuple[str, str]],
    default_order: Sequence[tuple[str, bool]] = (),
) -> tuple[Page, str, str | None]:
    """The request's filters, order and paging; unknown parameters are a 400."""
    where: list[tuple[str, str, Any]] = []
    sort: str | None = None
    limit = DEFAULT_LIMIT
    cursor: str | None = None
    fmt = "json"
    for name, raw in query:
        if name == "sort":
            sort = raw
        elif name == "limit":
            try:
                limit = int(raw)
            except ValueError as exc:
                raise HTTPException(400, f"limit: {raw!r} is not a whole number") from exc
            if not 1 <= limit <= MAX_LIMIT:
                raise HTTPException(400, f"limit: from 1 to {MAX_LIMIT:,}")
        elif name == "cursor":
            cursor = raw
        elif name == "format":
            if raw not in FORMATS:
                raise HTTPException(400, f"format: one of {', '.join(FORMATS)}")
            fmt = raw
        else:
            column_name, _, op = name.partition("__")
            column = resource.column(column_name)
            if column is None or op not in ("", "gte", "lte"):
                raise HTTPException(
                    400,
                    f"{name}: not a filter of {resource.name} (its columns, and __gte/__lte "
                    "on numbers, dates and timestamps)",
                )
            if op and column.kind not in RANGED:
                raise HTTPException(400, f"{name}: {column.kind} columns take equality only")
            where.append(
                (column.name, {"": "=", "gte": ">=", "lte": "<="}[op],
                 _parse(column, raw, name))
            )  # fmt: skip
    order: list[tuple[str, bool]] = []
    if sort is not None:
        for item in sort.split(","):
            name = item.removeprefix("-")
            if resource.column(name) is None:
                raise HTTPException(400, f"sort: {name!r} is not a column of {resource.name}")
            order.append((name, item.startswith("-")))
    else:
        order = list(default_order)
    # a total order: the resource's key breaks every tie, so pages never overlap or skip
    for key in resource.key:
        if key not in {c for c, _ in order}:
            order.append((key, False))
    return Page(resource, where, order, limit, 0), fmt, cursor


def _encode(resource: Resource, rows: list[tuple[Any, ...]], fmt: str) -> bytes:
    if fmt == "csv":
        return rows_as_csv(resource, rows)
    if fmt == "parquet":
        return rows_as_parquet(resource, rows)
    names = [c.name for c in resource.columns]
    return json.dumps(
        [dict(zip(names, (plain_value(v) for v in row), strict=True)) for row in rows],
        separators=(",", ":"),
    ).encode()


def row_model(resource: Resource) -> type[BaseModel]:
    """A pydantic model of one row, each field described from the manifest (OpenAPI)."""
    fields: dict[str, Any] = {
        c.name: (PY_TYPES[c.kind] | None, Field(None, description=c.description or None))
        for c in resource.columns
    }
    return create_model(f"{resource.name}_row", **fields)


def cursor_key(settings: Settings) -> bytes:
    """The home's key for signing cursors (a file of the home, mode 0600, made on first use):
    every server of the home accepts the cursors any of them gave out."""
    from extract.runtime.postgres import password_file

    return password_file(settings.home / "api-cursor.key")[0].encode()


class ReadAPI:
    """The `/v1` routes over a catalog, with the cache and the build stamp they share."""

    def __init__(
        self,
        settings: Settings,
        catalog: dict[str, Resource],
        require_read: Callable[..., Any],
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.cache = AnswerCache()
        self.cursor_key = cursor_key(settings)
        self.router = APIRouter(prefix="/v1", dependencies=[Depends(require_read)])
        self._routes()

    async def answer(
        self,
        request: Request,
        resource: Resource,
        default_order: Sequence[tuple[str, bool]] = (),
        extra: Sequence[tuple[str, str]] = (),
    ) -> Response:
        """A page of `resource`: from the cache in the event loop, or (a miss) queried in the
        thread pool, so a slow query never holds up cached answers."""
        stamp = build_stamp(self.settings)
        query = [*request.query_params.multi_items(), *extra]
        page, fmt, cursor = _page(resource, query, default_order)
        page.offset = _offset(cursor, stamp, self.cursor_key)
        canonical = canonical_query(resource.name, query)
        etag = '"' + hashlib.sha256(f"{stamp}\n{canonical}".encode()).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": "no-cache", "X-Warehouse-Build": stamp}
        if etag in (request.headers.get("if-none-match") or ""):
            return Response(status_code=304, headers=headers)
        cached = self.cache.get((stamp, canonical))
        if cached is None:
            cached = await run_in_threadpool(self._query, page, fmt, stamp, etag)
            self.cache.put((stamp, canonical), cached)
        if cached.next_cursor:
            following = request.url.include_query_params(cursor=cached.next_cursor)
            headers["Link"] = f'<{following}>; rel="next"'
            headers["X-Next-Cursor"] = cached.next_cursor
        return Response(cached.body, media_type=cached.media_type, headers=headers)

    def _query(self, page: Page, fmt: str, stamp: str, etag: str) -> Answer:
        sql, params = page.sql()
        try:
            _, rows = run_query(sql, target="warehouse", settings=self.settings, params=params)
        except QueryError as exc:
            raise HTTPException(503, f"the warehouse cannot answer now: {exc}") from exc
        more = len(rows) > page.limit
        rows = rows[: page.limit]
        next_cursor = _cursor(page.offset + page.limit, stamp, self.cursor_key) if more else None
        return Answer(_encode(page.resource, rows, fmt), FORMATS[fmt], etag, next_cursor)

    def _routes(self) -> None:
        @self.router.get("/resources", summary="Every resource: its columns, types and key")
        def resources() -> list[dict[str, Any]]:
            return [
                {
                    "name": r.name,
                    "path": f"/v1/{r.name}",
                    "description": r.description,
                    "key": list(r.key),
                    "columns": [
                        {"name": c.name, "type": c.kind, "description": c.description}
                        for c in r.columns
                    ],
                }
                for r in self.catalog.values()
            ]

        for resource in self.catalog.values():
            self._resource_route(resource)

        names = sorted(self.catalog)
        media = {**FORMATS, "json": "application/json"}

        @self.router.get(
            "/extracts",
            summary="The data extracts: each mart and dimension as Parquet and CSV, rebuilt "
            "after every warehouse build, with its dictionary",
        )
        def extracts() -> list[dict[str, Any]]:
            return [
                {**d, "downloads": {f: f"/v1/extracts/{d['name']}.{f}"
                                    for f in ("parquet", "csv", "json")}}
                for d in list_extracts(self.settings)
            ]  # fmt: skip

        @self.router.get(
            "/extracts/{name}.{file_format}",
            summary="One extract's file (json: its dictionary)",
            responses={404: {"description": "No such extract (yet)"}},
            response_class=Response,
        )
        def extract_file(
            name: str = PathParam(json_schema_extra={"enum": names}),
            file_format: str = PathParam(json_schema_extra={"enum": ["parquet", "csv", "json"]}),
        ) -> Response:
            if name not in self.catalog or file_format not in media:
                raise HTTPException(404, f"no extract {name}.{file_format}")
            body = read_extract(self.settings, name, file_format)
            if body is None:
                raise HTTPException(404, f"no extract {name} yet: it is written after a build")
            disposition = f'attachment; filename="{name}.{file_format}"'
            return Response(body, media_type=media[file_format],
                            headers={"Content-Disposition": disposition})  # fmt: skip

        hires = self.catalog.get("hr_hires_by_quarter")
        above = self.catalog.get("hr_departments_above_mean")
        if hires is not None:
            self._kpi_route(
                "/hr/hires-by-quarter",
                hires,
                [("department", False), ("job", False)],
                "Hires per department and job per quarter of a year, ordered by department "
                "then job.",
            )
        if above is not None:
            self._kpi_route(
                "/hr/departments-above-mean",
                above,
                [("hired", True), ("department", False)],
                "Departments that hired more than the mean of all departments in a year, most "
                "first.",
            )

    def _responses(self, resource: Resource) -> dict[int | str, dict[str, Any]]:
        model = row_model(resource)
        return {
            200: {
                "description": "The rows of the page. `X-Next-Cursor` and `Link` name the next "
                "page while there is one.",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/vnd.apache.parquet": {
                        "schema": {"type": "string", "format": "binary"}
                    },
                },
                "model": list[model],  # type: ignore[valid-type]
            },
            304: {"description": "Not modified since the ETag given in If-None-Match"},
            400: {"description": "An unknown parameter, or a value of the wrong type"},
            401: {"description": "Reading needs a token with the read scope"},
            410: {"description": "The warehouse was rebuilt since the cursor was given"},
            503: {"description": "The warehouse cannot answer now (not built, or being written)"},
        }

    def _parameters(self, resource: Resource) -> list[dict[str, Any]]:
        """The query parameters of a resource's route, for the OpenAPI schema (the handler reads
        them from the query string: their names come from the catalog)."""
        schema_of = {
            "string": {"type": "string"}, "integer": {"type": "integer"},
            "number": {"type": "number"}, "boolean": {"type": "boolean"},
            "date": {"type": "string", "format": "date"},
            "timestamp": {"type": "string", "format": "date-time"},
        }  # fmt: skip
        parameters: list[dict[str, Any]] = []
        for c in resource.columns:
            about = c.description or c.name
            parameters.append(
                {"name": c.name, "in": "query", "required": False,
                 "description": f"equal to: {about}", "schema": schema_of[c.kind]}
            )  # fmt: skip
            if c.kind in RANGED:
                for op, word in (("gte", "at least"), ("lte", "at most")):
                    parameters.append(
                        {"name": f"{c.name}__{op}", "in": "query", "required": False,
                         "description": f"{word}: {about}", "schema": schema_of[c.kind]}
                    )  # fmt: skip
        names = ", ".join(c.name for c in resource.columns)
        one = "-?(" + "|".join(c.name for c in resource.columns) + ")"
        parameters += [
            {"name": "sort", "in": "query", "required": False,
             "description": f"columns, comma-separated, `-` for descending, of: {names}",
             "schema": {"type": "string", "pattern": f"^{one}(,{one})*$"}},
            {"name": "limit", "in": "query", "required": False,
             "description": f"rows per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT:,})",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
            {"name": "cursor", "in": "query", "required": False,
             "description": "the next page, as X-Next-Cursor gave it",
             "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$"}},
            {"name": "format", "in": "query", "required": False,
             "schema": {"type": "string", "enum": list(FORMATS)}},
        ]  # fmt: skip
        return parameters

    def _resource_route(self, resource: Resource) -> None:
        async def read(request: Request) -> Response:
            return await self.answer(request, resource)

        read.__doc__ = resource.description or resource.name
        self.router.add_api_route(
            f"/{resource.name}",
            read,
            methods=["GET"],
            name=resource.name,
            operation_id=f"read_{resource.name}",
            summary=f"{resource.relation}",
            responses=self._responses(resource),
            openapi_extra={"parameters": self._parameters(resource)},
        )

    def _kpi_route(
        self, path: str, resource: Resource, order: list[tuple[str, bool]], about: str
    ) -> None:
        async def kpi(
            request: Request,
            year: int = Query(..., ge=1900, le=2100, description="The calendar year (UTC)"),
        ) -> Response:
            if any(k != "format" and k != "year" for k in request.query_params):
                raise HTTPException(400, "this endpoint takes year and format only")
            wanted = [(k, v) for k, v in request.query_params.multi_items() if k == "format"]
            fixed = [("year", str(year)), ("limit", str(MAX_LIMIT)), *wanted]
            return await self.answer(_ScopedRequest(request, fixed), resource, order)  # type: ignore[arg-type]

        kpi.__doc__ = about
        self.router.add_api_route(
            path, kpi, methods=["GET"], name=path.strip("/").replace("/", "_"), summary=about,
            operation_id="kpi_" + path.strip("/").replace("/", "_").replace("-", "_"),
            responses=self._responses(resource),
        )  # fmt: skip


class _ScopedRequest:
    """A request seen with other query parameters (the KPI endpoints' fixed ones)."""

    def __init__(self, request: Request, query: list[tuple[str, str]]) -> None:
        from starlette.datastructures import QueryParams

        self._request = request
        self.query_params = QueryParams(query)
        self.headers = request.headers
        self.url = request.url

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)
