"""`gourmand report hr` as a user runs it, and its page opened in headless Chromium with the
network cut: both charts render (non-empty boxes, one bar per department, four heatmap cells per
department, the mean line), and the page asks for nothing but its own file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support import GOURMAND, make_hr_marts

pytestmark = pytest.mark.e2e

DEPARTMENTS = ["Accounting", "Engineering", "Human Resources", "Legal", "Sales & Support"]
JOBS = ["Analyst", "Clerk", "Developer", "Manager"]


def _warehouse(path: Path) -> None:
    """Marts for 2021 as dbt_dwh would build them: every department hires; a few hire a lot."""
    hires = [
        (2021, d, j, (i + k) % 3, (i * k) % 4, i + 1, (k + 1) % 2)
        for i, d in enumerate(DEPARTMENTS)
        for k, j in enumerate(JOBS)
        if (i + k) % 5 != 4  # not every department has every job
    ]
    totals = {d: sum(sum(r[3:]) for r in hires if r[1] == d) for d in DEPARTMENTS}
    mean = sum(totals.values()) / len(totals)
    make_hr_marts(
        path, hires, [(2021, i + 1, d, n) for i, (d, n) in enumerate(totals.items()) if n > mean]
    )


def test_the_hr_report_renders_offline_in_a_browser(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    from tests.support import OFFLINE_CHROMIUM_ARGS, chromium_or_skip, file_only_route

    chromium = chromium_or_skip()
    db = tmp_path / "warehouse.duckdb"
    _warehouse(db)
    out = tmp_path / "report"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOURMAND_", "DAGSTER_"))}
    env.update(GOURMAND_HOME=str(tmp_path / "home"), GOURMAND_WAREHOUSE_PATH=str(db))
    # readers read the published build: publish the file as a run's publication would
    from extract.runtime.publication import publish
    from extract.settings import load_settings

    publish(load_settings(env))
    built = subprocess.run(
        [GOURMAND, "report", "hr", "--year", "2021", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    index = Path(built.stdout.strip())
    assert index == out / "index.html"

    # no network: a proxy that goes nowhere for Chromium's own traffic (loopback included),
    # and every request but the page's own file aborted and recorded
    args = OFFLINE_CHROMIUM_ARGS
    outside: list[str] = []

    route = file_only_route(outside)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=args)
        context = browser.new_context()
        context.route("**/*", route)
        page = context.new_page()
        page.on("request", lambda req: req.url.startswith("file:") or outside.append(req.url))
        try:
            page.goto(index.as_uri(), wait_until="load")
            n = len(DEPARTMENTS)
            for chart in ("#hires-by-quarter", "#departments-above-mean"):
                box = page.locator(f"svg{chart}").bounding_box()
                assert box and box["width"] > 0 and box["height"] > 0, chart
            assert page.locator("#departments-above-mean rect.bar").count() == n
            assert page.locator("#hires-by-quarter rect.cell").count() == 4 * n
            assert page.locator("#departments-above-mean line.mean").count() == 1
            label = page.locator("#departments-above-mean text.mean-label").text_content() or ""
            assert label.startswith("mean ")
            mean = float(label.removeprefix("mean "))
            # each bar is drawn with a height, and those above the mean line in their own fill
            bars = page.locator("#departments-above-mean rect.bar")
            fills: dict[bool, set[str]] = {True: set(), False: set()}
            for i in range(n):
                bar = bars.nth(i)
                box = bar.bounding_box()
                assert box and box["width"] > 0 and box["height"] > 0
                hired = int((bar.locator("title").text_content() or "").split(": ")[1].split()[0])
                fills[hired > mean].add(bar.evaluate("e => getComputedStyle(e).fill"))
            assert len(fills[True]) == len(fills[False]) == 1 and fills[True] != fills[False]
            assert page.locator("#hires-by-quarter-table tr").count() > n
            assert outside == [], outside
        except BaseException:
            page.screenshot(path=str(tmp_path / "hr-report-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
