"""The 311 update run: the changed requests upserted on `srnumber` through a temp table, as the
LA 311 pipelines did, instead of a dlt pipeline run.

A daily update carries ~1% of the table. dlt's run costs a fixed ~0.8 s (schema sync, state,
normalize, load package) and its delete-insert merge deletes through `EXISTS (staging)` on
a staging table without statistics, which Postgres answers with a scan of the whole table
(2.1 s at 5M rows): the update would cost what the table costs. Here the pages (the same
`good_pages` the dlt resource yields, so paging, typing and rejects are shared) are COPYed into
a temp table, and one `INSERT ... ON CONFLICT (srnumber) DO UPDATE` writes them through the
key's unique index unless the loaded version is newer; the same statement counts inserted vs
updated and returns the rows it did not write, which go to rejects. The rows, their rejects and
the batch's `_loads` row commit in one transaction, as a dlt load package would.

Full loads stay on dlt (Parquet through ADBC, the faster path for millions of new rows).
"""

from __future__ import annotations

import io
import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from extract.runtime.postgres import connect
from extract.settings import Settings
from extract.sources.accounting import LOADS_TABLE, REJECTS_TABLE, BatchLedger
from extract.sources.socrata.pages import COLUMNS, DATASET, RESOURCE

TABLE = f'{DATASET}."{RESOURCE}"'
OLDER = "updateddate is older than the loaded version"
_COLUMN_LIST = ", ".join(COLUMNS)


def can_upsert(settings: Settings) -> bool:
    """The table and its unique key index exist (a full load made them)."""
    with connect(settings, read_only=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (f"{DATASET}.service_requests_srnumber",))
        found = cur.fetchone()[0] is not None
    conn.close()
    return found


def load_id() -> str:
    """A load id in dlt's format (epoch seconds), for `_dlt_load_id` of the rows written."""
    return f"{time.time():.6f}"


def _csv(page: pa.Table) -> io.BytesIO:
    # naive timestamps as "2024-01-02 03:04:05.000": read as UTC (SET TIME ZONE below), as
    # dlt stored the full load's naive timestamps
    buffer = io.BytesIO()
    pacsv.write_csv(page, buffer, pacsv.WriteOptions(include_header=False))
    buffer.seek(0)
    return buffer


def upsert(
    settings: Settings, pages: Iterable[pa.Table], ledger: BatchLedger, load: str
) -> tuple[int, int]:
    """Write `pages` into the table; returns (inserted, updated). A page's requests that are
    older than their loaded version are demoted to rejects in `ledger` (its rows and `_loads`
    row are written in the same transaction)."""
    conn = connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute(
                f"CREATE TEMP TABLE incoming ON COMMIT DROP AS "
                f"SELECT {_COLUMN_LIST} FROM {TABLE} WITH NO DATA"
            )
            for page in pages:
                cur.copy_expert(
                    f"COPY incoming ({', '.join(page.column_names)}) FROM STDIN WITH (FORMAT csv)",
                    _csv(page),
                )
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "srnumber")
            # One statement: the upsert, its counts, and the copies of the requests it did not
            # write, whose loaded version is newer (the ON CONFLICT condition), as rejects. Found
            # by an anti-join of the batch with what the upsert returned, not by a second lookup
            # of the table per request (a correlated probe per row took 1.3 s of a 50k update)
            cur.execute(
                f"""
                WITH newest AS (
                    -- a request listed twice in one batch: its newest version
                    SELECT DISTINCT ON (srnumber) * FROM incoming
                    ORDER BY srnumber, updateddate DESC
                ), written AS (
                    INSERT INTO {TABLE} ({_COLUMN_LIST}, _dlt_load_id)
                    SELECT {_COLUMN_LIST}, %s FROM newest
                    ON CONFLICT (srnumber) DO UPDATE SET {updates},
                        _dlt_load_id = EXCLUDED._dlt_load_id
                    WHERE {TABLE}.updateddate <= EXCLUDED.updateddate
                    RETURNING srnumber, (xmax = 0) AS fresh
                )
                SELECT
                    (SELECT count(*) FILTER (WHERE fresh) FROM written),
                    (SELECT count(*) FILTER (WHERE NOT fresh) FROM written),
                    (SELECT coalesce(json_agg(row_to_json(i)), '[]')::text FROM incoming AS i
                     WHERE NOT EXISTS (SELECT 1 FROM written AS w WHERE w.srnumber = i.srnumber))
                """,
                (load,),
            )
            inserted, updated, older = cur.fetchone()
            for row in json.loads(older):
                ledger.demote({k: v for k, v in row.items() if v is not None}, OLDER, "upsert")
            _write_ledger(cur, ledger, load)
        conn.commit()
    finally:
        conn.close()
    return int(inserted), int(updated)


def _write_ledger(cur: Any, ledger: BatchLedger, load: str) -> None:
    """The batch's rejects and `_loads` row, replacing an earlier run's of the same batch."""
    key = (ledger.resource, ledger.batch)
    cur.execute(
        f'CREATE TABLE IF NOT EXISTS {DATASET}."{LOADS_TABLE}" (resource varchar NOT NULL, '
        "batch varchar NOT NULL, received bigint NOT NULL, loaded bigint NOT NULL, "
        "rejected bigint NOT NULL, extract_seconds double precision NOT NULL, "
        "extracted_at timestamp with time zone NOT NULL, _dlt_load_id varchar NOT NULL, "
        "_dlt_id varchar NOT NULL UNIQUE)"
    )
    for table in (LOADS_TABLE, REJECTS_TABLE):
        cur.execute(f'DELETE FROM {DATASET}."{table}" WHERE resource = %s AND batch = %s', key)
    summary = ledger.summary_row()
    cur.execute(
        f'INSERT INTO {DATASET}."{LOADS_TABLE}" (resource, batch, received, loaded, rejected, '
        "extract_seconds, extracted_at, _dlt_load_id, _dlt_id) VALUES "
        "(%(resource)s, %(batch)s, %(received)s, %(loaded)s, %(rejected)s, "
        "%(extract_seconds)s, %(extracted_at)s, %(load)s, %(id)s)",
        {**summary, "load": load, "id": secrets.token_urlsafe(10)},
    )
    for reject in ledger.rejects:
        cur.execute(
            f'INSERT INTO {DATASET}."{REJECTS_TABLE}" (resource, batch, reason, payload, '
            "context, extracted_at, _dlt_load_id, _dlt_id) VALUES (%(resource)s, %(batch)s, "
            "%(reason)s, %(payload)s, %(context)s, %(extracted_at)s, %(load)s, %(id)s)",
            {**reject, "load": load, "id": secrets.token_urlsafe(10)},
        )
