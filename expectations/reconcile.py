"""Reconciliation raw -> oltp -> lake -> warehouse: each rule names the key of one entity in
every layer and how the layers must agree.

A layer's fingerprint is its number of distinct keys and a checksum of them (the sum of each
key's md5, truncated). Where layers share the key (1:1) both must be equal; where they do not
(raw Yelp ids vs hashed OLTP ids), the counts must. The lake is read from its Parquet files
(key columns only) the way the warehouse staging reads it: each row's latest version, hidden when
a tombstone (`oltp/deleted_rows`) deleted it after that version, for the tables the OLTP model
deletes rows from (a day loaded again can take a review or a holding away: counting every key
ever exported, the lake had more than the OLTP model and the warehouse after any such day).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from expectations.runner import Outcome
from extract.settings import Settings

MASK = (1 << 63) - 1


@dataclass(frozen=True)
class Fingerprint:
    count: int
    checksum: int


def fingerprint(keys: Iterable[str]) -> Fingerprint:
    distinct = set(keys)
    total = 0
    for key in distinct:
        total = (total + int(hashlib.md5(key.encode()).hexdigest()[:15], 16)) & MASK
    return Fingerprint(len(distinct), total)


@dataclass(frozen=True)
class Rule:
    check: str
    table: str  # the OLTP table (and lake folder) of the entity
    raw_sql: str  # distinct keys in raw, after the documented filters
    raw_shares_key: bool  # raw's key equals the other layers' (checksums comparable)
    oltp_sql: str
    lake_columns: tuple[str, ...]
    warehouse_sql: str
    note: str
    # a raw table that only exists after its source's first load (then every layer is empty)
    raw_relation: str | None = None
    # the OLTP table's unique key as its tombstones name rows (dbt_oltp's tombstone_key), for a
    # table the OLTP model deletes rows from; () when it never deletes
    tombstone_key: tuple[str, ...] = ()


RULES: tuple[Rule, ...] = (
    Rule(
        "reconcile_business_holding",
        "business_holding",
        "SELECT DISTINCT id || '|' || surveyed_on::text FROM raw_yelp.businesses "
        "WHERE id IS NOT NULL",
        False,  # raw has Yelp ids, the later layers the md5 business_id: counts must agree
        "SELECT business_id || '|' || surveyed_on::text FROM oltp.business_holding",
        ("business_id", "surveyed_on"),
        "select business_id || '|' || cast(surveyed_on as varchar) from dwh.fct_business_holding",
        "one holding per business per survey day in every layer",
        tombstone_key=("business_id", "surveyed_on"),
    ),
    Rule(
        "reconcile_review",
        "review",
        "SELECT DISTINCT id FROM raw_yelp.reviews WHERE id IS NOT NULL",
        True,
        "SELECT yelp_review_id FROM oltp.review",
        ("yelp_review_id",),
        "select yelp_review_id from dwh.dim_review",
        "one row per Yelp review id; dim_review holds each review's current version",
        tombstone_key=("review_id",),
    ),
    Rule(
        "reconcile_county_growth",
        "county_growth",
        # the documented filter: DATE_CODE 1 and 2 are April-2010 counts, not yearly estimates
        "SELECT DISTINCT state_fips || county_fips || '|' || estimate_year::text "
        "FROM raw_census.county_population WHERE estimate_year IS NOT NULL",
        False,  # raw has FIPS codes, the later layers the hashed county_id
        "SELECT county_id || '|' || estimation_year::text FROM oltp.county_growth",
        ("county_id", "estimation_year"),
        "select county_key || '|' || cast(estimation_year as varchar) from dwh.fct_county_growth",
        "county-years of the yearly estimates (raw rows with an estimate_year)",
        tombstone_key=("county_id", "estimation_year"),
    ),
    Rule(
        "reconcile_service_request",
        "service_request",
        "SELECT srnumber FROM raw_socrata.service_requests",
        True,  # srnumber in every layer
        "SELECT srnumber FROM oltp.service_request",
        ("srnumber",),
        "select srnumber from dwh.fct_service_request",
        "one row per LA 311 request (srnumber) in every layer",
        raw_relation="raw_socrata.service_requests",
    ),
)


def _pg_keys(settings: Settings, sql: str) -> list[str]:
    from expectations.db import pg_frame

    frame = pg_frame(settings, sql)
    return [str(v) for v in frame.iloc[:, 0]] if not frame.empty else []


def _joined(data: Any, columns: tuple[str, ...]) -> list[Any]:
    """Each row's `columns` as one text, joined with '|' (as tombstones name a row)."""
    import pyarrow.compute as pc

    parts = [pc.cast(data.column(c), "string") for c in columns]
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "|")
    return list(joined.to_pylist())


