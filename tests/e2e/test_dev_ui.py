"""`gourmand dev` (make dev): the real UI on a loopback port, read through its GraphQL API and
driven in headless Chromium, then stopped with SIGINT as Ctrl-C would.

The tests share one server and run in file order; the last one stops it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import (
    CHROMIUM_ARGS,
    GOURMAND,
    chromium_or_skip,
    free_port,
    new_database,
    pg_rows,
    settings_for,
)

# whole Dagster runs: minutes each on a slow 2-core machine, more than the default 300 s
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

GROUPS = ("extract", "oltp", "lake", "warehouse", "marts", "serving")


def graphql(port: int, query: str) -> dict[str, Any]:
    body = json.dumps({"query": query}).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        payload = json.load(resp)
    assert "errors" not in payload, payload
    return payload["data"]


ASSET_NODES = """{ assetNodes { assetKey { path } dependencyKeys { path } groupName
                   isMaterializable } }"""


@pytest.fixture(scope="module")
def ui(base_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`gourmand dev` on a free port, its sources a small sandbox, its Postgres a new database."""
    from extract.sandbox import SandboxConfig, SandboxServer

    tmp = tmp_path_factory.mktemp("dev-ui")
    server = SandboxServer(SandboxConfig(counties=2, businesses_per_county=8)).start()
    with new_database(base_dsn) as dsn:
        settings = settings_for(tmp / "home", dsn, server)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GOURMAND_", "DAGSTER_"))}
        env.update(
            GOURMAND_HOME=str(settings.home),
            GOURMAND_OLTP_DSN=dsn,
            GOURMAND_YELP_BASE_URL=f"{server.url}/v3",
            GOURMAND_CENSUS_BASE_URL=f"{server.url}/data",
            GOURMAND_STATES_URL=f"{server.url}/abbreviations.htm",
        )
        port = free_port()
        log = (tmp / "dev.log").open("w")
        proc = subprocess.Popen(
            [GOURMAND, "dev", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
            # like a shell script: SIGINT ignored on entry, which `gourmand dev` must undo
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    graphql(port, ASSET_NODES)
                    break
                except OSError:
                    assert proc.poll() is None, (tmp / "dev.log").read_text()[-3000:]
                    assert time.monotonic() < deadline, "the UI did not come up in 120 s"
                    time.sleep(1)
            yield {"port": port, "proc": proc, "settings": settings, "tmp": tmp}
        finally:
            _stop_tree(proc)
            log.close()
            server.stop()


def _stop_tree(proc: subprocess.Popen) -> None:
    """Kill what is left of the UI (after a failed test): an orphaned daemon would keep taking
    runs from a run queue in the same place the next session's UI uses."""
    import psutil

    if proc.poll() is not None:
        return
    tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    for p in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(tree, timeout=30)


def test_graphql_shows_one_connected_graph_without_orphans(ui):
    nodes = graphql(ui["port"], ASSET_NODES)["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    # a dbt source that nothing produces would be an external, non-materializable node
    assert [k for k, n in by_key.items() if not n["isMaterializable"]] == []
    assert {n["groupName"] for n in nodes} == {*GROUPS, "extract_socrata", "hr"}
    children: dict[str, set[str]] = {}
    for key, node in by_key.items():
        for parent in node["dependencyKeys"]:
            children.setdefault("/".join(parent["path"]), set()).add(key)
    # walk down from the Yelp pull: each layer is reached, through the one before it
    path, frontier, seen = [], ["raw_yelp/businesses"], {"raw_yelp/businesses"}
    while frontier:
        key = frontier.pop(0)
        path.append(key)
        for child in sorted(children.get(key, ())):
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    for layer in ("oltp/", "lake/", "dwh/", "marts/"):
        assert any(k.startswith(layer) for k in seen), f"nothing in {layer} below raw_yelp"
    assert "marts/top_review_count_changes" in seen
    # the HR chain, its own group, runs from the drop folder's tables to the report
    frontier, seen = ["raw_hr/employees"], {"raw_hr/employees"}
    while frontier:
        key = frontier.pop(0)
        for child in sorted(children.get(key, ())):
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    assert {"oltp/hr_employee", "lake/hr_employee", "dwh/fct_hire", "reports/hr"} <= seen


def test_browser_shows_the_groups_and_materializes_the_extraction_group(ui):
    from playwright.sync_api import sync_playwright

    chromium = chromium_or_skip()
    base = f"http://127.0.0.1:{ui['port']}"
    shot = ui["tmp"] / "browser-failure.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        # Dagster's first-visit newsletter box: the instance is told it was seen (the UI asks
        # the server before it opens it); should it open anyway, dismiss it when it stands in
        # the way of an action. Clicking Skip alone was flaky: its dialog's portal sometimes
        # took the click while it animated.
        graphql(ui["port"], "mutation { setNuxSeen }")
        page.add_locator_handler(page.get_by_role("button", name="Skip"), lambda skip: skip.click())
        try:
            page.goto(f"{base}/asset-groups")
            for group in GROUPS:
                page.get_by_text(group, exact=True).first.wait_for(timeout=60_000)

            page.goto(f"{base}/locations/gourmand/asset-groups/extract")
            materialize = page.get_by_role("button", name="Materialize all")
            materialize.wait_for(timeout=60_000)
            materialize.click()
            # the Yelp assets are daily-partitioned: take the latest day, one run for the group
            page.get_by_text("Latest", exact=True).click()
            page.get_by_role("button", name="Launch 1 run").click()
            run = _wait_for_run(ui["port"], timeout=300)
        except BaseException:
            page.screenshot(path=str(shot))
            raise
        finally:
            browser.close()
    assert run["status"] == "SUCCESS", f"run {run['runId']}: {run['status']} (screenshot {shot})"
    assert run["assetSelection"] and {"/".join(k["path"]) for k in run["assetSelection"]} >= {
        "raw_states/state_abbreviations",
        "raw_census/county_population",
        "raw_yelp/businesses",
    }
    settings = ui["settings"]
    [(day, rows)] = pg_rows(
        settings, "select surveyed_on::text, count(*) from raw_yelp.businesses group by 1"
    )
    assert rows > 0 and day == run["tags"]["dagster/partition"]


def _wait_for_run(port: int, timeout: float) -> dict[str, Any]:
    """The UI-launched run, once it has finished."""
    query = """{ runsOrError { ... on Runs { results { runId status
                 assetSelection { path } tags { key value } } } } }"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = graphql(port, query)["runsOrError"]["results"]
        if runs and runs[0]["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            run = runs[0]
            run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
            return dict(run)
        time.sleep(2)
    raise AssertionError(f"no finished run within {timeout:.0f} s")


def test_a_backfill_of_days_is_one_run(ui):
    """Three days of the Yelp assets launched as a backfill (as the UI's "Launch backfill"
    does) become one run, by the assets' single-run backfill policy. Needs the Census counties
    the previous test loaded."""
    keys = ", ".join(
        f'{{path: ["raw_yelp", "{t}"]}}'
        for t in ("businesses", "businesses__categories", "businesses__transactions",
                  "events", "reviews")
    )  # fmt: skip
    days = '["2024-01-01", "2024-01-02", "2024-01-03"]'
    launched = graphql(
        ui["port"],
        f"""mutation {{ launchPartitionBackfill(backfillParams: {{
              assetSelection: [{keys}], partitionNames: {days} }}) {{
              __typename ... on LaunchBackfillSuccess {{ backfillId }}
              ... on PythonError {{ message }} }} }}""",
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]
    query = f"""{{ partitionBackfillOrError(backfillId: "{backfill_id}") {{
                 ... on PartitionBackfill {{ status runs {{ runId status tags {{ key value }} }} }}
                 }} }}"""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        backfill = graphql(ui["port"], query)["partitionBackfillOrError"]
        runs = backfill["runs"]
        if backfill["status"] != "REQUESTED" and all(
            r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs
        ):
            break
        time.sleep(2)
    else:
        raise AssertionError(f"backfill {backfill_id} did not finish in 300 s: {backfill}")
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    assert len(runs) == 1 and runs[0]["status"] == "SUCCESS", runs
    tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
    assert tags["dagster/asset_partition_range_start"] == "2024-01-01"
    assert tags["dagster/asset_partition_range_end"] == "2024-01-03"
    days_loaded = pg_rows(
        ui["settings"],
        "select surveyed_on::text from raw_yelp.businesses where surveyed_on < '2024-02-01' "
        "group by 1 order by 1",
    )
    assert [d for (d,) in days_loaded] == ["2024-01-01", "2024-01-02", "2024-01-03"]


def test_sigint_stops_the_ui_and_all_its_children(ui):
    import psutil

    proc = ui["proc"]
    children = psutil.Process(proc.pid).children(recursive=True)
    assert children  # webserver, daemon, code servers
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, [p.cmdline() for p in alive]
