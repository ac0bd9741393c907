"""Replay: survey days run in any order, any number of times, killed anywhere, converge to the
in-order run.

Two homes against the same final source data: one runs days 1, 3, 4, 2 and then day 3 again
after the source revised day 3 (fewer businesses listed, other ratings, a few renames), and
before four of those runs, the same day's run is killed (SIGKILL, the whole process group) in
the extraction, the OLTP build, the lake export and the warehouse build; the other runs days
1-4 once each, in order, against the revised source from the start. Every table users read (the
OLTP model, the lake as the warehouse reads it, the warehouse and the marts) must be equal row
for row, processing-time columns aside. Then a full refresh of each layer of the first home must
leave all of it unchanged.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.support import (
    OTHER_CHAINS_DWH,
    OTHER_CHAINS_OLTP,
    chain_checksums,
    run_chain_day,
    run_chain_day_killed,
    settings_for,
)

# nine chain days and four killed runs in the module fixture
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

DAY1 = date(2024, 1, 1)
DAYS = [DAY1 + timedelta(days=i) for i in range(4)]
REVISED = DAYS[2]
KNOBS = {"counties": 2, "businesses_per_county": 25, "reviews_per_business": 2}
# (step, seconds into it) at which a run of the day is killed before the day runs whole
KILLS = {DAYS[2]: ("extract", 0.5), DAYS[3]: ("oltp", 3.0), DAYS[1]: ("warehouse", 2.0)}


@pytest.fixture(scope="module")
def replayed(base_dsn, tmp_path_factory):
    """(out-of-order home, in-order home, work folder, how the killed runs ended)."""
    from extract.sandbox import SandboxConfig, SandboxServer
    from tests.support import new_database

    work = tmp_path_factory.mktemp("replay")
    original = SandboxServer(SandboxConfig(**KNOBS)).start()
    revised = SandboxServer(SandboxConfig(**KNOBS, yelp_revised_day=REVISED)).start()
    try:
        with new_database(base_dsn) as dsn_a, new_database(base_dsn) as dsn_b:
            home_a, home_b = work / "out-of-order", work / "in-order"
            before = settings_for(home_a, dsn_a, original)
            kills = []
            for day in (DAYS[0], DAYS[2], DAYS[3], DAYS[1]):
                if day in KILLS:
                    kills.append(run_chain_day_killed(before, day, work / "dbt-a", *KILLS[day]))
                run_chain_day(before, day, work / "dbt-a")
            after = settings_for(home_a, dsn_a, revised)
            kills.append(run_chain_day_killed(after, REVISED, work / "dbt-a", "lake", 0.2))
            run_chain_day(after, REVISED, work / "dbt-a")
            in_order = settings_for(home_b, dsn_b, revised)
            for day in DAYS:
                run_chain_day(in_order, day, work / "dbt-b")
            yield after, in_order, work, kills
    finally:
        original.stop()
        revised.stop()


def _differences(left: dict[str, str], right: dict[str, str]) -> list[str]:
    return sorted(name for name in left.keys() | right.keys() if left.get(name) != right.get(name))


def test_every_kill_landed_in_its_step(replayed):
    *_, kills = replayed
    assert kills == [f"killed in {step}" for step in
                     ("extract", "oltp", "warehouse", "lake")]  # fmt: skip


def test_days_in_any_order_killed_runs_and_a_revised_rerun_equal_the_in_order_run(replayed):
    out_of_order, in_order, *_ = replayed
    a, b = chain_checksums(out_of_order), chain_checksums(in_order)
    assert _differences(a, b) == []
    # the comparison is not vacuous: the revision dropped businesses from day 3 in both homes
    from tests.support import pg_rows

    listed = {
        day: n
        for day, n in pg_rows(
            in_order,
            "select surveyed_on, count(*) from oltp.business_holding group by 1 order by 1",
        )
    }
    assert sorted(listed) == DAYS
    assert listed[REVISED] < listed[DAYS[1]] and listed[REVISED] < listed[DAYS[3]]


def test_a_full_refresh_of_every_layer_changes_no_history(replayed):
    from extract.lake.export import export_oltp
    from extract.runtime.dbt_invoke import run_dbt

    settings, _, work, _ = replayed
    before = chain_checksums(settings, with_edit_times=True)
    oltp = run_dbt(
        "dbt_oltp", ["run", "--full-refresh", "--exclude", *OTHER_CHAINS_OLTP], settings,
        target_path=work / "dbt-a" / "dbt_oltp",
    )  # fmt: skip
    assert oltp.returncode == 0, oltp.stdout[-3000:]
    export_oltp(settings, full_refresh=True)
    dwh = run_dbt(
        "dbt_dwh", ["run", "--full-refresh", "--exclude", *OTHER_CHAINS_DWH], settings,
        target_path=work / "dbt-a" / "dbt_dwh",
    )  # fmt: skip
    assert dwh.returncode == 0, dwh.stdout[-3000:]
    assert _differences(chain_checksums(settings, with_edit_times=True), before) == []


def test_the_replayed_home_passes_every_test(replayed):
    from extract.runtime.dbt_invoke import run_dbt

    settings, _, work, _ = replayed
    for project, others in (("dbt_oltp", OTHER_CHAINS_OLTP), ("dbt_dwh", OTHER_CHAINS_DWH)):
        result = run_dbt(project, ["test", "--exclude", *others], settings,
                         target_path=work / "dbt-a" / project)  # fmt: skip
        assert result.returncode == 0, result.stdout[-3000:]
        assert "PASS=" in result.stdout


def test_the_replayed_home_reconciles_across_layers(replayed):
    """The revised day deleted reviews and holdings: the lake still holds them in older files,
    under tombstones. Counting every key the lake ever got, the reconciliation found more in the
    lake than in the OLTP model and the warehouse and failed its halt checks after any revised
    day (the soak found it); counted as the warehouse reads the lake, the layers agree."""
    from expectations.reconcile import reconciliation_checks

    settings, *_ = replayed
    outcomes = reconciliation_checks(settings, ["reconcile_business_holding", "reconcile_review"])
    assert [(o.check, o.passed) for o in outcomes] == [
        ("reconcile_business_holding", True), ("reconcile_review", True),
    ], [o.observed for o in outcomes]  # fmt: skip
    from tests.support import pg_rows

    deleted = pg_rows(settings, "select count(*) from oltp_meta.deleted_rows "
                                "where table_name in ('review', 'business_holding')")  # fmt: skip
    assert deleted[0][0] > 0  # the revised day did delete rows: the check had work to do
