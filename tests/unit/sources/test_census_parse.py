from datetime import UTC, datetime

import pytest

from extract.sources.accounting import BatchLedger, Rejected
from extract.sources.census.parse import date_code_years, rows_from_table, split_county_name

VARIABLES = {
    "variables": {
        "DATE_CODE": {
            "values": {
                "item": {
                    "1": "4/1/2010 Census population",
                    "2": "4/1/2010 population estimates base",
                    "3": "7/1/2010 population estimate",
                    "12": "7/1/2019 population estimate",
                }
            }
        }
    }
}
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def test_date_codes_map_to_estimate_years_only_for_july_estimates():
    years = date_code_years(VARIABLES)
    assert years[3] == ("7/1/2010 population estimate", 2010)
    assert years[12] == ("7/1/2019 population estimate", 2019)
    assert years[1][1] is None and years[2][1] is None


def test_variables_without_date_codes_is_a_clear_error():
    with pytest.raises(ValueError, match="DATE_CODE"):
        date_code_years({"variables": {}})


@pytest.mark.parametrize(
    ("name", "county", "state"),
    [
        ("Autauga County, Alabama", "Autauga County", "Alabama"),
        ("Richmond city, Virginia", "Richmond city", "Virginia"),
        (
            "District of Columbia, District of Columbia",
            "District of Columbia",
            "District of Columbia",
        ),
        ("San Juan Municipio, Puerto Rico", "San Juan Municipio", "Puerto Rico"),
    ],
)
def test_county_and_state_are_split_from_name(name, county, state):
    assert split_county_name(name) == (county, state)


def test_name_without_a_state_part_is_rejected():
    with pytest.raises(Rejected):
        split_county_name("Nowhere")


def test_header_row_is_used_and_not_loaded():
    table = [
        ["NAME", "POP", "DATE_CODE", "state", "county"],
        ["Autauga County, Alabama", "54571", "1", "01", "001"],
        ["Autauga County, Alabama", "55869", "12", "01", "001"],
    ]
    ledger = BatchLedger("county_population", "2019")
    rows = list(rows_from_table(table, date_code_years(VARIABLES), ledger, NOW))
    assert [r["pop"] for r in rows] == [54571, 55869]
    assert rows[1]["estimate_year"] == 2019 and rows[0]["estimate_year"] is None
    assert rows[0]["state_fips"] == "01" and rows[0]["county_fips"] == "001"
    assert rows[0]["county_name"] == "Autauga County" and rows[0]["state_name"] == "Alabama"
    assert (ledger.received, ledger.loaded, ledger.rejected) == (2, 2, 0)


def test_malformed_rows_are_rejected_with_reasons_and_counted():
    table = [
        ["NAME", "POP", "DATE_CODE", "state", "county"],
        ["Autauga County, Alabama", "n/a", "12", "01", "001"],
        ["Baldwin County, Alabama", "223234", "12", "01"],
        ["Barbour County, Alabama", "24686", "99", "01", "005"],
        ["Bibb County, Alabama", "22394", "12", "01", "007"],
    ]
    ledger = BatchLedger("county_population", "2019")
    rows = list(rows_from_table(table, date_code_years(VARIABLES), ledger, NOW))
    assert [r["county_name"] for r in rows] == ["Bibb County"]
    reasons = [r["reason"] for r in ledger.rejects]
    assert "not an integer" in reasons[0]
    assert "4 cells" in reasons[1]
    assert "DATE_CODE 99" in reasons[2]
    assert ledger.received == ledger.loaded + ledger.rejected == 4


def test_missing_geography_columns_fail_loudly():
    with pytest.raises(ValueError, match="county"):
        list(
            rows_from_table([["NAME", "POP", "DATE_CODE", "state"]], {}, BatchLedger("x", "y"), NOW)
        )
