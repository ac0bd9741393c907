"""`gourmand serve`: the HR ingest API, the same validation and rejects as `gourmand ingest`.

POST /ingest/{table} takes 1 to 1,000 rows, as a JSON array of objects (field name -> value) or
as header-less CSV (`Content-Type: text/csv`). A batch outside that size is refused whole (413
above 1,000, 422 for none) and nothing of it is written; otherwise every row gets a result,
accepted or rejected with the rules it broke. GET /records/{table}/{id} returns one stored row.
Every route but /health, /docs and /openapi.json needs `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Request
from pydantic import BaseModel

from extract.runtime.reader import ReaderUnavailable, connect_reader
from extract.settings import Settings
from extract.sources.hr.ingest import IngestError, ingest, parse_json_body
from extract.sources.hr.rules import (
    DATASET,
    TABLES,
    ParsedRow,
    hr_table,
    parse_csv_lines,
    parse_records,
)

MAX_ROWS = 1_000
MAX_BODY_BYTES = 4 * 1024 * 1024  # 1,000 rows are ~100 kB; anything this big is not a batch

# Declared as an enum for clients and fuzzers; checked by _table_or_404, so an unknown table
# is a 404 saying which tables exist rather than FastAPI's generic 422.
TableName = Annotated[
    str, Path(description=f"one of {', '.join(TABLES)}", json_schema_extra={"enum": list(TABLES)})
]
_VALUE = {"type": ["integer", "string", "null"]}
# The body is read raw (JSON or CSV by Content-Type), so its schema is declared here: the docs
# show it and the fuzz test posts it.
INGEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1000,
                "items": {
                    "type": "object",
                    "properties": {
                        name: _VALUE for table in TABLES.values() for name in table.field_names
                    },
                    "additionalProperties": _VALUE,
                },
            }
        },
        "text/csv": {
            "schema": {"type": "string", "pattern": r"\S", "description": "header-less CSV lines"}
        },
    },
}


class RowResult(BaseModel):
    line: int
    id: int | None
    status: str  # "accepted" or "rejected"
    reasons: list[str] = []


class BatchResult(BaseModel):
    table: str
    batch: str
    received: int
    accepted: int
    rejected: int
    inserted: int
    updated: int
    unchanged: int
    rows: list[RowResult]


def _table_or_404(table: str) -> str:
    if table not in TABLES:
        raise HTTPException(404, f"unknown table {table!r}; expected one of {', '.join(TABLES)}")
    return table


async def _capped_body(request: Request) -> bytes:
    """The request's body, refused with a 413 as soon as it passes MAX_BODY_BYTES (a declared
    Content-Length over it before any of it is read): a huge or endless body is never held."""
    declared = request.headers.get("content-length", "")
    too_big = HTTPException(413, f"the body is over {MAX_BODY_BYTES:,} bytes; nothing ingested")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _rows(table: str, content_type: str, body: bytes) -> list[ParsedRow]:
    spec = hr_table(table)
    # the media type alone, as RFC 9110 spells it: parameters after ';', any case
    media = content_type.partition(";")[0].strip().lower()
    if media == "text/csv":
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise HTTPException(400, f"the CSV body is not UTF-8: {exc}") from exc
        # lines end at "\n" only, as in files (str.splitlines would also split at \x0c, \x85...)
        return list(parse_csv_lines(spec, io.StringIO(text)))
    if media not in ("", "application/json"):
        raise HTTPException(415, "send application/json (an array of objects) or text/csv")
    try:
        records = parse_json_body(body)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    return list(parse_records(spec, records))


def create_app(settings: Settings, token: str) -> FastAPI:
    """The ingest API alone, one token (the whole serving app is extract/serve/app.py)."""
    from extract.serve.auth import Tokens

    if not token:
        raise ValueError("the ingest API needs a token (GOURMAND_INGEST_TOKEN)")
    app = FastAPI(
        title="Gourmand HR ingest",
        version="1",
        description="Batches of 1 to 1,000 HR rows, checked against the data dictionary.",
    )

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(ingest_router(settings, Tokens({token: {"ingest"}}).require("ingest")))
    return app


def _batch_result(table: str, result: Any, rows: list[Any]) -> BatchResult:
    """The answer to a batch: its figures and each row's fate, with the reasons of a reject."""
    reasons = dict(result.rejects)
    return BatchResult(
        table=table,
        batch=result.batch,
        received=result.received,
        accepted=result.loaded,
        rejected=result.rejected,
        inserted=result.inserted,
        updated=result.updated,
        unchanged=result.unchanged,
        rows=[
            RowResult(
                line=row.line_number,
                id=row.values[0],
                status="rejected" if row.line_number in reasons else "accepted",
                reasons=reasons[row.line_number].split("; ") if row.line_number in reasons else [],
            )
            for row in rows
        ],
    )


