"""The soak driver's own logic (bench/soak.py): its plan, its checksums, what it reads from a
run's output. The soak itself runs by `make soak`, not here."""

from __future__ import annotations

import random
import time

from bench.soak import (
    ABSENT,
    DAYS,
    MAX_KILL_STREAK,
    PARTITIONS,
    YEARS,
    Figures,
    Op,
    Sources,
    Step,
    combined,
    differences,
    error_lines,
    explain,
    last_step,
    plan_step,
    reached,
    table_digest,
)


def _plan(seed: int, steps: int) -> list[Step]:
    """The plan when every kill lands and every other run succeeds, as the soak keeps its
    state: a killed run is pending until a run of it ends well."""
    rng = random.Random(seed)
    sources, streak = Sources(), 0
    pending: list[Op] = []
    plan: list[Step] = []
    for _ in range(steps):
        step = plan_step(rng, sources, pending, streak)
        plan.append(step)
        if step.change is not None:
            sources = step.change
        if step.kill is not None:
            killed = step.ops[step.kill[0]]
            pending = pending if killed in pending else [*pending, killed]
            streak += 1
        else:
            pending = [op for op in pending if op not in step.ops]
            streak = 0 if not pending else streak
    return plan


def test_the_same_seed_gives_the_same_plan_and_another_seed_another():
    assert _plan(7, 200) == _plan(7, 200)
    assert _plan(7, 200) != _plan(8, 200)


def test_the_plan_covers_every_kind_of_step_and_every_partition():
    plan = _plan(11, 400)
    assert {s.kind for s in plan} == {"run", "rerun", "kill", "overlap", "change", "refresh"}
    assert {op for s in plan for op in s.ops} >= set(PARTITIONS)
    assert any(s.kind == "overlap" and s.kill is not None for s in plan)
    assert all(len(s.ops) == (2 if s.kind == "overlap" else 1) for s in plan)
    assert all(0 < s.kill[1] <= 1 for s in plan if s.kill is not None)


def test_a_killed_run_is_run_again_next_and_killed_at_most_a_few_times_in_a_row():
    plan = _plan(3, 400)
    for before, after in zip(plan, plan[1:], strict=False):
        if before.kind != "overlap" and before.kill is not None:
            assert after.ops == before.ops
            assert after.kind in ("kill", "rerun")
    streak = longest = 0
    for step in plan:
        streak = streak + 1 if step.kind == "kill" else 0
        longest = max(longest, streak)
    assert 1 < longest <= MAX_KILL_STREAK


def test_a_change_of_the_source_reruns_a_partition_it_changed():
    sources, changes = Sources(), 0
    for step in _plan(5, 2000):
        if step.change is not None:
            assert step.ops[0] in sources.affected(step.change)
            sources, changes = step.change, changes + 1
    assert changes > 5
    first = Sources()
    revised = Sources(revised_day=DAYS[2])
    assert first.affected(revised) == {Op("day", DAYS[2])}
    assert revised.affected(Sources(revised_day=DAYS[0])) == {Op("day", DAYS[0]),
                                                              Op("day", DAYS[2])}  # fmt: skip
    assert first.affected(Sources(socrata_changed=True)) == {Op("year", y) for y in YEARS}
    assert first.affected(first) == set()


def test_the_311_portal_never_goes_back_to_its_earlier_state():
    changed = Sources(socrata_changed=True)
    rng = random.Random(1)
    for _ in range(200):
        step = plan_step(rng, changed, [], 0)
        assert step.change is None or step.change.socrata_changed


def test_a_digest_ignores_row_order_and_processing_time_but_not_data():
    columns = ["id", "name", "last_edited_at", "_dlt_load_id", "rating"]
    rows = [(1, "a", "2024-01-01", "x", 4.5), (2, "b", "2024-01-02", "y", 3.0)]
    same = [(2, "b", "2025-06-01", "z", 3.0), (1, "a", "2025-06-01", "w", 4.5)]
    assert table_digest(columns, rows) == table_digest(columns, same)
    # a float summed in another order, equal to 12 digits
    assert table_digest(columns, rows) == table_digest(
        columns, [(1, "a", "", "", 4.5 + 1e-15), (2, "b", "", "", 3.0)]
    )
    assert table_digest(columns, rows) != table_digest(columns, [*rows, rows[0]])
    assert table_digest(columns, rows) != table_digest(
        columns, [(1, "a", "", "", 4.0), (2, "b", "", "", 3.0)]
    )
    assert table_digest(columns, []) != table_digest(["id"], [])


