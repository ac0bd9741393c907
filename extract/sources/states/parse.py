"""The abbreviations page, read as HTML tables (header cells from <thead>, data from <tbody>
rows), never by regular expressions over text: the states table, then the territories table.
Each data row becomes one raw row, or a `Rejected` with the reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bs4 import BeautifulSoup, Tag

from extract.sources.accounting import Rejected

# the page is the batch: each load replaces it whole
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
