"""Where the sources find the services: the settings' URLs, else the sandbox the process's entry
point handed over (extract/sources/endpoints.py); a source never starts one itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from extract.settings import load_settings
from extract.sources import endpoints


@pytest.fixture
def handed() -> Iterator[list[str]]:
    """A stand-in sandbox handed over as an entry point does; the homes it was asked for."""
    asked: list[str] = []
    before = endpoints._sandbox

    def base_url(settings):
        asked.append(str(settings.home))
        return "http://127.0.0.1:9"

    endpoints.use_sandbox(base_url)
    yield asked
    endpoints.use_sandbox(before)


def settings(tmp_path, **env: str):
    return load_settings({"GOURMAND_HOME": str(tmp_path), "PATH": "", **env})


def test_without_urls_the_sources_ask_the_sandbox_they_were_handed(tmp_path, handed):
    assert endpoints.source_urls(settings(tmp_path)) == {
        "yelp": "http://127.0.0.1:9/v3",
        "census": "http://127.0.0.1:9/data",
        "states": "http://127.0.0.1:9/abbreviations.htm",
    }
    assert endpoints.socrata_url(settings(tmp_path)) == "http://127.0.0.1:9"
    assert handed == [str(tmp_path)] * 2


def test_urls_in_the_settings_ask_no_sandbox(tmp_path, handed):
    given = settings(
        tmp_path,
        GOURMAND_YELP_BASE_URL="http://y/v3",
        GOURMAND_CENSUS_BASE_URL="http://c/data",
        GOURMAND_STATES_URL="http://s/abbreviations.htm",
        GOURMAND_SOCRATA_BASE_URL="http://la",
    )
    assert endpoints.source_urls(given)["yelp"] == "http://y/v3"
    assert endpoints.socrata_url(given) == "http://la"
    assert handed == []


def test_a_process_handed_no_sandbox_says_what_to_set(tmp_path):
    before = endpoints._sandbox
    endpoints.use_sandbox(None)
    try:
        with pytest.raises(ValueError, match="GOURMAND_YELP_BASE_URL.*gourmand"):
            endpoints.source_urls(settings(tmp_path))
        with pytest.raises(ValueError, match="GOURMAND_SOCRATA_BASE_URL"):
            endpoints.socrata_url(settings(tmp_path))
    finally:
        endpoints.use_sandbox(before)
    assert not any(tmp_path.iterdir()), "nothing was started"
