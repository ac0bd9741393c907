"""LA 311 years replay: loaded in any order, and loaded again after the source changed, the
whole 311 chain (the OLTP model, the summary, the warehouse fact and dimensions, the marts)
equals a home that loaded the same final data and built it once.

The OLTP models fold by load (dbt_oltp/macros/la311.sql), the fact by the time the OLTP model
folded a version: before, both folded "what was updated since the newest already built", and a
year loaded after a later one never arrived (2024 then 2023: 2,000 of 4,000 requests), nor did
a later year's requests last updated before the earlier load's newest (2023 then 2024: 88
missing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract.lake.export import export_oltp
from extract.pipelines import run_source
from extract.runtime.dbt_invoke import run_dbt
from tests.support import new_database, pg_rows, settings_for, table_checksums

pytestmark = pytest.mark.integration

YEARS = "2023,2024"
PER_YEAR = 1500
LA311_OLTP = ("agency", "council", "request_source", "request_type", "service_request")
POSTGRES = (*(f"oltp.{t}" for t in LA311_OLTP), "reporting.service_request_summary")
WAREHOUSE = (
    "dwh.fct_service_request", "dwh.dim_agency", "dwh.dim_council", "dwh.dim_request_source",
    "dwh.dim_request_type", "marts.days_to_close_by_agency", "marts.open_backlog_by_council",
    "marts.service_requests_per_type_per_month",
)  # fmt: skip
OLTP_SELECT = ["source:raw_socrata+"]
DWH_SELECT = [
    *(f"source:lake.{t}+" for t in LA311_OLTP), "dim_date",
]  # fmt: skip


def _server(**knobs):
    from extract.sandbox import SandboxConfig, SandboxServer

    config = SandboxConfig(
        counties=1, businesses_per_county=5, socrata_years=YEARS,
        socrata_rows_per_year=PER_YEAR, **knobs,
    )  # fmt: skip
    return SandboxServer(config).start()


def load(settings, server, year: int) -> None:
    run_source(
        "socrata",
        settings=settings.with_(socrata_base_url=server.url),
        options={"mode": "full", "years": [year]},
        to_lake=False,
    )


def build(settings, work: Path) -> None:
    """The 311 chain once: dbt_oltp, the lake export, dbt_dwh."""
    # a target folder per project, or each call would parse its project from scratch
    oltp = run_dbt(
        "dbt_oltp", ["run", "--select", *OLTP_SELECT], settings, target_path=work / "dbt_oltp"
    )
    assert oltp.returncode == 0, oltp.stdout[-3000:]
    export_oltp(settings)
    dwh = run_dbt(
        "dbt_dwh", ["run", "--select", *DWH_SELECT], settings, target_path=work / "dbt_dwh"
    )
    assert dwh.returncode == 0, dwh.stdout[-3000:]


@pytest.fixture(scope="module")
def servers():
    base = _server()
    # a later state of the same portal: 5% of each year's requests updated since
    changed = _server(socrata_changed_fraction=0.05)
    try:
        yield base, changed
    finally:
        base.stop()
        changed.stop()


@pytest.fixture(scope="module")
def reference(base_dsn, servers, tmp_path_factory):
    """Both years loaded, then the chain built once: (settings, checksums)."""
    base, _ = servers
    work = tmp_path_factory.mktemp("socrata-reference")
    with new_database(base_dsn) as dsn:
        settings = settings_for(work / "home", dsn, base, GOURMAND_SOCRATA_YEARS=YEARS)
        load(settings, base, 2023)
        load(settings, base, 2024)
        build(settings, work / "dbt")
        yield settings, table_checksums(settings, POSTGRES, WAREHOUSE)


def replay(
    base_dsn, work: Path, steps, *, built_before: bool = False
) -> tuple[dict[str, str], int]:
    """Each (server, year) loaded and the chain built after each (and once before the first
    load, if `built_before`); (checksums, OLTP requests)."""
    with new_database(base_dsn) as dsn:
        settings = settings_for(work / "home", dsn, steps[0][0], GOURMAND_SOCRATA_YEARS=YEARS)
        if built_before:
            build(settings, work / "dbt")
        for server, year in steps:
            load(settings, server, year)
            build(settings, work / "dbt")
        count = pg_rows(settings, "select count(*) from oltp.service_request")[0][0]
        return table_checksums(settings, POSTGRES, WAREHOUSE), count


@pytest.mark.parametrize(
    ("order", "built_before"),
    [((2024, 2023), False), ((2023, 2024), True)],
    ids=["newest-first", "oldest-first-after-an-empty-build"],
)
def test_years_in_either_order_equal_one_build(
    base_dsn, servers, reference, tmp_path, order, built_before
):
    """Also with the chain built before any 311 load: the fact then starts from the lake's empty
    branch, whose float columns were DuckDB's 4-byte REAL (every latitude lost digits)."""
    base, _ = servers
    _, expected = reference
    got, requests = replay(
        base_dsn, tmp_path, [(base, year) for year in order], built_before=built_before
    )
    assert requests == 2 * PER_YEAR
    assert got == expected


def test_a_year_loaded_again_after_the_source_changed(base_dsn, servers, tmp_path):
    """2023, 2024, then 2023 again from the changed portal: equal to a home that loaded 2024
    and the changed 2023, and built once."""
    base, changed = servers
    got, requests = replay(base_dsn, tmp_path / "replayed", [(base, 2023), (base, 2024),
                                                            (changed, 2023)])  # fmt: skip
    with new_database(base_dsn) as dsn:
        settings = settings_for(tmp_path / "ref", dsn, base, GOURMAND_SOCRATA_YEARS=YEARS)
        load(settings, base, 2024)
        load(settings, changed, 2023)
        build(settings, tmp_path / "ref-dbt")
        expected = table_checksums(settings, POSTGRES, WAREHOUSE)
        # the changed year did change the data: the comparison is not between equal sources
        changed_rows = pg_rows(
            settings,
            "select count(*) from oltp.service_request where updated_at >= '2025-01-01'",
        )[0][0]
    assert requests == 2 * PER_YEAR
    assert changed_rows > 0
    assert got == expected
