"""The pages of a Socrata load: CSV pages (`/resource/<id>.csv`, `$order=:id`, 50,000 rows)
parsed straight into Arrow, so a million rows never become Python dicts, typed column by column,
each row kept or rejected with its reason (`good_pages`), and the source's own count checked
against what arrived. Shared by the dlt resource (`extract/sources/socrata/__init__.py`) and the
update upsert (`upsert.py`). Paging and retries are the shared ones (extract/sources/rest.py).

Rows that cannot be loaded go to `_rejects` with the reason, never dropped: no `srnumber`, no
`createddate` or `updateddate`, a timestamp that does not parse, an `updateddate` before the
request's `createddate`, or an `updateddate` older than the version already loaded (an older
copy must not overwrite a newer).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from extract.runtime.inputs import parse_timestamp, soql_timestamp
from extract.sources.accounting import BatchLedger
from extract.sources.rest import (
    HttpPolicy,
    OffsetUntilShortPage,
    SourceUnavailable,
    get_json,
    paginate_raw,
    prefetched,
    rest_client,
)
from extract.sources.socrata.datasets import LA311_DATASETS

if TYPE_CHECKING:
    import pyarrow as pa

# pyarrow (and numpy under it) is imported where it is used: loading the Dagster definitions
# imports this package and must not pay 0.2 s for it

DATASET = "raw_socrata"
RESOURCE = "service_requests"
PAGE_ROWS = 50_000  # SODA 2.0's maximum $limit
FILE_ROWS = 250_000  # rows per load file
LOAD_WORKERS = 3  # load files in flight: memory ~ FILE_ROWS x LOAD_WORKERS


TIMESTAMPS = ("createddate", "updateddate", "servicedate", "closeddate")
# the dates a request's key and versions hang on, plausible from 2000 to a day after the load
# (docs/data-dictionary.md); servicedate and closeddate are kept as the source has them
PLAUSIBLE_COLUMNS = ("createddate", "updateddate")
PLAUSIBLE_FROM = datetime(2000, 1, 1)
PLAUSIBLE_AHEAD = timedelta(days=1)
FLOATS = ("latitude", "longitude")
INTEGERS = ("cd", "nc")
COLUMNS = (
    "srnumber", "createddate", "updateddate", "actiontaken", "owner", "requesttype", "status",
    "requestsource", "mobileos", "anonymous", "assignto", "servicedate", "closeddate",
    "address", "zipcode", "latitude", "longitude", "cd", "cdmember", "nc", "ncname",
    "policeprecinct", "apc",
)  # fmt: skip


def _column_type(name: str) -> pa.DataType:
    import pyarrow as pa

    if name in TIMESTAMPS:
        return pa.timestamp("ms")
    if name in FLOATS:
        return pa.float64()
    if name in INTEGERS:
        return pa.int64()
    return pa.string()


@cache
def _schemas() -> tuple[pa.Schema, pa.Schema]:
    import pyarrow as pa

    schema = pa.schema([(name, _column_type(name)) for name in COLUMNS])
    # what is loaded: the key is never null (dlt's schema says so for a primary key; an Arrow
    # field that says otherwise makes dlt warn on every page)
    loaded = pa.schema([pa.field(f.name, f.type, nullable=f.name != "srnumber") for f in schema])
    return schema, loaded


def __getattr__(name: str) -> Any:
    """SCHEMA (the typed page) and LOADED (what is loaded), built on first use."""
    if name == "SCHEMA":
        return _schemas()[0]
    if name == "LOADED":
        return _schemas()[1]
    raise AttributeError(name)


@dataclass
class LoadStats:
    """What the source saw, for the load metadata without scanning the table afterwards:
    `existing` rows replaced a loaded version (updates), `newest` is the newest updateddate."""

    existing: int = 0
    newest: datetime | None = None


def batch_name(mode: str, years: Sequence[int], since: str | None) -> str:
    """`full-2023-2024` or `update-2025-06-01T00-00-00`: also a lake folder name."""
    if mode == "full":
        return "full-" + "-".join(str(y) for y in years)
    return "update-" + (since or "").replace(":", "-").removesuffix(".000")


def dataset_ids(configured: Mapping[int, str] | None) -> dict[int, str]:
    """The dataset id of each year: the configured ones, else LA 311's own."""
    return dict(configured or {}) or dict(LA311_DATASETS)


