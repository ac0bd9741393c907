"""Where the services are: the settings' own URLs (live, or any stand-in given by address), else
the home's sandbox, as the process's entry point says to reach it.

Sources never start the sandbox: the entry points of a process hand over how (`use_sandbox`).
The `gourmand` command (extract/cli.py) and Dagster's code location
(dagster_project/definitions.py, where the UI's runs and a multiprocess run's steps begin) hand
over the home's sandbox started on demand and counted per process (extract/sandbox/process.py),
so only a process that loads a source starts it. A process given none (a script, a test) names
the services in its settings.
"""

from __future__ import annotations

from collections.abc import Callable

from extract.settings import Settings

# the base URL of the home's sandbox for these settings (started if need be), as handed over by
# the process's entry point; None: this process has none
_sandbox: Callable[[Settings], str] | None = None


def use_sandbox(base_url: Callable[[Settings], str] | None) -> None:
    """Reach the home's sandbox through `base_url(settings)` when the settings name no service
    (None: not at all)."""
    global _sandbox
    _sandbox = base_url


def _sandbox_url(settings: Settings, variables: str) -> str:
    if _sandbox is None:
        raise ValueError(
            f"no sandbox in this process: set {variables}, or run it through `gourmand` or "
            "Dagster's code location, which start the home's sandbox"
        )
    return _sandbox(settings)


def source_urls(settings: Settings) -> dict[str, str]:
    """Base URLs of the Yelp, Census and states services."""
    if settings.sources_mode == "live" or settings.yelp_base_url:
        missing = [
            n
            for n, v in (
                ("GOURMAND_YELP_BASE_URL", settings.yelp_base_url),
                ("GOURMAND_CENSUS_BASE_URL", settings.census_base_url),
                ("GOURMAND_STATES_URL", settings.states_url),
            )
            if not v
        ]
        if missing:
            raise ValueError(f"set {', '.join(missing)} (or use GOURMAND_SOURCES=sandbox)")
        return {
            "yelp": settings.yelp_base_url or "",
            "census": settings.census_base_url or "",
            "states": settings.states_url or "",
        }
    base = _sandbox_url(
        settings, "GOURMAND_YELP_BASE_URL, GOURMAND_CENSUS_BASE_URL and GOURMAND_STATES_URL"
    )
    return {"yelp": f"{base}/v3", "census": f"{base}/data", "states": f"{base}/abbreviations.htm"}


def socrata_url(settings: Settings) -> str:
    """The Socrata portal (LA's open data)."""
    if settings.socrata_base_url:
        return settings.socrata_base_url
    if settings.sources_mode == "live":
        raise ValueError("set GOURMAND_SOCRATA_BASE_URL (or use GOURMAND_SOURCES=sandbox)")
    return _sandbox_url(settings, "GOURMAND_SOCRATA_BASE_URL")
