"""What a Socrata load needs around the dlt run: its watermark, the stored version of incoming
requests, the reset, the load metadata table, and the post-load ANALYZE / VACUUM.

`raw_socrata._socrata_loads` keeps one row per load: mode, years, since, the watermark after the
load, inserted, updated, rejected and seconds (as the LA 311 pipelines wrote after each load),
and its load ids. That row is written last, once the load is whole (deduplicated, indexed): the
OLTP model folds the loads listed there that it has not folded yet (dbt_oltp/macros/la311.sql),
so a load is never folded half-written, and loads fold in any order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from extract.runtime.postgres import connect
from extract.settings import Settings
from extract.sources.socrata.pages import DATASET, RESOURCE

TABLE = f'{DATASET}."{RESOURCE}"'
LOADS = f'{DATASET}."_socrata_loads"'
VACUUM_SHARE = 0.2  # VACUUM when a load rewrote more than this share of the table
ANALYZE_ALL_SHARE = 0.1  # ANALYZE every column when a load changed more than this share


def _table_exists(cur: Any) -> bool:
    cur.execute("SELECT to_regclass(%s)", (f"{DATASET}.{RESOURCE}",))
    return cur.fetchone()[0] is not None


def _has_load_ids(cur: Any) -> bool:
    cur.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = '_socrata_loads' AND column_name = 'load_ids'",
        (DATASET,),
    )
    return cur.fetchone() is not None


def _text(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000") if moment else None


def watermark(settings: Settings) -> str | None:
    """The newest `updateddate` loaded, as Socrata's floating timestamp text: the last load's
    recorded watermark, else (loads from before the metadata table) the table's maximum."""
    found: str | None = None
    with connect(settings, read_only=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (f"{DATASET}._socrata_loads",))
        if cur.fetchone()[0] is not None:
            cur.execute(
                f"SELECT watermark FROM {LOADS} WHERE watermark IS NOT NULL "
                "ORDER BY loaded_at DESC LIMIT 1"
            )
            row = cur.fetchone()
            found = str(row[0]) if row else None
        if found is None and _table_exists(cur):
            cur.execute(f"SELECT max(updateddate) FROM {TABLE}")
            found = _text(cur.fetchone()[0])
    conn.close()
    return found


def prepare_bulk(settings: Settings) -> bool:
    """True when the table is empty, so the load may append: then the key's index is dropped
    (a bulk load into an indexed table is slower, and duplicates inside the load must reach
    `_dedupe` instead of failing the COPY); `after_load` builds it again."""
    with connect(settings) as conn, conn.cursor() as cur:
        empty = True
        if _table_exists(cur):
            cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {TABLE})")
            empty = bool(cur.fetchone()[0])
            if empty:
                cur.execute(f"DROP INDEX IF EXISTS {DATASET}.service_requests_srnumber")
                cur.execute(f"DROP INDEX IF EXISTS {DATASET}.service_requests_updateddate")
                cur.execute(f"DROP INDEX IF EXISTS {DATASET}.service_requests_load_id")
    conn.close()
    return empty


def _dedupe(cur: Any) -> int:
    """Keep one row per srnumber (the newest updateddate) after an appended bulk load, which
    has no staging table to deduplicate in; returns the rows removed."""
    cur.execute(f"SELECT count(*) - count(DISTINCT srnumber) FROM {TABLE}")
    if not cur.fetchone()[0]:
        return 0
    cur.execute(
        f"DELETE FROM {TABLE} AS a USING {TABLE} AS b WHERE a.srnumber = b.srnumber "
        "AND (a.updateddate, a.ctid) < (b.updateddate, b.ctid)"
    )
    return int(cur.rowcount)


def loaded_years(settings: Settings) -> set[int]:
    """Years loaded in full so far, from the load metadata."""
    with connect(settings, read_only=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (f"{DATASET}._socrata_loads",))
        if cur.fetchone()[0] is None:
            return set()
        cur.execute(f"SELECT DISTINCT years FROM {LOADS} WHERE mode = 'full'")
        found = {int(y) for (years,) in cur.fetchall() for y in (years or "").split(",") if y}
    conn.close()
    return found


def stored_updates(settings: Settings) -> Any:
    """A lookup `srnumbers -> {srnumber: loaded updateddate}` for one page at a time."""

    def lookup(srnumbers: list[str]) -> dict[str, datetime]:
        if not srnumbers:
            return {}
        with connect(settings, read_only=True) as conn, conn.cursor() as cur:
            if not _table_exists(cur):
                return {}
            cur.execute(
                f"SELECT srnumber, updateddate FROM {TABLE} WHERE srnumber = ANY(%s)",
                (srnumbers,),
            )
            found = dict(cur.fetchall())
        conn.close()
        return found

    return lookup