def parse_page(response: Any) -> pa.Table:
    """A CSV page as an all-text Arrow table with every expected column (absent ones null)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in COLUMNS},
        strings_can_be_null=True,
        null_values=[""],
        include_columns=list(COLUMNS),
        include_missing_columns=True,
    )
    return pacsv.read_csv(io.BytesIO(response.content), convert_options=options)


def _timestamp(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Floating timestamps (`2024-03-05T14:07:09.000`); unparseable values become null."""
    import pyarrow.compute as pc

    trimmed = pc.utf8_slice_codeunits(text, 0, 19)  # drop the fraction (always .000)
    return pc.strptime(trimmed, format="%Y-%m-%dT%H:%M:%S", unit="ms", error_is_null=True)


def typed(page: pa.Table) -> tuple[pa.Table, pa.Array]:
    """(the page in SCHEMA, the reason per row: null where the row is fine)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    reasons = pa.nulls(page.num_rows, pa.string())
    for name in COLUMNS:
        text = page.column(name)
        if name in TIMESTAMPS:
            value = _timestamp(text)
            broken = pc.and_(pc.is_valid(text), pc.is_null(value))
            reasons = pc.if_else(
                pc.and_(broken, pc.is_null(reasons)),
                pc.binary_join_element_wise(
                    f"{name} is not a timestamp: ", pc.cast(text, pa.string()), ""
                ),
                reasons,
            )
        else:
            value = pc.cast(text, _column_type(name), safe=False)
        columns.append(value)
    table = pa.Table.from_arrays(columns, schema=_schemas()[0])
    missing_id = pc.is_null(table.column("srnumber"))
    reasons = pc.if_else(missing_id, "srnumber is missing", reasons)
    # every request has both: the merge orders versions by updateddate, OLTP requires both
    for name in ("createddate", "updateddate"):
        missing = pc.and_(pc.is_null(page.column(name)), pc.is_null(reasons))
        reasons = pc.if_else(missing, f"{name} is missing", reasons)
    # a request dated before LA 311 existed or after the load is a source error; a future
    # updateddate kept would also hold the watermark there and stall every later update
    latest = datetime.now() + PLAUSIBLE_AHEAD  # floating, as the source's timestamps
    for name in PLAUSIBLE_COLUMNS:
        value = table.column(name)
        outside = pc.fill_null(
            pc.or_(pc.less(value, PLAUSIBLE_FROM), pc.greater(value, latest)), False
        )
        reasons = pc.if_else(
            pc.and_(outside, pc.is_null(reasons)),
            pc.binary_join_element_wise(
                f"{name} out of the plausible range ({PLAUSIBLE_FROM:%Y-%m-%d} to a day after "
                "the load): ",
                pc.cast(page.column(name), pa.string()),
                "",
            ),
            reasons,
        )
    backwards = pc.fill_null(
        pc.less(table.column("updateddate"), table.column("createddate")), False
    )
    reasons = pc.if_else(
        pc.and_(backwards, pc.is_null(reasons)), "updateddate is before createddate", reasons
    )
    return table, pc.cast(reasons, pa.string())


def validate(mode: str, years: Sequence[int], since: str | None, ids: Mapping[int, str]) -> None:
    """Refuse a load that cannot run, before any request: an unknown mode, an update without
    its watermark, a year without a dataset id."""
    if mode not in ("full", "update"):
        raise ValueError(f"socrata mode is full or update, not {mode!r}")
    if mode == "update" and not since:
        raise ValueError("update mode needs a watermark (`since`): run a full load first")
    unknown = [y for y in years if y not in ids]
    if unknown:
        raise ValueError(f"no Socrata dataset id for {unknown}: set GOURMAND_SOCRATA_DATASETS")


def good_pages(
    base_url: str,
    ledger: BatchLedger,
    *,
    mode: str,
    years: Sequence[int],
    since: str | None,
    http: HttpPolicy,
    app_token: str = "",
    datasets: Mapping[int, str] | None = None,
    stored_updates: Callable[[list[str]], dict[str, Any]] | None = None,
    stats: LoadStats | None = None,
) -> Iterator[pa.Table]:
    """The loadable rows of every page of the batch, as Arrow tables in LOADED; the others go
    to `ledger` with their reason. Shared by the dlt resource and the update upsert
    (extract/sources/socrata/upsert.py). `datasets`: the dataset id of each year (None: LA
    311's own); `app_token`: Socrata's `X-App-Token`, when given."""
    ids = dataset_ids(datasets)
    validate(mode, years, since, ids)
    headers = {"X-App-Token": app_token} if app_token else {}
    stats = stats if stats is not None else LoadStats()
    client = rest_client(base_url, http=http, headers=headers)
    for year in years:
        params: dict[str, Any] = {"$order": ":id"}
        if since:
            # SoQL takes no bound parameters: the literal is formatted from a parsed timestamp
            params["$where"] = f"updateddate > '{soql_timestamp(parse_timestamp(since))}'"
        expected = source_count(client, ids[year], params.get("$where"))
        received_before = ledger.received
        pages = prefetched(paginate_raw(
            client,
            f"/resource/{ids[year]}.csv",
            params,
            "socrata",
            OffsetUntilShortPage(PAGE_ROWS, offset_param="$offset", limit_param="$limit"),
            parse_page,
        ))  # fmt: skip
        for page in pages:
            good = _accounted(page, ledger, stored_updates, stats, f"dataset={ids[year]}")
            if good.num_rows:
                yield good
        _check_complete(client, ids[year], year, params.get("$where"), expected,
                        ledger.received - received_before)  # fmt: skip


class IncompleteLoad(RuntimeError):
    """The rows received differ from the source's own count for the same filter."""


def source_count(client: Any, dataset: str, where: str | None) -> int:
    """The source's count of the rows a filter selects (`$select=count(*)`)."""
    params = {"$select": "count(*)", **({"$where": where} if where else {})}
    answer = get_json(client, f"/resource/{dataset}.json", params, "socrata")
    try:
        return int(answer[0]["count"])
    except (LookupError, TypeError, ValueError) as exc:
        raise SourceUnavailable(f"socrata: count(*) of {dataset} answered {answer!r}") from exc


def _check_complete(
    client: Any, dataset: str, year: int, where: str | None, expected: int, received: int
) -> None:
    """Fail the load (nothing of it is kept) unless it received every row the source counts.
    A count taken again after the pages may explain a difference: rows the source added
    while the load paged through it, which the pages then carried too."""
    if received == expected or received == source_count(client, dataset, where):
        return
    raise IncompleteLoad(
        f"socrata {dataset} ({year}): the source counts {expected:,} requests"
        f"{f' with {where}' if where else ''}, the load received {received:,}. Nothing of "
        "this load was kept; run it again (a source that keeps changing: run it when it is "
        "quieter)"
    )


def _accounted(
    page: pa.Table,
    ledger: BatchLedger,
    stored_updates: Callable[[list[str]], dict[str, Any]] | None,
    stats: LoadStats,
    context: str,
) -> pa.Table:
    """The page's loadable rows; the others are rejected with their reason."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table, reasons = typed(page)
    stored: dict[str, Any] = {}
    if stored_updates is not None:
        ids = [s for s in table.column("srnumber").to_pylist() if s is not None]
        stored = stored_updates(ids)
        if stored:
            known = pa.array([stored.get(s) for s in table.column("srnumber").to_pylist()],
                             pa.timestamp("ms"))  # fmt: skip
            older = pc.fill_null(pc.less(table.column("updateddate"), known), False)
            reasons = pc.if_else(
                pc.and_(older, pc.is_null(reasons)),
                "updateddate is older than the loaded version",
                reasons,
            )
    bad = pc.is_valid(reasons)
    rejected = page.filter(bad)
    for row, reason in zip(rejected.to_pylist(), reasons.filter(bad).to_pylist(), strict=True):
        ledger.reject({k: v for k, v in row.items() if v is not None}, reason, context)
    good = table.filter(pc.invert(bad)).cast(_schemas()[1])
    ledger.accept_many(good.num_rows)
    if stored:
        known = pc.is_in(good.column("srnumber"), pa.array(list(stored), pa.string()))
        stats.existing += int(pc.sum(known).as_py() or 0)
    newest = pc.max(good.column("updateddate")).as_py() if good.num_rows else None
    if newest is not None and (stats.newest is None or newest > stats.newest):
        stats.newest = newest
    return good
