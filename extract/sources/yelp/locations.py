"""Where Yelp is searched when no locations are configured: the Census counties already loaded,
as the original Gourmand did. Read from the OLTP Postgres by the caller (the registry,
extract/sources/registry.py) before it builds the source, which takes the locations as a list."""

from __future__ import annotations

from extract.runtime.postgres import connect
from extract.settings import Settings


def loaded_counties(settings: Settings) -> list[str]:
    """The county names of `raw_census.county_population` in the home of `settings`, sorted."""
    with connect(settings, read_only=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('raw_census.county_population')")
        if cur.fetchone()[0] is None:
            raise RuntimeError(
                "Yelp searches the Census counties, and raw_census.county_population is not "
                "loaded yet: run the census source first or set GOURMAND_YELP_LOCATIONS"
            )
        cur.execute("SELECT DISTINCT name FROM raw_census.county_population ORDER BY name")
        names = [r[0] for r in cur.fetchall()]
    conn.close()
    if not names:
        raise RuntimeError("no Yelp locations: the Census table is empty")
    return names
