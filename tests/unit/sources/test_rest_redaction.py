"""Secrets in request URLs never reach error messages (which reach logs and alerts)."""

from __future__ import annotations

from extract.sources.rest import redact


def test_api_keys_in_query_strings_are_masked():
    url = "https://api.census.gov/data/2019/pep/population?get=NAME,POP&for=county:*&key=abc123"
    assert redact(url) == (
        "https://api.census.gov/data/2019/pep/population?get=NAME,POP&for=county:*&key=***"
    )
    assert "s3cr3t" not in redact("http://h/x?token=s3cr3t&day=2024-01-01")
    assert redact("http://h/x?day=2024-01-01") == "http://h/x?day=2024-01-01"
