"""US Census Population Estimates (vintage 2019): county populations by DATE_CODE.

The API answers an array of arrays whose first row is the header, every cell a string. DATE_CODE
labels come from the dataset's variables.json; July-1 estimates (codes 3..12) map to the years
2010..2019, the two April-2010 codes keep their label but get no estimate year. Each load replaces
the vintage as a whole (delete-insert on `vintage`), in one transaction.

Re-loads converge: what a load no longer gives (a county, a year) is deleted downstream too
(dbt_oltp/macros/reference_data.sql), so a re-load after the Census revised its answer leaves
what one load into an empty home leaves. A newer vintage loaded beside an older one (this
constant changed) re-estimates the years before it: each county and year takes the newest
vintage's estimate, whatever order the vintages came in (stg_census__county_population).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import dlt

from extract.settings import Settings
from extract.sources.accounting import BatchLedger, Rejected, to_table
from extract.sources.endpoints import source_urls
from extract.sources.rest import get_json, rest_client
from extract.sources.spec import Options, SourceSpec

DATASET = "raw_census"
VINTAGE = "2019"
VARIABLES = ("NAME", "POP", "DATE_CODE")
_YEAR = re.compile(r"(\d{4})")


def split_county_name(name: str) -> tuple[str, str]:
    """'Autauga County, Alabama' -> ('Autauga County', 'Alabama').

    Split on the last ', ' because the state name never holds a comma while a few county-level
    names do not follow the '<county>, <state>' pattern strictly.
    """
    if ", " not in name:
        raise Rejected(f"NAME {name!r} is not '<county>, <state>'")
    county, state = name.rsplit(", ", 1)
    if not county.strip() or not state.strip():
        raise Rejected(f"NAME {name!r} has an empty county or state part")
    return county.strip(), state.strip()


def date_code_years(variables: Mapping[str, Any]) -> dict[int, tuple[str, int | None]]:
    """DATE_CODE -> (label, estimate year); only July-1 estimates carry a year."""
    try:
        items = variables["variables"]["DATE_CODE"]["values"]["item"]
    except (KeyError, TypeError) as exc:
        raise ValueError("variables.json has no DATE_CODE.values.item mapping") from exc
    mapping: dict[int, tuple[str, int | None]] = {}
    for code, label in items.items():
        match = _YEAR.search(label)
        year = int(match.group(1)) if match and "7/1/" in label else None
        mapping[int(code)] = (label, year)
    return mapping


def rows_from_table(
    table: Sequence[Any],
    labels: Mapping[int, tuple[str, int | None]],
    ledger: BatchLedger,
    extracted_at: datetime,
) -> Iterator[dict[str, Any]]:
    """Turn the array-of-arrays answer into rows; malformed rows go to the ledger's rejects."""
    if not table or not isinstance(table[0], list):
        raise ValueError("Census answer has no header row")
    header = [str(h) for h in table[0]]
    missing = {"NAME", "POP", "DATE_CODE", "state", "county"} - set(header)
    if missing:
        raise ValueError(f"Census header lacks {sorted(missing)}: {header}")
    for line_no, record in enumerate(table[1:], start=2):
        try:
            if not isinstance(record, list) or len(record) != len(header):
                raise Rejected(
                    f"row has {len(record) if isinstance(record, list) else '?'} "
                    f"cells, header has {len(header)}"
                )
            cells = dict(zip(header, record, strict=True))
            county_name, state_name = split_county_name(str(cells["NAME"]))
            try:
                pop = int(cells["POP"])
                code = int(cells["DATE_CODE"])
            except (TypeError, ValueError) as exc:
                raise Rejected(f"POP or DATE_CODE is not an integer: {exc}") from exc
            label, year = labels.get(code, (None, None))
            if label is None:
                raise Rejected(f"DATE_CODE {code} is not in variables.json")
        except Rejected as exc:
            ledger.reject(record, str(exc), context=f"line {line_no}")
            continue
        ledger.accept()
        yield {
            "vintage": VINTAGE,
            "name": cells["NAME"],
            "county_name": county_name,
            "state_name": state_name,
            "state_fips": cells["state"],
            "county_fips": cells["county"],
            "date_code": code,
            "date_label": label,
            "estimate_year": year,
            "pop": pop,
            "extracted_at": extracted_at,
        }


@dlt.source(name="census", max_table_nesting=0)
def census_source(settings: Settings, base_url: str, api_key: str = "") -> Any:
    """County population estimates of vintage 2019, all DATE_CODEs."""

    merge: Any = {"disposition": "merge", "strategy": "delete-insert"}

    @dlt.resource(name="county_population", write_disposition=merge)
    def county_population() -> Iterator[Any]:
        client = rest_client(settings, base_url)
        dataset = f"/{VINTAGE}/pep/population"
        labels = date_code_years(get_json(client, f"{dataset}/variables.json", {}, "census"))
        params = {"get": ",".join(VARIABLES), "for": "county:*", "in": "state:*"}
        if api_key:
            params["key"] = api_key
        table = get_json(client, dataset, params, "census")
        extracted_at = datetime.now(UTC)
        ledger = BatchLedger("county_population", VINTAGE, extracted_at)
        rows = list(rows_from_table(table, labels, ledger, extracted_at))
        if rows:
            # The vintage is replaced as a whole (merge key), in one transaction.
            yield to_table(
                "county_population",
                rows,
                primary_key=["vintage", "state_fips", "county_fips", "date_code"],
                merge_key="vintage",
                columns={"estimate_year": {"data_type": "bigint", "nullable": True}},
            )
        yield from ledger.summary_items()

    return county_population


def _build(settings: Settings, _days: list[date], _options: Options) -> Any:
    return census_source(settings, source_urls(settings)["census"], settings.census_api_key)


SPEC = SourceSpec(
    "census",
    DATASET,
    ("county_population",),
    _build,
    batch=lambda _o: VINTAGE,
    partition_column="vintage",
)
