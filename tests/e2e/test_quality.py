"""The quality layer in real runs: faults injected through the sandbox's knobs make the named
checks fail with the offending rows sampled, a halt check stops the run before the OLTP model and
the warehouse, failures reach the webhook, every result lands in quality.check_results, and a
reconciliation mismatch (lake files deleted) is named with both numbers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import GOURMAND, pg_rows

# whole Dagster runs: minutes each on a slow 2-core machine, more than the default 300 s
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _check_results(result: Any) -> dict[str, Any]:
    found = {}
    for event in result.get_asset_check_evaluations():
        found[event.check_name] = event
    return found


def _materialized(result: Any) -> set[str]:
    return {
        e.event_specific_data.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    }


def test_bad_values_fail_their_checks_and_halt_the_run(
    sandbox_settings, as_process_settings, receiver
):
    url, received = receiver
    settings, server = sandbox_settings(
        counties=2,
        businesses_per_county=15,
        bad_rating_every=4,
        negative_review_count_every=5,
        unknown_state_every=6,
    )
    as_process_settings(settings, server, GOURMAND_ALERT_WEBHOOK=url + "/hooks/s3cr3t")
    from dagster import DagsterInstance

    from dagster_project.definitions import defs

    with DagsterInstance.ephemeral() as instance:
        run = (
            defs()
            .resolve_job_def("gourmand_daily")
            .execute_in_process(instance=instance, partition_key="2024-01-01", raise_on_error=False)
        )
    checks = _check_results(run)
    for name, column, bad in (
        ("rating_in_steps", "rating", 7.0),
        ("review_count_non_negative", "review_count", None),
        ("state_codes_known", "state", "ZZ"),
    ):
        evaluation = checks[name]
        assert not evaluation.passed, name
        sample = evaluation.metadata["unexpected_sample"].value
        assert sample and all(row["surveyed_on"] == "2024-01-01" and row["id"] for row in sample)
        if bad is not None:
            assert {row[column] for row in sample} == {bad}
        else:
            assert all(row[column] < 0 for row in sample)
    assert checks["price_levels"].passed and checks["coordinates_valid"].passed
    # halt: the raw checks block everything downstream of raw_yelp/businesses in this run
    assert not run.success
    built = _materialized(run)
    assert "raw_yelp/businesses" in built
    assert not [k for k in built if k.split("/")[0] in ("oltp", "lake", "dwh", "marts")]
    # the history table has this run's raw results, with the sample
    rows = pg_rows(
        settings,
        "select check_name, passed, jsonb_array_length(unexpected_sample) "
        "from quality.check_results where run_id = %s",
        run.run_id,
    )
    by_name = {name: (passed, n) for name, passed, n in rows}
    assert by_name["rating_in_steps"][0] is False and by_name["rating_in_steps"][1] > 0
    assert by_name["population_positive"] == (True, 0)
    # one alert for the failing raw checks, naming them with observed vs expected
    texts = [m["body"]["text"] for m in received if "quality checks failed" in m["body"]["text"]]
    assert len(texts) == 1
    assert "`rating_in_steps` (halt" in texts[0] and "unexpected" in texts[0]
    assert "s3cr3t" not in texts[0]


def test_clean_days_pass_a_missing_day_warns_and_lake_deletion_is_named(
    sandbox_settings, as_process_settings
):
    from dagster import DagsterInstance

    from dagster_project.definitions import defs
    from expectations.catalog import CHECKS
    from expectations.suites import run_checks
    from extract.lake.files import list_files, open_lake

    settings, server = sandbox_settings(counties=2, businesses_per_county=10)
    as_process_settings(settings, server)
    job = defs().resolve_job_def("gourmand_daily")
    with DagsterInstance.ephemeral() as instance:
        first = job.execute_in_process(instance=instance, partition_key="2024-01-01")
        # 2024-01-02 is never extracted
        third = job.execute_in_process(instance=instance, partition_key="2024-01-03")
    assert first.success and third.success  # a missing day warns; it does not halt
    # every check but the 311 raw ones, whose asset has its own (yearly) jobs
    names = {c.name for c in CHECKS if c.asset[0] != "raw_socrata"}
    clean = {n: e for n, e in _check_results(first).items() if n in names}  # not the dbt tests
    assert set(clean) == names
    assert all(e.passed for e in clean.values()), [n for n, e in clean.items() if not e.passed]
    per_run = pg_rows(
        settings, "select run_id, count(*) from quality.check_results group by run_id"
    )
    assert sorted(n for _, n in per_run) == [len(names), len(names)]

    gap = _check_results(third)["fact_rows_every_day"]
    assert not gap.passed
    assert gap.metadata["unexpected_sample"].value == [{"holdings": 0, "survey_day": "2024-01-02"}]
    summary = pg_rows(
        settings,
        "select runs, passed from quality.check_daily_summary "
        "where check_name = 'fact_rows_every_day'",
    )
    assert summary == [(2, 1)]

    # delete half of the review files from the lake: reconciliation names table and numbers
    lake = open_lake(settings)
    files = list_files(lake, "oltp/review")
    assert files
    for path in files[: max(1, len(files) // 2)]:
        lake.fs.rm(path)
    [outcome] = run_checks(settings, ("dwh", "dim_review"), [])
    assert not outcome.passed
    oltp_reviews = pg_rows(settings, "select count(*) from oltp.review")[0][0]
    assert f"review: oltp has {oltp_reviews:,} keys, lake has" in outcome.observed


def test_the_html_report_shows_an_injected_failure_in_a_browser(sandbox_settings, tmp_path):
    """Bad ratings loaded, the raw checks run and recorded, `gourmand quality-report` built,
    and the failing check found in headless Chromium."""
    import os
    import subprocess
    from datetime import date

    from playwright.sync_api import sync_playwright

    from expectations.results import record
    from expectations.suites import run_checks
    from extract.pipelines import run_source
    from tests.support import CHROMIUM_ARGS, chromium_or_skip

    chromium = chromium_or_skip()
    settings, _ = sandbox_settings(counties=2, businesses_per_county=10, bad_rating_every=3)
    for source in ("states", "census"):
        run_source(source, settings=settings)
    run_source("yelp", day=date(2024, 1, 1), settings=settings)
    outcomes = run_checks(settings, ("raw_yelp", "businesses"), [date(2024, 1, 1)])
    record(settings, "injected-run", outcomes)

    out = tmp_path / "report.html"
    env = {
        **os.environ,
        "GOURMAND_HOME": str(settings.home),
        "GOURMAND_OLTP_DSN": settings.oltp_dsn,
    }
    built = subprocess.run(
        [GOURMAND, "quality-report", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        page = browser.new_page()
        try:
            page.goto(out.as_uri())
            row = page.locator("tr[data-check='rating_in_steps']")
            assert row.locator("td.result").inner_text() == "FAIL"
            assert "7.0" in row.inner_text()  # the sampled offending rating
            assert page.locator("tr[data-check='price_levels'] td.result").inner_text() == "pass"
            assert "1 failing" in page.locator("#summary").inner_text()
        except BaseException:
            page.screenshot(path=str(tmp_path / "report-failure.png"))
            raise
        finally:
            browser.close()
