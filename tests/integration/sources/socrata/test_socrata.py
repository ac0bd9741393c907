"""LA 311 from the sandbox's Socrata endpoint into raw_socrata: full years, update runs that
merge on srnumber and count inserted vs updated, the watermark, and rejects with reasons."""

from __future__ import annotations

from typing import Any

import pytest

from extract.runtime.postgres import connect
from tests.support import pg_rows

pytestmark = pytest.mark.integration

YEARS = "2023,2024"


def _server(**knobs: Any) -> Any:
    from extract.sandbox import SandboxConfig, SandboxServer

    return SandboxServer(
        SandboxConfig(socrata_years=YEARS, socrata_rows_per_year=3000, **knobs)
    ).start()


def _changed_since(server: Any, since: str) -> int:
    """What the sandbox serves after `since`, asked straight from its Socrata endpoint."""
    import requests

    from extract.sources.socrata.datasets import LA311_DATASETS

    total = 0
    for year in (2023, 2024):
        answer = requests.get(
            f"{server.url}/resource/{LA311_DATASETS[year]}.json",
            params={"$where": f"updateddate > '{since}'", "$limit": 50000, "$select": "srnumber"},
            timeout=30,
        )
        answer.raise_for_status()
        total += len(answer.json())
    return total


def test_full_then_update_runs_merge_on_srnumber(make_settings):
    from extract.pipelines import run_source

    base = _server()
    try:
        settings = make_settings(GOURMAND_SOCRATA_BASE_URL=base.url)
        full = run_source(
            "socrata", settings=settings, options={"mode": "full", "years": [2023, 2024]}
        )
    finally:
        base.stop()
    assert full.load["inserted"] == 6000 and full.load["updated"] == 0
    assert full.load["rejected"] == 0
    first_mark = full.load["watermark"]
    [(rows, distinct)] = pg_rows(
        settings, "select count(*), count(distinct srnumber) from raw_socrata.service_requests"
    )
    assert rows == distinct == 6000

    changed = _server(socrata_changed_fraction=0.01, socrata_new_rows=40)
    try:
        expected = _changed_since(changed, first_mark)
        settings = settings.with_(socrata_base_url=changed.url)
        update = run_source("socrata", settings=settings, options={"mode": "update"})
        again = run_source("socrata", settings=settings, options={"mode": "update"})
    finally:
        changed.stop()
    assert update.load["since"] == first_mark
    assert update.load["inserted"] == 40
    assert update.load["updated"] == expected - 40 > 0
    assert update.load["watermark"] > first_mark
    assert again.load["inserted"] == 0 and again.load["updated"] == 0
    [(rows, distinct)] = pg_rows(
        settings, "select count(*), count(distinct srnumber) from raw_socrata.service_requests"
    )
    assert rows == distinct == 6040
    loads = pg_rows(
        settings,
        'select mode, inserted, updated from raw_socrata."_socrata_loads" order by loaded_at',
    )
    assert loads == [("full", 6000, 0), ("update", 40, expected - 40), ("update", 0, 0)]