def drop_unreloaded(settings: Settings, load_ids: Sequence[str]) -> int:
    """The reset option, after its reload: delete the requests the reload did not bring.

    A reset reloads into the table it replaces (merging on srnumber, one transaction per load)
    and then deletes the rest in one statement, so a reader never sees the table empty, and a
    reset killed anywhere leaves the old rows (or old and new) until it is run again."""
    with connect(settings) as conn, conn.cursor() as cur:
        if not _table_exists(cur):
            return 0
        cur.execute(f"DELETE FROM {TABLE} WHERE NOT (_dlt_load_id = ANY(%s))", (list(load_ids),))
        removed = int(cur.rowcount)
    conn.close()
    return removed


def after_load(
    settings: Settings,
    *,
    dedupe: bool,
    mode: str,
    years: Sequence[int],
    since: str | None,
    newest: datetime | None,
    inserted: int,
    updated: int,
    rejected: int,
    seconds: float,
    load_ids: Sequence[str],
) -> dict[str, Any]:
    """Record the load, refresh the planner's statistics, VACUUM after a large rewrite."""
    conn = connect(settings)
    conn.autocommit = True  # VACUUM cannot run inside a transaction
    with conn.cursor() as cur:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {LOADS} (mode text NOT NULL, years text, since text, "
            "watermark text, inserted bigint NOT NULL, updated bigint NOT NULL, "
            "rejected bigint NOT NULL, seconds double precision NOT NULL, "
            "vacuumed boolean NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now(), "
            "load_ids text)"
        )
        load_ids = list(load_ids)
        if not _has_load_ids(cur):
            # a home loaded before load ids were recorded: every load its rows came from has
            # finished, and this row lists them too, so the OLTP model can fold by load
            cur.execute(f"ALTER TABLE {LOADS} ADD COLUMN load_ids text")
            if _table_exists(cur):
                cur.execute(f"SELECT DISTINCT _dlt_load_id FROM {TABLE}")
                load_ids = sorted({*load_ids, *(r[0] for r in cur.fetchall())})
        total = 0
        removed = 0
        if _table_exists(cur):
            removed = _dedupe(cur) if dedupe else 0
            # the key's index: page lookups of stored versions and the merge's DELETE go
            # through it, so an update costs what it changes, not what the table holds
            cur.execute(
                f"CREATE UNIQUE INDEX IF NOT EXISTS service_requests_srnumber ON {TABLE} (srnumber)"
            )
            # the OLTP model's incremental window reads `updateddate >= newest folded`: an
            # index scan of the changes instead of a scan of the table
            cur.execute(
                f"CREATE INDEX IF NOT EXISTS service_requests_updateddate ON {TABLE} (updateddate)"
            )
            # the OLTP models read the rows of the loads they fold: `_dlt_load_id IN (...)`
            cur.execute(
                f"CREATE INDEX IF NOT EXISTS service_requests_load_id ON {TABLE} (_dlt_load_id)"
            )
            # the planner's row estimate (the last ANALYZE's): no count(*) over millions
            cur.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                        (f"{DATASET}.{RESOURCE}",))  # fmt: skip
            total = max(cur.fetchone()[0], 0)
            changed = inserted + updated
            if total <= 0 or changed > ANALYZE_ALL_SHARE * total:
                cur.execute(f"ANALYZE {TABLE}")  # every column: much of the table is new
            else:
                # a small update: refresh what the queries on this table plan on (the key,
                # the incremental window's updateddate) from a tenth of the default sample
                # (3,000 rows): what a small change can move, at a tenth of the cost
                cur.execute("SET default_statistics_target = 10")
                cur.execute(f"ANALYZE {TABLE} (srnumber, updateddate)")
                cur.execute("RESET default_statistics_target")
        vacuumed = bool(total) and updated > VACUUM_SHARE * total
        newest_loaded = None
        if _table_exists(cur):
            cur.execute(f"SELECT max(updateddate) FROM {TABLE}")  # the index's last entry
            newest_loaded = _text(cur.fetchone()[0])
        if vacuumed:
            cur.execute(f"VACUUM {TABLE}")
    conn.close()
    record = {
        "mode": mode,
        "years": ",".join(map(str, years)),
        "since": since,
        # the newest updateddate the table holds: what was actually loaded, never a --since
        # typed by hand (a future-dated one would stall every later update)
        "watermark": newest_loaded or _text(newest),
        "inserted": inserted - removed,
        "updated": updated,
        "rejected": rejected,
        "seconds": round(seconds, 3),
        "vacuumed": vacuumed,
        "load_ids": ",".join(load_ids),
    }
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {LOADS} (mode, years, since, watermark, inserted, updated, rejected, "
            "seconds, vacuumed, load_ids) VALUES (%(mode)s, %(years)s, %(since)s, "
            "%(watermark)s, %(inserted)s, %(updated)s, %(rejected)s, %(seconds)s, "
            "%(vacuumed)s, %(load_ids)s)",
            record,
        )
    conn.close()
    return record
