"""The reference data replays: the states page re-scraped after it changed and the Census
county populations re-loaded after they changed, in either order and again, leave the OLTP
model (state, county, county_growth), the lake as the warehouse reads it and the warehouse
(dim_county, fct_county_growth) equal to one load of the final source into an empty home.

"Vintage" here is the Census PEP dataset year (2019, `extract.sources.census.VINTAGE`): the code
loads that one vintage, and a load replaces it whole, so the orders the code allows are re-loads
of it, each answering what the source says at that moment. Between the two answers of this test
(A and B) the source drops a county and a year of another, adds a county and revises a third's
estimates; the page drops a state that has a county and a territory that has none, renames one,
changes an abbreviation and adds a territory. Before, a merge kept what the source no longer
said (the dropped county, its years, the dropped states, the county still pointing at its
dropped state) and the warehouse fact kept the year the Census dropped and the change after it.
"""

from __future__ import annotations

import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from extract.lake.export import export_oltp
from extract.pipelines import run_source
from extract.runtime.dbt_invoke import run_dbt
from tests.support import new_database, pg_rows, settings_for

pytestmark = pytest.mark.integration

DAY = date(2024, 1, 1)
# the sandbox's first counties: Los Angeles, Cook, Orleans, Richmond city
LOS_ANGELES, COOK, ORLEANS, RICHMOND = range(4)
SEARCHED = "Los Angeles County, California;Cook County, Illinois"
OLTP_TABLES = ("oltp.state", "oltp.county", "oltp.county_growth")
WAREHOUSE_TABLES = (
    "dwh_staging.stg_lake__state", "dwh_staging.stg_lake__county",
    "dwh_staging.stg_lake__county_growth", "dwh.dim_county", "dwh.fct_county_growth",
)  # fmt: skip
# when a row was processed, not what it says: differs between two homes with the same data
PROCESSING_TIME = {"last_edited_at"}
OLTP_SELECT = ["+county_growth", "+city", "+event"]
DWH_SELECT = ["+fct_county_growth", "+dim_county"]


def census_answer(version: str, params: dict[str, str]) -> list[list[Any]]:
    """The Census answer of version A or B (the sandbox's table, then changed)."""
    from extract.sandbox import SandboxConfig
    from extract.sandbox.census import population_table
    from extract.sandbox.counties import counties

    config = SandboxConfig(counties=4)
    names = [c.census_name for c in counties(4, config.seed)]
    header, *rows = population_table(config, params)
    name, pop, code = (header.index(c) for c in ("NAME", "POP", "DATE_CODE"))
    kept = []
    for row in rows:
        county = names.index(row[name])
        if version == "A" and county == RICHMOND:
            continue
        if version == "B":
            if county == ORLEANS or (county == COOK and row[code] == "5"):  # 7/1/2012
                continue
            if county == LOS_ANGELES and int(row[code]) >= 8:  # 2015..2019 revised
                row = [*row]
                row[pop] = str(int(row[pop]) + 12_345)
        kept.append(row)
    return [header, *kept]


def states_page(version: str) -> str:
    from extract.sandbox.states import page

    html = page()
    if version == "B":
        for gone in ("<tr><td>Illinois</td><td>IL</td><td>Ill.</td></tr>",
                     "<tr><td>Marshall Islands</td><td>MH</td><td>M.H.</td></tr>"):  # fmt: skip
            assert gone in html
            html = html.replace(gone, "")
        html = html.replace("<td>U.S. Virgin Islands</td>", "<td>Virgin Islands</td>")
        html = html.replace("<td>Calif.</td>", "<td>Cal.</td>")
        samoa = "<tr><td>American Samoa</td><td>AS</td><td>A.S.</td></tr>"
        html = html.replace("<tr><td>Guam</td>", samoa + "<tr><td>Guam</td>")
    return html


class ReferenceSource:
    """The Census API and the states page, answering version A or B (`version`)."""

    def __init__(self) -> None:
        import json

        from extract.sandbox.census import variables_json

        self.version = "A"
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/data/2019/pep/population/variables.json":
                    body, kind = json.dumps(variables_json()), "application/json"
                elif parts.path == "/data/2019/pep/population":
                    answer = census_answer(source.version, params)
                    body, kind = json.dumps(answer), "application/json"
                elif parts.path == "/abbreviations.htm":
                    body, kind = states_page(source.version), "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def contents(settings, *, edit_times: bool = False) -> dict[str, list[tuple]]:
    """Every row of every compared table, sorted, without the processing times."""
    from extract.runtime.query import run_query

    out = {}
    for name, target in [(t, "oltp") for t in OLTP_TABLES] + [
        (t, "warehouse") for t in WAREHOUSE_TABLES
    ]:
        # the build as dbt left it (no publication outside Dagster)
        columns, rows = run_query(
            f"select * from {name}", target=target, settings=settings, internal=True,
            build="working",
        )  # fmt: skip
        keep = [i for i, c in enumerate(columns) if edit_times or c not in PROCESSING_TIME]
        out[name] = sorted((tuple(row[i] for i in keep) for row in rows), key=repr)
    return out


def build(settings, work: Path, project: str, select: list[str]) -> None:
    # cautious: not the tests of models outside the selection that refer to one in it
    run = run_dbt(
        project, ["build", "--indirect-selection", "cautious", "--select", *select], settings,
        target_path=work / project,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:]