def _record(settings: Settings, spec: Any, record_id: int) -> dict[str, Any]:
    """One stored row by its id, read as the read-only role (an untrusted caller never reads
    as the owner); 404 when the table or the row is not there, 503 without a reader."""
    try:
        conn = connect_reader(settings)
    except ReaderUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    try:
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute("SELECT to_regclass(%s)", (f"{DATASET}.{spec.name}",))
            if cur.fetchone()[0] is None:
                raise HTTPException(404, f"no {spec.name} have been ingested yet")
            cur.execute(
                f"SELECT {', '.join(spec.field_names)} FROM {DATASET}.{spec.name} "
                f"WHERE {spec.id_field} = %s",
                (record_id,),
            )
            found = cur.fetchone()
    finally:
        conn.close()
    if found is None:
        raise HTTPException(404, f"no {spec.name} row with {spec.id_field} {record_id}")
    return {
        name: value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
        for name, value in zip(spec.field_names, found, strict=True)
    }


def ingest_router(settings: Settings, authorized: Callable[..., Any]) -> APIRouter:
    """POST /ingest/{table} and GET /records/{table}/{id}, behind `authorized`."""
    app = APIRouter()

    @app.post(
        "/ingest/{table}",
        response_model=BatchResult,
        dependencies=[Depends(authorized)],
        responses={
            400: {"description": "malformed JSON or CSV"},
            401: {"description": "missing or wrong token"},
            404: {"description": "unknown table"},
            413: {"description": "more than 1,000 rows (nothing ingested)"},
            415: {"description": "a body that is neither JSON nor CSV"},
            422: {"description": "no rows (nothing ingested)"},
        },
        openapi_extra={"requestBody": INGEST_BODY},
    )
    async def ingest_batch(table: TableName, request: Request) -> BatchResult:
        """Ingest one batch; rows that break the dictionary go to raw_hr._rejects."""
        table = _table_or_404(table)
        body = await _capped_body(request)
        rows = _rows(table, request.headers.get("content-type", "application/json"), body)
        if len(rows) > MAX_ROWS:
            raise HTTPException(
                413, f"a batch holds at most {MAX_ROWS:,} rows, got {len(rows):,}; nothing ingested"
            )
        if not rows:
            raise HTTPException(422, "a batch holds 1 to 1,000 rows, got none; nothing ingested")
        from starlette.concurrency import run_in_threadpool

        try:
            result = await run_in_threadpool(
                ingest, settings, table, rows, context="api", batch_prefix="api",
                refuse_if_misshapen=False,
            )  # fmt: skip
        except IngestError as exc:
            raise HTTPException(422, str(exc)) from exc
        return _batch_result(table, result, rows)

    @app.get(
        "/records/{table}/{record_id}",
        dependencies=[Depends(authorized)],
        responses={
            401: {"description": "missing or wrong token"},
            404: {"description": "unknown table, or no row with that id"},
            503: {"description": "no read-only role configured (GOURMAND_READER_DSN)"},
        },
    )
    def record(table: TableName, record_id: int) -> dict[str, Any]:
        """One stored row by its id."""
        return _record(settings, hr_table(_table_or_404(table)), record_id)

    return app
