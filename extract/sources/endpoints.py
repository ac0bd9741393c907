"""Where the services are: the settings' own URLs (live), else the home's sandbox."""

from __future__ import annotations

from extract.settings import Settings


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
    from extract.sandbox.process import sandbox_url

    base = sandbox_url(settings)
    return {"yelp": f"{base}/v3", "census": f"{base}/data", "states": f"{base}/abbreviations.htm"}


def socrata_url(settings: Settings) -> str:
    """The Socrata portal (LA's open data)."""
    if settings.socrata_base_url:
        return settings.socrata_base_url
    if settings.sources_mode == "live":
        raise ValueError("set GOURMAND_SOCRATA_BASE_URL (or use GOURMAND_SOURCES=sandbox)")
    from extract.sandbox.process import sandbox_url

    return sandbox_url(settings)
