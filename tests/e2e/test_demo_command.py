"""The README's first command, as a user runs it: `gourmand demo`, twice, then `gourmand sql`;
and what the warehouse then serves: the data extracts (equal to their marts), the dashboards
(every page opened in headless Chromium with the network cut, every chart rendered, a screenshot
of each kept in .pytest-tmp/screenshots), and both through `gourmand serve`. One demo's home for
all of them: a demo is the slowest step of the suite."""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.support import GOURMAND, ROOT, free_port, gourmand, home_env, new_database

# whole Dagster runs: minutes each on a slow 2-core machine, more than the default 300 s
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

DBT = str(Path(sys.executable).with_name("dbt"))
PAGES = ("businesses", "la311", "hr", "quality", "runs")
SCREENSHOTS = ROOT / ".pytest-tmp" / "screenshots"


@pytest.fixture
def demo_env(tmp_path: Path, fresh_dsn: str):
    env = home_env(tmp_path / "home", fresh_dsn)
    yield env
    subprocess.run([GOURMAND, "sandbox", "--stop"], env=env, check=False, capture_output=True)


@pytest.fixture(scope="module")
def demoed(base_dsn: str, tmp_path_factory: pytest.TempPathFactory):
    """A home after one `gourmand demo --days 3` and what it printed, shared by the tests that
    start from "after the demo"."""
    with new_database(base_dsn) as dsn:
        env = home_env(tmp_path_factory.mktemp("demo") / "home", dsn)
        first = gourmand(env, "demo", "--days", "3")
        yield env, first
        subprocess.run([GOURMAND, "sandbox", "--stop"], env=env, check=False, capture_output=True)


@pytest.fixture
def served(demoed):
    """(home, environment) of the demo's home."""
    env, demo = demoed
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    return Path(env["GOURMAND_HOME"]), env


def counts(env) -> str:
    query = (
        "select 'states', count(*) from raw_states.state_abbreviations union all "
        "select 'census', count(*) from raw_census.county_population union all "
        "select 'businesses', count(*) from raw_yelp.businesses union all "
        "select 'categories', count(*) from raw_yelp.businesses__categories union all "
        "select 'reviews', count(*) from raw_yelp.reviews union all "
        "select 'events', count(*) from raw_yelp.events union all "
        "select 'rejects', count(*) from raw_yelp._rejects order by 1"
    )
    result = gourmand(env, "sql", "--format", "csv", query)
    assert result.returncode == 0, result.stderr
    return result.stdout


def holdings(env) -> str:
    """Per demo day: holdings, and (business, day) pairs held more than once."""
    query = (
        "select surveyed_on, count(*) as holdings, count(*) - count(distinct business_id) as dups "
        "from oltp.business_holding group by 1 order by 1"
    )
    result = gourmand(env, "sql", "--format", "csv", query)
    assert result.returncode == 0, result.stderr
    return result.stdout


MARTS = (
    "businesses_per_100k_by_county",
    "rating_distribution_by_price",
    "reviews_by_payment_level",
    "top_review_count_changes",
    "service_requests_per_type_per_month",
    "days_to_close_by_agency",
    "open_backlog_by_council",
    "hr_hires_by_quarter",  # from the sandbox's HR drop, which the demo puts in the drop folder
    "hr_departments_above_mean",
)


