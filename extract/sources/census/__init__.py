"""US Census Population Estimates (vintage 2019): county populations by DATE_CODE.

The API answers an array of arrays whose first row is the header, every cell a string; `parse.py`
reads it and the DATE_CODE labels of the dataset's variables.json. Each load replaces the
vintage as a whole (delete-insert on `vintage`), in one transaction.

Re-loads converge: what a load no longer gives (a county, a year) is deleted downstream too
(dbt_oltp/macros/reference_data.sql), so a re-load after the Census revised its answer leaves
what one load into an empty home leaves. A newer vintage loaded beside an older one (VINTAGE
changed) re-estimates the years before it: each county and year takes the newest vintage's
estimate, whatever order the vintages came in (stg_census__county_population).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dlt

from extract.sources.accounting import BatchLedger, to_table
from extract.sources.census.parse import VARIABLES, VINTAGE, date_code_years, rows_from_table
from extract.sources.rest import HttpPolicy, get_json, rest_client

DATASET = "raw_census"
RESOURCES = ("county_population",)


@dlt.source(name="census", max_table_nesting=0)
def census_source(base_url: str, api_key: str = "", *, http: HttpPolicy) -> Any:
    """County population estimates of vintage 2019, all DATE_CODEs, from the API at `base_url`
    (`api_key`: the Census key, sent as `key` when given)."""

    merge: Any = {"disposition": "merge", "strategy": "delete-insert"}

    @dlt.resource(name="county_population", write_disposition=merge)
    def county_population() -> Iterator[Any]:
        client = rest_client(base_url, http=http)
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
