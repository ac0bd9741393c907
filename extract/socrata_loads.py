"""What a Socrata load needs around the dlt run: its watermark, the stored version of incoming
requests, the reset, the load metadata table, and the post-load ANALYZE / VACUUM.

`raw_socrata._socrata_loads` keeps one row per load: mode, years, since, the watermark after the
load, inserted, updated, rejected and seconds (as the LA 311 pipelines wrote after each load).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from extract.postgres import connect
from extract.settings import Settings
from extract.sources.socrata import DATASET, RESOURCE

TABLE = f'{DATASET}."{RESOURCE}"'
LOADS = f'{DATASET}."_socrata_loads"'
VACUUM_SHARE = 0.2  # VACUUM when a load rewrote more than this share of the table


def _table_exists(cur: Any) -> bool:
    cur.execute("SELECT to_regclass(%s)", (f"{DATASET}.{RESOURCE}",))
    return cur.fetchone()[0] is not None


def watermark(settings: Settings) -> str | None:
    """The newest `updateddate` loaded, as Socrata's floating timestamp text."""
    with connect(settings, read_only=True) as conn, conn.cursor() as cur:
        if not _table_exists(cur):
            return None
        cur.execute(f"SELECT max(updateddate) FROM {TABLE}")
        newest = cur.fetchone()[0]
    conn.close()
    return newest.strftime("%Y-%m-%dT%H:%M:%S.000") if newest else None


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


def reset(settings: Settings) -> None:
    """Empty the table before a full reload (the reset option)."""
    with connect(settings) as conn, conn.cursor() as cur:
        if _table_exists(cur):
            cur.execute(f"TRUNCATE {TABLE}")
    conn.close()


def after_load(
    settings: Settings,
    *,
    mode: str,
    years: Sequence[int],
    since: str | None,
    inserted: int,
    updated: int,
    rejected: int,
    seconds: float,
) -> dict[str, Any]:
    """Record the load, refresh the planner's statistics, VACUUM after a large rewrite."""
    conn = connect(settings)
    conn.autocommit = True  # VACUUM cannot run inside a transaction
    with conn.cursor() as cur:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {LOADS} (mode text NOT NULL, years text, since text, "
            "watermark text, inserted bigint NOT NULL, updated bigint NOT NULL, "
            "rejected bigint NOT NULL, seconds double precision NOT NULL, "
            "vacuumed boolean NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())"
        )
        total = 0
        if _table_exists(cur):
            cur.execute(f"ANALYZE {TABLE}")
            cur.execute(f"SELECT count(*) FROM {TABLE}")
            total = cur.fetchone()[0]
        vacuumed = bool(total) and updated > VACUUM_SHARE * total
        if vacuumed:
            cur.execute(f"VACUUM {TABLE}")
    conn.close()
    record = {
        "mode": mode,
        "years": ",".join(map(str, years)),
        "since": since,
        "watermark": watermark(settings),
        "inserted": inserted,
        "updated": updated,
        "rejected": rejected,
        "seconds": round(seconds, 3),
        "vacuumed": vacuumed,
    }
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {LOADS} (mode, years, since, watermark, inserted, updated, rejected, "
            "seconds, vacuumed) VALUES (%(mode)s, %(years)s, %(since)s, %(watermark)s, "
            "%(inserted)s, %(updated)s, %(rejected)s, %(seconds)s, %(vacuumed)s)",
            record,
        )
    conn.close()
    return record