def _lake_tables(settings: Settings, folder: str, columns: list[str]) -> Iterator[Any]:
    import pyarrow.parquet as pq

    from extract.lake.files import list_files, open_lake

    lake = open_lake(settings)
    for path in list_files(lake, f"oltp/{folder}"):
        with lake.fs.open(path, "rb") as fh:
            yield pq.read_table(fh, columns=columns)


def _lake_keys(settings: Settings, rule: Rule) -> list[str]:
    if not rule.tombstone_key:
        return [str(k) for t in _lake_tables(settings, rule.table, list(rule.lake_columns))
                for k in _joined(t, rule.lake_columns)]  # fmt: skip
    # the latest version of each row, unless a tombstone deleted it after that version
    wanted = sorted({*rule.lake_columns, *rule.tombstone_key, "last_edited_at"})
    latest: dict[str, tuple[Any, str]] = {}
    for data in _lake_tables(settings, rule.table, wanted):
        rows = zip(_joined(data, rule.tombstone_key), _joined(data, rule.lake_columns),
                   data.column("last_edited_at").to_pylist(), strict=True)  # fmt: skip
        for row_key, key, edited in rows:
            if row_key not in latest or edited > latest[row_key][0]:
                latest[row_key] = (edited, key)
    deleted: dict[str, Any] = {}
    for data in _lake_tables(settings, "deleted_rows", ["table_name", "row_key", "deleted_at"]):
        for table, row_key, at in zip(*(data.column(c).to_pylist() for c in data.column_names),
                                      strict=True):  # fmt: skip
            if table == rule.table and (row_key not in deleted or at > deleted[row_key]):
                deleted[row_key] = at
    return [
        str(key)
        for row_key, (edited, key) in latest.items()
        if row_key not in deleted or deleted[row_key] < edited
    ]


def _warehouse_keys(settings: Settings, sql: str) -> list[str]:
    from extract.runtime.publication import WORKING
    from extract.runtime.query import run_query

    # the run's build, audited before it is published
    _, rows = run_query(sql, target="warehouse", settings=settings, internal=True, build=WORKING)
    return [str(r[0]) for r in rows]


def reconcile(settings: Settings, rule: Rule) -> Outcome:
    from expectations.db import pg_value

    started = time.perf_counter()
    loaded = rule.raw_relation is None or (
        pg_value(settings, "SELECT to_regclass(%s)", (rule.raw_relation,)) is not None
    )
    layers: list[tuple[str, Callable[[], list[str]]]] = [
        ("raw", lambda: _pg_keys(settings, rule.raw_sql) if loaded else []),
        ("oltp", lambda: _pg_keys(settings, rule.oltp_sql)),
        ("lake", lambda: _lake_keys(settings, rule)),
        ("warehouse", lambda: _warehouse_keys(settings, rule.warehouse_sql)),
    ]
    prints = {name: fingerprint(fetch()) for name, fetch in layers}
    mismatches = []
    for (before, _), (after, _) in zip(layers, layers[1:], strict=False):
        a, b = prints[before], prints[after]
        if a.count != b.count:
            mismatches.append(
                f"{rule.table}: {before} has {a.count:,} keys, {after} has {b.count:,}"
            )
        elif (before != "raw" or rule.raw_shares_key) and a.checksum != b.checksum:
            mismatches.append(
                f"{rule.table}: {before} and {after} both have {a.count:,} keys, but different "
                "ones (key checksums differ)"
            )
    counts = ", ".join(f"{name} {fp.count:,}" for name, fp in prints.items())
    observed = "; ".join(mismatches) if mismatches else f"{counts}; key checksums equal"
    outcome = Outcome(
        rule.check,
        not mismatches,
        observed,
        f"equal in every layer: {rule.note}",
        [{"layer": name, "keys": fp.count} for name, fp in prints.items()],
    )
    outcome.seconds = time.perf_counter() - started
    return outcome


def reconciliation_checks(settings: Settings, checks: Iterable[str]) -> list[Outcome]:
    wanted = set(checks)
    return [reconcile(settings, rule) for rule in RULES if rule.check in wanted]
