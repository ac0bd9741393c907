"""State and territory abbreviations scraped from an HTML page of two tables.

The page is parsed as HTML tables (header cells from <thead>, data from <tbody> rows), never by
regular expressions over text: the states table, then the territories table. The whole list is
replaced on each load, and a state the page no longer lists leaves the OLTP model too once no
county refers to it (dbt_oltp/macros/reference_data.sql): re-scrapes after the page changed, in
any order, leave what one scrape of the final page into an empty home leaves.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import dlt
from bs4 import BeautifulSoup, Tag

from extract.settings import Settings
from extract.sources.accounting import BatchLedger, Rejected, to_table
from extract.sources.endpoints import source_urls
from extract.sources.rest import SourceUnavailable, http_client, raise_for_status
from extract.sources.spec import Options, SourceSpec

DATASET = "raw_states"
BATCH = "page"
# (class string as BeautifulSoup joins it, kind of row)
TABLES = (("table table-hover", "state"), ("has-fixed-layout table table-hover", "territory"))


def _cell_texts(row: Tag, cell: str) -> list[str]:
    return [c.get_text(" ", strip=True) for c in row.find_all(cell)]


def parse_tables(html: str) -> list[tuple[str, list[str]]]:
    """All (kind, cells) data rows of the states and territories tables, header rows excluded."""
    soup = BeautifulSoup(html, "html.parser")
    rows: list[tuple[str, list[str]]] = []
    for css_class, kind in TABLES:
        table = soup.find("table", {"class": css_class})
        if not isinstance(table, Tag):
            raise ValueError(f"no <table class='{css_class}'> on the page")
        body = table.find("tbody") or table
        for tr in body.find_all("tr"):
            if tr.find("th") is not None:  # a header row placed inside the body
                continue
            cells = _cell_texts(tr, "td")
            if cells:
                rows.append((kind, cells))
    return rows


def parse_row(kind: str, cells: list[str], extracted_at: datetime) -> dict[str, Any]:
    if len(cells) < 2:
        raise Rejected(f"row has {len(cells)} cells, expected at least 2")
    name, postal = cells[0], cells[1]
    if not name:
        raise Rejected("empty state name")
    if len(postal) != 2 or not postal.isalpha() or not postal.isupper():
        raise Rejected(f"postal abbreviation {postal!r} is not two capital letters")
    return {
        "state_name": name,
        "postal_abbreviation": postal,
        "standard_abbreviation": cells[2] if len(cells) > 2 and cells[2] else None,
        "kind": kind,
        "batch": BATCH,
        "extracted_at": extracted_at,
    }


@dlt.source(name="states", max_table_nesting=0)
def states_source(settings: Settings, page_url: str) -> Any:
    """The 56 rows: 50 states, DC and the inhabited territories."""

    merge: Any = {"disposition": "merge", "strategy": "delete-insert"}

    @dlt.resource(name="state_abbreviations", write_disposition=merge)
    def state_abbreviations() -> Iterator[Any]:
        try:
            response = http_client(settings).get(page_url)
        except Exception as exc:  # connection errors after retries
            raise SourceUnavailable(f"states: GET {page_url} failed: {exc}") from exc
        raise_for_status(response, "states")
        extracted_at = datetime.now(UTC)
        ledger = BatchLedger("state_abbreviations", BATCH, extracted_at)
        rows: dict[str, dict[str, Any]] = {}
        for kind, cells in parse_tables(response.text):
            try:
                row = parse_row(kind, cells, extracted_at)
                if row["postal_abbreviation"] in rows:
                    raise Rejected(f"duplicate abbreviation {row['postal_abbreviation']}")
            except Rejected as exc:
                ledger.reject(cells, str(exc), context=kind)
                continue
            ledger.accept()
            rows[row["postal_abbreviation"]] = row
        if rows:
            # merge key `batch` is the same for every row: the page replaces the page.
            yield to_table(
                "state_abbreviations",
                list(rows.values()),
                primary_key="postal_abbreviation",
                merge_key="batch",
            )
        yield from ledger.summary_items()

    return state_abbreviations


def _build(settings: Settings, _days: list[date], _options: Options) -> Any:
    return states_source(settings, source_urls(settings)["states"])


SPEC = SourceSpec("states", DATASET, ("state_abbreviations",), _build, batch=lambda _o: BATCH)
