"""The Census PEP 2019 county population answers of the sandbox (array of arrays, strings)."""

from __future__ import annotations

from typing import Any

from extract.sandbox.config import SandboxConfig
from extract.sandbox.counties import County, counties
from extract.sandbox.seeding import rng

DATE_LABELS = {
    1: "4/1/2010 Census population",
    2: "4/1/2010 population estimates base",
    **{code: f"7/1/{2007 + code} population estimate" for code in range(3, 13)},
}
KNOWN = ("NAME", "POP", "DATE_CODE", "DATE_DESC", "STATE", "COUNTY")


class CensusError(ValueError):
    """A request the real API answers with 400 and a plain-text `error: …` body."""


def population(config: SandboxConfig, county: County, code: int) -> int:
    """A series ending at the county's 2019 population, growing -0.5..+1.5 % a year."""
    growth = rng(config.seed, county.fips, "growth").uniform(-0.005, 0.015)
    year = 2010 if code <= 3 else 2007 + code
    value = county.pop_2019 / (1 + growth) ** (2019 - year)
    if code == 1:
        value *= 0.998
    return int(round(value))


def population_table(config: SandboxConfig, params: dict[str, str]) -> list[list[str | None]]:
    if "for" not in params:
        raise CensusError("error: missing 'for' argument")
    if params["for"] != "county:*":
        raise CensusError("error: unknown/unsupported geography heirarchy")
    variables = [v for v in params.get("get", "").split(",") if v]
    if not variables:
        raise CensusError("error: missing 'get' argument")
    for v in variables:
        if v not in KNOWN:
            raise CensusError(f"error: unknown variable '{v}'")
    state_filter = None
    if "in" in params:
        scope = params["in"]
        if not scope.startswith("state:"):
            raise CensusError("error: unknown/unsupported geography heirarchy")
        state_filter = None if scope == "state:*" else set(scope[6:].split(","))
    rows: list[list[str | None]] = [[*variables, "state", "county"]]
    for county in counties(config.counties, config.seed):
        if state_filter and county.state_fips not in state_filter:
            continue
        for code in range(1, 13):
            cells = {
                "NAME": county.census_name,
                "POP": str(population(config, county, code)),
                "DATE_CODE": str(code),
                "DATE_DESC": DATE_LABELS[code],
                "STATE": county.state_fips,
                "COUNTY": county.county_fips,
            }
            rows.append([*(cells[v] for v in variables), county.state_fips, county.county_fips])
    return rows


def variables_json() -> dict[str, Any]:
    geo = {
        "concept": "Census API Geography Specification",
        "group": "N/A",
        "limit": 0,
        "predicateOnly": True,
    }
    return {
        "variables": {
            "for": {"label": "Census API FIPS 'for' clause", "predicateType": "fips-for", **geo},
            "in": {"label": "Census API FIPS 'in' clause", "predicateType": "fips-in", **geo},
            "NAME": {"label": "Geographic Area Name", "predicateType": "string",
                     "group": "N/A", "limit": 0},
            "POP": {"label": "Population", "predicateType": "int", "group": "N/A", "limit": 0},
            "DATE_CODE": {
                "label": "Date code", "predicateType": "int", "group": "N/A", "limit": 0,
                "values": {"item": {str(k): v for k, v in DATE_LABELS.items()}},
            },
            "DATE_DESC": {"label": "Description of DATE_CODE", "predicateType": "string",
                          "group": "N/A", "limit": 0},
        }
    }  # fmt: skip