def test_differences_name_each_table_that_differs_or_is_missing():
    soak = {"oltp.business": "aaa", "oltp.review": "bbb", "dwh.extra": "ccc"}
    reference = {"oltp.business": "aaa", "oltp.review": "ddd", "marts.gone": "eee"}
    assert differences(soak, reference) == [
        ("dwh.extra", "ccc", ABSENT),
        ("marts.gone", ABSENT, "eee"),
        ("oltp.review", "bbb", "ddd"),
    ]
    assert differences(soak, dict(soak)) == []


def test_the_step_a_run_was_in_and_why_it_failed_come_from_its_output():
    log = (
        "2026-12-06 19:56:05 +0000 - dagster - INFO - gourmand_materialize - "
        "f30186a0-5c8d-4cf1-ab2d-fce6ebc6afa3 - raw_census - census 2019: extracting\n"
        "2026-12-06 19:56:17 +0000 - dagster - ERROR - gourmand_materialize - "
        "f30186a0-5c8d-4cf1-ab2d-fce6ebc6afa3 - 7797 - dbt_oltp - STEP_FAILURE - Execution\n"
        "KeyError: 'model.gourmand_oltp.int_la311__fold_scope'\n"
        "KeyError: 'model.gourmand_oltp.int_la311__fold_scope'\n"
        "run f30186a0-5c8d-4cf1-ab2d-fce6ebc6afa3: FAILED; 11 assets materialized\n"
        "  check failed: oltp/service_request reconcile_keys\n"
    )
    assert last_step(log) == "dbt_oltp"
    assert last_step("STEP dbt_oltp\nSTEP lake_export\n") == "lake_export"
    assert last_step("") == ""
    assert error_lines(log) == [
        "KeyError: 'model.gourmand_oltp.int_la311__fold_scope'",
        "run f30186a0-5c8d-4cf1-ab2d-fce6ebc6afa3: FAILED; 11 assets materialized",
        "check failed: oltp/service_request reconcile_keys",
    ]


def test_explain_names_the_columns_and_rows_that_differ():
    columns = ["id", "closed", "last_edited_at"]
    soak = (columns, [(1, None, "t1"), (2, "2024-01-02", "t1"), (3, None, "t1")])
    reference = (columns, [(1, None, "t2"), (2, None, "t2"), (3, None, "t2")])
    lines = explain(soak, reference)
    assert lines[0] == "3 rows in the soak home, 3 in the reference; columns that differ: closed"
    assert lines[1].startswith("1 rows only in the soak home, 1 only in the reference")
    assert lines[2:] == ["soak only: (2, '2024-01-02')", "reference only: (2, None)"]
    assert explain((["id"], []), (["key"], []))[0].startswith("other columns")


def test_a_goal_ends_the_soak_only_when_every_figure_and_the_least_minutes_are_reached():
    started = time.monotonic()
    figures = Figures(kills=200, overlaps=49)
    assert not reached(figures, started, 200, 50, 0)
    figures.overlaps = 50
    assert reached(figures, started, 200, 50, 0)
    assert not reached(figures, started, 200, 50, 60)
    assert reached(figures, started - 3600, 200, 50, 60)
    # no goal given: only SOAK_MINUTES ends it
    assert not reached(figures, started - 3600, 0, 0, 0)


def test_lanes_count_as_one_soak():
    one = Figures(kills=120, overlaps=20, mismatches=0, found={"failure: x": ["day 1"]})
    two = Figures(kills=90, overlaps=31, hangs=1, found={"failure: x": ["year 2023"], "y": ["z"]})
    total = combined([one, two])
    assert (total.kills, total.overlaps, total.hangs) == (210, 51, 1)
    assert total.found == {"failure: x": ["day 1", "year 2023"], "y": ["z"]}
    assert reached(total, time.monotonic(), 200, 50, 0)
    assert not reached(one, time.monotonic(), 200, 50, 0)