def warehouse(env) -> str:
    """Row counts the README promises after the demo, from `gourmand sql --target warehouse`."""
    oltp = gourmand(env, "sql", "--format", "csv", "select count(*) from oltp.business_holding")
    assert oltp.returncode == 0, oltp.stderr
    parts = [
        "select 'dim_date', count(*) from dwh.dim_date",
        "select 'facts', count(*) from dwh.fct_business_holding",
        "select 'distinct_business_days', count(distinct (business_id, surveyed_on)) "
        "from dwh.fct_business_holding",
        f"select 'oltp_holdings', {oltp.stdout.splitlines()[-1]}",
        *(f"select '{m}', count(*) from marts.{m}" for m in MARTS),
    ]
    result = gourmand(
        env, "sql", "--target", "warehouse", "--format", "csv", " union all ".join(parts)
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_demo_twice_changes_no_row_count(demoed):
    demo_env, first = demoed
    assert first.returncode == 0, first.stdout + first.stderr
    assert "What landed" in first.stdout and "raw_yelp.businesses" in first.stdout, first.stdout
    assert "The OLTP model (schema oltp" in first.stdout, first.stdout
    assert "business_holding" in first.stdout, first.stdout
    # the screen shows progress by layer; Dagster's and dbt's own lines go to the home's log file
    for layer in ("extract", "oltp", "lake", "warehouse", "marts", "checks"):
        assert f"  {layer} " in first.stdout, (layer, first.stdout)
    assert " - dagster - " not in first.stdout and "START sql" not in first.stdout, first.stdout
    log = next(line.split()[1] for line in first.stdout.splitlines() if line.startswith("logs "))
    assert " - dagster - " in Path(log).read_text() and "Running with dbt" in Path(log).read_text()
    # the demo stops the sandbox it started
    assert gourmand(demo_env, "sandbox", "--status").returncode == 1
    before = counts(demo_env)
    holdings_after_first = holdings(demo_env)
    days_held = [line.split(",") for line in holdings_after_first.splitlines()[1:]]
    assert len(days_held) == 3, "a holding row for every demo day"
    assert all(int(n) > 0 and dups == "0" for _, n, dups in days_held)
    warehouse_after_first = warehouse(demo_env)
    facts = dict(line.split(",") for line in warehouse_after_first.splitlines()[1:])
    assert int(facts["dim_date"]) > 0
    assert facts["facts"] == facts["distinct_business_days"] == facts["oltp_holdings"]
    assert all(int(facts[m]) > 0 for m in MARTS), facts
    second = gourmand(demo_env, "demo", "--days", "3")
    assert second.returncode == 0, second.stdout + second.stderr
    assert counts(demo_env) == before
    assert holdings(demo_env) == holdings_after_first
    # every quality check ran in each demo run and passed
    quality = gourmand(
        demo_env, "sql", "--format", "csv",
        "select count(*), count(distinct run_id), bool_and(passed) from quality.check_results",
    )  # fmt: skip
    assert quality.returncode == 0, quality.stderr
    from expectations.catalog import CHECKS

    # each demo is two runs: the 311 load (its raw checks) and gourmand_daily (all others)
    assert quality.stdout.splitlines()[-1] == f"{2 * len(CHECKS)},4,True"
    assert f"Quality checks ({len(CHECKS)} results" in second.stdout
    assert warehouse(demo_env) == warehouse_after_first

    states = gourmand(
        demo_env,
        "sql",
        "--target",
        "oltp",
        "--format",
        "csv",
        "select count(*) from raw_states.state_abbreviations",
    )
    assert states.stdout.strip().splitlines()[-1] == "56"
    days = gourmand(
        demo_env,
        "sql",
        "--format",
        "json",
        "select count(distinct surveyed_on) as days from raw_yelp.businesses",
    )
    assert '"days": 3' in days.stdout
    lake = Path(demo_env["GOURMAND_HOME"]) / "lake" / "raw"
    assert len(list(lake.glob("yelp/businesses/surveyed_on=*/*.parquet"))) == 3
    assert list(lake.glob("census/county_population/*/*.parquet"))
    assert list(lake.glob("states/state_abbreviations/*.parquet"))
    # every read the README shows works as the read-only role
    readme = (ROOT / "README.md").read_text().splitlines()
    reads = [shlex.split(line)[2:] for line in readme if line.startswith(".venv/bin/gourmand sql ")]
    assert len(reads) >= 9
    for args in reads:
        read = gourmand(demo_env, "sql", *args)
        assert read.returncode == 0 and read.stdout.strip(), (args, read.stderr)


def test_an_analyst_builds_dbt_oltp_after_the_demo(demoed):
    """README: `eval "$(gourmand postgres --env)"`, then `cd dbt_oltp && dbt build
    --profiles-dir ../profiles`, the same in dbt_dwh (the exports are only needed off the
    default home)."""
    demo_env, demo = demoed
    assert demo.returncode == 0, demo.stdout + demo.stderr
    exports = gourmand(demo_env, "postgres", "--env")
    assert exports.returncode == 0, exports.stderr
    env = dict(demo_env)
    for line in exports.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0] if value else ""
    assert env["GOURMAND_PG_DATABASE"] == demo_env["GOURMAND_OLTP_DSN"].rsplit("/", 1)[1]
    env["DBT_TARGET_PATH"] = str(Path(demo_env["GOURMAND_HOME"]) / "analyst-target")
    env["DBT_LOG_PATH"] = str(Path(demo_env["GOURMAND_HOME"]) / "analyst-logs")
    for project in ("dbt_oltp", "dbt_dwh"):
        build = subprocess.run(
            [DBT, "build", "--profiles-dir", "../profiles"],
            cwd=ROOT / project, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert build.returncode == 0, build.stdout[-3000:]
        assert "ERROR=0" in build.stdout and "PASS=" in build.stdout


def test_sql_is_read_only_and_errors_are_messages(demo_env):
    write = gourmand(demo_env, "sql", "create table public.x (i int)")
    assert write.returncode == 2 and "read-only" in write.stderr
    missing = gourmand(demo_env, "sql", "--target", "warehouse", "select 1")
    assert missing.returncode == 2 and "no warehouse yet" in missing.stderr
    assert "Traceback" not in write.stderr + missing.stderr


def _rows(table) -> list[tuple]:
    return sorted(tuple(row.values()) for row in table.to_pylist())


def test_extracts_equal_their_marts(served):
    import pyarrow.parquet as pq

    home, _ = served
    extracts = home / "lake" / "extracts"
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema = 'marts' or table_name like 'dim\\_%' escape '\\'"
        ).fetchall()
        assert len(tables) >= 20
        for schema, name in tables:
            folder = extracts / name
            dictionary = json.loads((folder / "dictionary.json").read_text())
            mart = con.sql(f"select * from {schema}.{name}").to_arrow_table()
            parquet = pq.read_table(folder / f"{name}.parquet")
            assert dictionary["rows"] == mart.num_rows == parquet.num_rows, name
            assert (
                parquet.column_names
                == mart.column_names
                == [c["name"] for c in dictionary["columns"]]
            )
            assert all(c["description"] for c in dictionary["columns"]), name
            assert _rows(parquet.cast(mart.schema, safe=False)) == _rows(mart), name
            text = (folder / f"{name}.csv").read_text()
            assert len(list(csv.reader(io.StringIO(text)))) == 1 + mart.num_rows, name
    finally:
        con.close()