def step(settings, source: ReferenceSource, version: str, work: Path) -> dict[str, list[tuple]]:
    """The source answers `version`; the reference chain runs as the daily job runs it."""
    source.version = version
    run_source("states", settings=settings)
    run_source("census", settings=settings)
    build(settings, work, "dbt_oltp", OLTP_SELECT)
    export_oltp(settings)
    build(settings, work, "dbt_dwh", DWH_SELECT)
    return contents(settings)


@pytest.fixture(scope="module")
def replayed(base_dsn, tmp_path_factory):
    """Snapshots of two homes: one loads A then B; the other B, A, B and B again."""
    from extract.sandbox import SandboxConfig, SandboxServer

    work = tmp_path_factory.mktemp("reference-replay")
    yelp = SandboxServer(
        SandboxConfig(counties=2, businesses_per_county=5, reviews_per_business=1)
    ).start()
    source = ReferenceSource()
    try:
        with new_database(base_dsn) as dsn_1, new_database(base_dsn) as dsn_2:
            homes = []
            for name, dsn in (("a-then-b", dsn_1), ("b-a-b", dsn_2)):
                settings = settings_for(
                    work / name, dsn, yelp, GOURMAND_CENSUS_BASE_URL=f"{source.url}/data",
                    GOURMAND_STATES_URL=f"{source.url}/abbreviations.htm",
                    GOURMAND_YELP_LOCATIONS=SEARCHED,
                )  # fmt: skip
                run_source("yelp", day=DAY, settings=settings)
                homes.append(settings)
            first, second = homes
            snapshots = {
                "A": step(first, source, "A", work / "1"),  # A into an empty home
                "A, B": step(first, source, "B", work / "1"),
                "B": step(second, source, "B", work / "2"),  # B into an empty home
                "B, A": step(second, source, "A", work / "2"),
                "B, A, B": step(second, source, "B", work / "2"),
            }
            edited = contents(second, edit_times=True)
            snapshots["B, A, B, B"] = step(second, source, "B", work / "2")
            yield snapshots, edited, contents(second, edit_times=True), second
    finally:
        source.stop()
        yelp.stop()


def _differing(left: dict, right: dict) -> list[str]:
    return sorted(name for name in left.keys() | right.keys() if left.get(name) != right.get(name))


def test_the_two_answers_differ_in_every_compared_table(replayed):
    """Not vacuous: A and B differ in each table, and each says what the test changed."""
    snapshots, *_ = replayed
    a, b = snapshots["A"], snapshots["B"]
    assert _differing(a, b) == sorted([*OLTP_TABLES, *WAREHOUSE_TABLES])
    assert len(b["oltp.county_growth"]) == len(a["oltp.county_growth"]) - 1  # -10 -1 +10
    assert len(a["oltp.county_growth"]) == 30 and len(a["dwh.fct_county_growth"]) == 30
    assert len(b["oltp.state"]) == len(a["oltp.state"]) - 1  # -IL -MH +AS
    assert len(a["oltp.state"]) == 57  # 56 on the page, and Unknown


def test_b_after_a_equals_b_into_an_empty_home(replayed):
    snapshots, *_ = replayed
    assert _differing(snapshots["A, B"], snapshots["B"]) == []


def test_a_after_b_equals_a_into_an_empty_home(replayed):
    snapshots, *_ = replayed
    assert _differing(snapshots["B, A"], snapshots["A"]) == []


def test_b_again_after_a_and_again_unchanged(replayed):
    snapshots, before, after, _ = replayed
    assert _differing(snapshots["B, A, B"], snapshots["B"]) == []
    assert _differing(snapshots["B, A, B, B"], snapshots["B"]) == []
    # a re-load of the same answer changes nothing, not even a row's edit time
    assert _differing(after, before) == []


def test_what_b_says_is_what_the_home_holds(replayed):
    """The final home, read in its own terms: the dropped county, year and states are gone
    (with tombstones), Cook County's state is Unknown now that the page lists no Illinois."""
    _, _, _, settings = replayed
    counties = dict(
        pg_rows(
            settings,
            "select c.county_name, s.state_code from oltp.county c join oltp.state s "
            "using (state_id)",
        )
    )
    assert counties == {
        "Los Angeles County": "CA", "Cook County": "??", "Richmond city": "VA",
    }  # fmt: skip
    assert pg_rows(
        settings,
        "select count(*) from oltp.state where state_code in ('IL', 'MH')",
    ) == [(0,)]
    years = pg_rows(
        settings,
        "select g.estimation_year from oltp.county_growth g join oltp.county c using (county_id) "
        "where c.county_name = 'Cook County' order by 1",
    )
    assert [y for (y,) in years] == [2010, 2011, *range(2013, 2020)]
    gone = dict(
        pg_rows(
            settings,
            "select table_name, count(*) from oltp_meta.deleted_rows "
            "where table_name in ('state', 'county', 'county_growth') group by 1",
        )
    )
    # B then A: Richmond's ten years, Richmond, American Samoa; A then B: Orleans' ten years
    # and Cook's 2012, Orleans, Illinois and the Marshall Islands; B again: nothing
    assert gone == {"county_growth": 10 + 11, "county": 1 + 1, "state": 1 + 2}