def test_rows_without_srnumber_or_going_backwards_are_rejected(make_settings):
    from extract.pipelines import run_source

    server = _server(socrata_null_srnumber_every=400, socrata_backwards_every=700)
    try:
        settings = make_settings(GOURMAND_SOCRATA_BASE_URL=server.url)
        run = run_source("socrata", settings=settings, options={"mode": "full", "years": [2023]})
    finally:
        server.stop()
    reasons = dict(
        pg_rows(
            settings,
            "select reason, count(*) from raw_socrata._rejects group by reason",
        )
    )
    # every 400th and every 700th row of the year (the 2,800th is both: one reason, the first)
    assert reasons == {"srnumber is missing": 3000 // 400, "updateddate is before createddate": 3}
    [ledger] = run.ledger
    assert ledger["received"] == 3000 == ledger["loaded"] + ledger["rejected"]
    loaded = pg_rows(settings, "select count(*) from raw_socrata.service_requests")[0][0]
    assert loaded == ledger["loaded"]


def test_a_first_bulk_load_keeps_one_row_per_srnumber(make_settings):
    """Into an empty table the rows are appended, not merged: a request that two years both
    list (a real dataset can) must still end up once, in its newest version."""
    from extract.pipelines import run_source

    server = _server()
    try:
        settings = make_settings(
            GOURMAND_SOCRATA_BASE_URL=server.url,
            # both years point at the same dataset: every request arrives twice in one load
            GOURMAND_SOCRATA_DATASETS="2023:4a4x-mna2,2024:4a4x-mna2",
        )
        run = run_source(
            "socrata", settings=settings, options={"mode": "full", "years": [2023, 2024]}
        )
    finally:
        server.stop()
    [(rows, distinct)] = pg_rows(
        settings, "select count(*), count(distinct srnumber) from raw_socrata.service_requests"
    )
    assert rows == distinct == 3000
    assert run.load["inserted"] == 3000


def test_reset_reloads_a_year_whole(make_settings):
    from extract.pipelines import run_source

    server = _server()
    try:
        settings = make_settings(GOURMAND_SOCRATA_BASE_URL=server.url)
        options = {"mode": "full", "years": [2023]}
        first = run_source("socrata", settings=settings, options=options)
        again = run_source("socrata", settings=settings, options=options)
        # a request the source no longer has (deleted upstream): only a reset removes it
        conn = connect(settings)
        with conn, conn.cursor() as cur:
            cur.execute(
                "insert into raw_socrata.service_requests (srnumber, createddate, updateddate, "
                "_dlt_load_id) select '1-GONE', createddate, updateddate, _dlt_load_id "
                "from raw_socrata.service_requests limit 1"
            )
        conn.close()
        reset = run_source("socrata", settings=settings, options={**options, "reset": True})
    finally:
        server.stop()
    # the same year again replaces every request; a reset reloads them into the table (never
    # emptied on the way) and then deletes what it did not reload
    assert (first.load["inserted"], first.load["updated"]) == (3000, 0)
    assert (again.load["inserted"], again.load["updated"]) == (0, 3000)
    assert (reset.load["inserted"], reset.load["updated"]) == (0, 3000)
    assert pg_rows(settings, "select count(*) from raw_socrata.service_requests") == [(3000,)]
    assert pg_rows(
        settings, "select count(*) from raw_socrata.service_requests where srnumber = '1-GONE'"
    ) == [(0,)]
    # the key's unique index is back after the bulk load
    assert pg_rows(
        settings,
        "select count(*) from pg_indexes where schemaname = 'raw_socrata' "
        "and indexname = 'service_requests_srnumber'",
    ) == [(1,)]


def test_the_update_upsert_rejects_an_older_copy_at_write_time(make_settings):
    """The page lookup rejects copies older than what was loaded before the run; a copy that
    is older than a row written meanwhile is caught by the upsert itself, in its transaction."""
    import pyarrow as pa

    from extract.pipelines import run_source
    from extract.sources.accounting import BatchLedger
    from extract.sources.socrata import upsert as socrata_upsert
    from extract.sources.socrata.pages import LOADED

    server = _server()
    try:
        settings = make_settings(GOURMAND_SOCRATA_BASE_URL=server.url)
        run_source("socrata", settings=settings, options={"mode": "full", "years": [2023]})
    finally:
        server.stop()
    [(srnumber, updated)] = pg_rows(
        settings,
        "select srnumber, updateddate from raw_socrata.service_requests order by srnumber limit 1",
    )
    newer = updated.replace(tzinfo=None).replace(microsecond=0)
    row = {c.name: None for c in LOADED}
    page = pa.Table.from_pylist(
        [
            {
                **row,
                "srnumber": srnumber,
                "createddate": newer,
                "updateddate": newer.replace(year=newer.year - 1),
            },  # older than the loaded version
            {**row, "srnumber": "NEW-1", "createddate": newer, "updateddate": newer},
        ],
        schema=LOADED,
    )
    ledger = BatchLedger("service_requests", "update-test")
    ledger.accept_many(2)
    inserted, updated_rows = socrata_upsert.upsert(
        settings, [page], ledger, socrata_upsert.load_id()
    )
    assert (inserted, updated_rows) == (1, 0)
    assert (ledger.received, ledger.loaded, ledger.rejected) == (2, 1, 1)
    assert pg_rows(
        settings,
        "select count(*) from raw_socrata._rejects where batch = 'update-test' "
        "and reason = 'updateddate is older than the loaded version'",
    ) == [(1,)]
    assert pg_rows(
        settings,
        "select received, loaded, rejected from raw_socrata._loads where batch = 'update-test'",
    ) == [(2, 1, 1)]
    # the loaded version is untouched
    assert pg_rows(
        settings,
        "select updateddate from raw_socrata.service_requests where srnumber = %s",
        srnumber,
    ) == [(updated,)]


def test_a_short_load_fails_with_both_counts_and_keeps_nothing(make_settings):
    """Pages that lose rows on the way (the source's count(*) still counts them): the load
    fails naming the source's count and what it received, and records nothing as loaded."""
    from extract.pipelines import run_source

    server = _server(socrata_lose_every=97)
    try:
        settings = make_settings(GOURMAND_SOCRATA_BASE_URL=server.url)
        with pytest.raises(Exception) as failed:
            run_source("socrata", settings=settings, options={"mode": "full", "years": [2023]})
    finally:
        server.stop()
    message = str(failed.value)
    assert "the source counts 3,000 requests" in message
    assert f"the load received {3000 - len(range(0, 3000, 97)):,}" in message
    assert pg_rows(settings, "select to_regclass('raw_socrata.service_requests') is null") == [
        (True,)
    ]


def test_sodapy_counts_and_pages_the_sandbox():
    """The Socrata client the earlier LA 311 loader used, against the sandbox: an aggregate
    (count(*) with a filter) and a page of plain columns."""
    from sodapy import Socrata

    from extract.sources.socrata.datasets import LA311_DATASETS

    server = _server()
    try:
        client = Socrata(server.url.removeprefix("http://"), None, timeout=30)
        client.uri_prefix = "http://"
        counted = client.get(LA311_DATASETS[2023], select="count(*)",
                             where="updateddate > '2023-06-01T00:00:00'")  # fmt: skip
        page = client.get(LA311_DATASETS[2023], select="srnumber, updateddate",
                          where="updateddate > '2023-06-01T00:00:00'", limit=50000)  # fmt: skip
        client.close()
    finally:
        server.stop()
    assert counted == [{"count": str(len(page))}] and 0 < len(page) < 3000


def test_a_reset_killed_midway_never_empties_the_table_and_converges(make_settings):
    """A reset killed (SIGKILL) while it reloads: the table still holds the year (never empty
    on the way), and running the reset again converges."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from extract.pipelines import run_source

    server = _server(slow_every=1, slow_seconds=0.3)  # each page a little late: time to kill
    try:
        settings = make_settings(GOURMAND_SOCRATA_BASE_URL=server.url)
        options = {"mode": "full", "years": [2023]}
        run_source("socrata", settings=settings, options=options)
        env = {
            **os.environ,
            "GOURMAND_HOME": str(settings.home),
            "GOURMAND_OLTP_DSN": settings.oltp_dsn,
            "GOURMAND_SOCRATA_BASE_URL": server.url,
        }
        child = subprocess.Popen(
            [sys.executable, "-c",
             "from extract.pipelines import run_source; from extract.settings import get_settings; "
             "run_source('socrata', settings=get_settings(), options="
             "{'mode': 'full', 'years': [2023], 'reset': True})"],
            env=env, cwd=settings.project_root, start_new_session=True,
        )  # fmt: skip
        seen = []
        deadline = time.time() + 1.5
        while time.time() < deadline and child.poll() is None:
            seen.append(
                pg_rows(settings, "select count(*) from raw_socrata.service_requests")[0][0]
            )
            time.sleep(0.1)
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        assert child.returncode == -signal.SIGKILL, "the reset finished before it was killed"
        assert seen and min(seen) == 3000  # never emptied while reloading
        assert pg_rows(settings, "select count(*) from raw_socrata.service_requests") == [(3000,)]
        again = run_source("socrata", settings=settings, options={**options, "reset": True})
    finally:
        server.stop()
    assert again.load["updated"] == 3000
    assert pg_rows(
        settings, "select count(*), count(distinct srnumber) from raw_socrata.service_requests"
    ) == [(3000, 3000)]


def test_the_watermark_is_the_newest_request_loaded_and_since_is_parsed(make_settings):
    """A --since is a parsed timestamp (a future or injected one is refused before any
    request); the watermark recorded is the newest updateddate loaded, whatever --since was."""
    from extract.pipelines import run_source
    from extract.runtime.inputs import InputError

    server = _server()
    try:
        # updates then track 2023 only, the year loaded
        settings = make_settings(
            GOURMAND_SOCRATA_BASE_URL=server.url, GOURMAND_SOCRATA_YEARS="2023"
        )
        full = run_source("socrata", settings=settings, options={"mode": "full", "years": [2023]})
        newest = pg_rows(settings, "select max(updateddate) from raw_socrata.service_requests")
        assert full.load["watermark"] == newest[0][0].strftime("%Y-%m-%dT%H:%M:%S.000")
        for since in ("2999-01-01", "2023-01-01' or '1'='1"):
            with pytest.raises(InputError):
                run_source("socrata", settings=settings, options={"mode": "update", "since": since})
        old = run_source(
            "socrata", settings=settings, options={"mode": "update", "since": "2000-01-01"}
        )
    finally:
        server.stop()
    assert old.load["since"] == "2000-01-01T00:00:00.000"
    assert old.load["watermark"] == full.load["watermark"]  # not moved back to --since
    assert old.load["inserted"] == 0
    loads = pg_rows(settings, 'select mode, watermark from raw_socrata."_socrata_loads"')
    assert len(loads) == 2  # the refused ones recorded nothing