def test_every_dashboard_page_renders_offline(served):
    from playwright.sync_api import sync_playwright

    from tests.support import OFFLINE_CHROMIUM_ARGS, chromium_or_skip, file_only_route

    home, _ = served
    site = home / "reports" / "site"
    chromium = chromium_or_skip()
    args = OFFLINE_CHROMIUM_ARGS
    outside: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    route = file_only_route(outside)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=args)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", route)
            page = context.new_page()
            for name in PAGES:
                page.goto((site / f"{name}.html").as_uri(), wait_until="load")
                sections = page.locator("section[data-chart]")
                assert sections.count() >= 1, name
                for i in range(sections.count()):
                    section = sections.nth(i)
                    chart = section.get_attribute("data-chart")
                    # each chart drew its SVG with a size, its table and its CSV link
                    svg = section.locator(".js-plotly-plot .main-svg").first
                    svg.wait_for(timeout=15_000)
                    box = svg.bounding_box()
                    assert box and box["width"] > 100 and box["height"] > 100, (name, chart)
                    assert section.locator("table tr").count() >= 2, (name, chart)
                    link = section.locator(f'a[href="data/{chart}.csv"]')
                    assert link.count() == 1 and (site / "data" / f"{chart}.csv").is_file()
                page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
            assert outside == [], outside
        finally:
            browser.close()
    for name in PAGES:
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000


def test_the_site_and_the_extracts_through_gourmand_serve(served):
    home, env = served
    port = free_port()
    server = subprocess.Popen(
        [GOURMAND, "serve", "--port", str(port)],
        env={**env, "GOURMAND_API_ANONYMOUS_READ": "true"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        index = httpx.get(f"{url}/")
        assert index.status_code == 200 and "plotly.min.js" in index.text
        assert httpx.get(f"{url}/la311.html").status_code == 200
        assert httpx.get(f"{url}/data/days_to_close_by_agency.csv").status_code == 200
        listed = httpx.get(f"{url}/v1/extracts").json()
        assert {e["name"] for e in listed} >= {"dim_date", "days_to_close_by_agency"}
        got = httpx.get(f"{url}/v1/extracts/days_to_close_by_agency.parquet")
        assert got.status_code == 200
        lake = home / "lake" / "extracts" / "days_to_close_by_agency"
        assert got.content == (lake / "days_to_close_by_agency.parquet").read_bytes()
        assert httpx.get(f"{url}/v1/extracts/nope.csv").status_code == 404
        # the site's downloads page links every extract, and the links answer
        downloads = httpx.get(f"{url}/downloads.html").text
        links = re.findall(r'href="(/v1/extracts/[^"]+)"', downloads)
        assert len(links) == 3 * len(listed)
        assert all(httpx.get(f"{url}{link}").status_code == 200 for link in links[:6])
    finally:
        server.terminate()
        server.wait(timeout=30)
