"""What the warehouse serves after `gourmand demo`: the data extracts (equal to their marts), the
dashboards (every page opened in headless Chromium with the network cut, every chart rendered,
a screenshot of each kept in .pytest-tmp/screenshots), and both through `gourmand serve`."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import time

import duckdb
import httpx
import pytest

from tests.support import GOURMAND, ROOT, free_port, new_database, reader_dsn

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

PAGES = ("businesses", "la311", "hr", "quality", "runs")
SCREENSHOTS = ROOT / ".pytest-tmp" / "screenshots"


@pytest.fixture(scope="module")
def demoed(base_dsn, tmp_path_factory):
    with new_database(base_dsn) as dsn:
        home = tmp_path_factory.mktemp("serving") / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GOURMAND_", "DAGSTER_"))}
        env.update(GOURMAND_HOME=str(home), GOURMAND_OLTP_DSN=dsn,
                   GOURMAND_READER_DSN=reader_dsn(dsn))  # fmt: skip
        demo = subprocess.run([GOURMAND, "demo", "--days", "2"], env=env, capture_output=True,
                              text=True, timeout=600)  # fmt: skip
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        yield home, env
        subprocess.run([GOURMAND, "sandbox", "--stop"], env=env, capture_output=True)


def _rows(table) -> list[tuple]:
    return sorted(tuple(row.values()) for row in table.to_pylist())


def test_extracts_equal_their_marts(demoed):
    import pyarrow.parquet as pq

    home, _ = demoed
    extracts = home / "lake" / "extracts"
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        served = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema = 'marts' or table_name like 'dim\\_%' escape '\\'"
        ).fetchall()
        assert len(served) >= 20
        for schema, name in served:
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


def test_every_dashboard_page_renders_offline(demoed):
    from playwright.sync_api import sync_playwright

    from tests.support import OFFLINE_CHROMIUM_ARGS, chromium_or_skip, file_only_route

    home, _ = demoed
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


def test_the_site_and_the_extracts_through_gourmand_serve(demoed):
    home, env = demoed
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
