from datetime import UTC, datetime

import pytest

from extract.sources.accounting import Rejected
from extract.sources.states.parse import parse_row, parse_tables

PAGE = """<!doctype html><html><body><p>Intro table table-hover text</p>
<table class=" table table-hover">
<thead><tr><th>US STATE</th><th>POSTAL ABBREVIATION</th><th>STANDARD ABBREVIATION</th></tr></thead>
<tbody>
<tr><td>Alabama</td><td>AL</td><td>Ala.</td></tr>
<tr><td> Alaska </td><td>AK</td><td>Alaska</td></tr>
</tbody></table>
<figure class="wp-block-table"><table class="has-fixed-layout table table-hover">
<thead><tr><th>Territory/Commonwealth</th><th>Postal Abbreviation</th><th>Standard</th></tr></thead>
<tbody><tr><td>Guam</td><td>GU</td><td>Guam</td></tr></tbody></table></figure>
</body></html>"""


def test_both_tables_are_parsed_without_their_headers():
    rows = parse_tables(PAGE)
    assert rows == [
        ("state", ["Alabama", "AL", "Ala."]),
        ("state", ["Alaska", "AK", "Alaska"]),
        ("territory", ["Guam", "GU", "Guam"]),
    ]


def test_a_page_without_the_tables_is_an_error():
    with pytest.raises(ValueError, match="table table-hover"):
        parse_tables("<html><body><p>moved</p></body></html>")


def test_rows_need_a_two_letter_code():
    now = datetime.now(UTC)
    assert parse_row("state", ["Ohio", "OH", "Ohio"], now)["postal_abbreviation"] == "OH"
    with pytest.raises(Rejected):
        parse_row("state", ["Ohio", "Ohio"], now)
    with pytest.raises(Rejected):
        parse_row("state", ["Ohio"], now)
