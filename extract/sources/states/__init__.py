"""State and territory abbreviations scraped from an HTML page of two tables.

The page is parsed as HTML tables (`parse.py`). The whole list is replaced on each load, and a
state the page no longer lists leaves the OLTP model too once no county refers to it
(dbt_oltp/macros/reference_data.sql): re-scrapes after the page changed, in any order, leave
what one scrape of the final page into an empty home leaves.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dlt

from extract.sources.accounting import BatchLedger, Rejected, to_table
from extract.sources.rest import HttpPolicy, SourceUnavailable, http_client, raise_for_status
from extract.sources.states.parse import BATCH, parse_row, parse_tables

DATASET = "raw_states"
RESOURCES = ("state_abbreviations",)


@dlt.source(name="states", max_table_nesting=0)
def states_source(page_url: str, *, http: HttpPolicy) -> Any:
    """The 56 rows: 50 states, DC and the inhabited territories, from the page at `page_url`."""

    merge: Any = {"disposition": "merge", "strategy": "delete-insert"}

    @dlt.resource(name="state_abbreviations", write_disposition=merge)
    def state_abbreviations() -> Iterator[Any]:
        try:
            response = http_client(http).get(page_url)
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
