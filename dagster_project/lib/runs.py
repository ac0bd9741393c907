"""Runs whose process is gone: recognised as dead, failed, and their pool slots freed.

A run killed with `kill -9` (or whose machine went away) never reports its end: Dagster keeps it
STARTED, and keeps the pool slots its steps claimed, so the next run that needs the pool waits
for ever. Every run's processes are in its event log (the executors' engine events carry a
`pid`: "Executing steps in process (pid: N)", the run worker's and each step process's), so a run
none of whose processes is alive any more — gone, or its pid now taken by a newer process — is
dead. `gourmand materialize` reaps before it runs, and a sensor does in `make dev`.

Dagster's own run monitoring cannot tell here: the default run launcher does not support
run-worker health checks, and an in-process run (`gourmand materialize`) has no launcher.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# A process that started this much after the run reported it is another process that took the
# pid over. Wide on purpose: judging a live run dead gives its slot to a second writer, judging a
# dead one alive only delays the waiter until the next check. The comparison is in seconds since
# boot (the kernel's clock for process start), with the wall-clock report converted at the current
# offset, because psutil's wall-clock create_time rides on /proc/stat's whole-second btime and
# shifts with every clock adjustment: a 2 s slack once judged a live holder dead mid-suite.
PID_REUSE_SLACK_SECONDS = 60.0
# how often a step blocked on a pool checks whether the slot's holders still live
HOLDER_CHECK_SECONDS = 5.0


@dataclass(frozen=True)
class Holder:
    """A run holding (or waiting for) a slot of a pool."""

    run_id: str
    step_key: str
    pids: tuple[int, ...]
    alive: bool


def run_processes(instance: Any, run_id: str) -> list[tuple[int, float]]:
    """(pid, when it was reported) of every process the run's engine events name."""
    from dagster import DagsterEventType

    found = []
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        data = record.dagster_event.event_specific_data if record.dagster_event else None
        metadata = getattr(data, "metadata", None) or {}
        pid = metadata.get("pid")
        if pid is not None:
            try:
                found.append((int(getattr(pid, "value", pid)), record.timestamp))
            except (TypeError, ValueError):
                continue
    return found


def _started_since_boot(pid: int) -> float | None:
    """When `pid` started, in seconds since boot (field 22 of /proc/PID/stat), or None if it is
    gone; None too off Linux, where the check falls back to psutil's wall-clock start."""
    import os
    from pathlib import Path

    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[19]) / os.sysconf("SC_CLK_TCK")


def process_alive(pid: int, reported_at: float) -> bool:
    """Whether the process `pid` that was reported (wall clock) at `reported_at` still runs."""
    import sys
    import time

    import psutil

    try:
        process = psutil.Process(pid)
        status = process.status()
        if sys.platform.startswith("linux"):
            started = _started_since_boot(pid)
            if started is None:
                return False
            reported = reported_at - (time.time() - time.clock_gettime(time.CLOCK_BOOTTIME))
        else:
            started, reported = process.create_time(), reported_at
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    if status == psutil.STATUS_ZOMBIE:
        return False
    return started <= reported + PID_REUSE_SLACK_SECONDS


def run_alive(instance: Any, run_id: str) -> tuple[bool, tuple[int, ...]]:
    """(alive, pids): a run is alive while any of its processes is; a run that has not reported
    a process yet counts as alive (it is starting)."""
    processes = run_processes(instance, run_id)
    pids = tuple(sorted({pid for pid, _ in processes}))
    if not processes:
        return True, pids
    return any(process_alive(pid, at) for pid, at in processes), pids


def run_unfinished(instance: Any, run_id: str) -> bool:
    """Whether run `run_id` may still do work: known to the instance, not finished, and alive
    (a run killed with `kill -9` stays STARTED in the instance until it is reaped)."""
    run = instance.get_run_by_id(run_id)
    if run is None or run.is_finished:
        return False
    return run_alive(instance, run_id)[0]


def unfinished_runs(instance: Any) -> Iterable[Any]:
    """The runs not finished yet (started, starting or being canceled)."""
    from dagster import DagsterRunStatus, RunsFilter

    statuses = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.CANCELING]
    return instance.get_runs(filters=RunsFilter(statuses=statuses))


def reap_dead_runs(instance: Any) -> list[tuple[str, tuple[int, ...]]]:
    """Fail every unfinished run whose processes are all gone, and free its pool slots; returns
    (run id, its pids) of each."""
    reaped = []
    for run in unfinished_runs(instance):
        alive, pids = run_alive(instance, run.run_id)
        if alive:
            continue
        listed = ", ".join(str(p) for p in pids)
        instance.report_run_failed(
            run,
            f"The run's process (pid {listed}) is gone: it was killed or its machine stopped. "
            "Marked failed and its pool slots freed; re-run the same selection to finish the "
            "work (every step is idempotent).",
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        reaped.append((run.run_id, pids))
    # slots claimed by a run that already ended (a crash between its end and the release)
    for pool in instance.event_log_storage.get_concurrency_keys():
        for holder in pool_holders(instance, pool):
            run = instance.get_run_by_id(holder.run_id)
            if run is None or run.is_finished:
                instance.event_log_storage.free_concurrency_slots_for_run(holder.run_id)
    return reaped


def pool_holders(instance: Any, pool: str) -> list[Holder]:
    """The runs holding a slot of `pool` now."""
    info = instance.event_log_storage.get_concurrency_info(pool)
    holders = []
    for slot in info.claimed_slots:
        alive, pids = run_alive(instance, slot.run_id)
        holders.append(Holder(slot.run_id, slot.step_key, pids, alive))
    return holders


def describe_wait(pool: str, holders: list[Holder]) -> str:
    """What a run waiting for `pool` waits for, and how to free it."""
    who = "; ".join(
        f"run {h.run_id} (step {h.step_key}, pid {', '.join(map(str, h.pids)) or '?'})"
        for h in holders
    )
    return (
        f"waiting for the {pool} slot, held by {who}. It frees when that run ends; to stop it, "
        f"terminate the run in the Dagster UI (make dev) or kill its process. A run whose "
        f"process is gone is failed and its slot freed automatically."
    )


def _reap_holders(instance: Any, pool: str) -> list[Holder]:
    """Free the slots of `pool` held by dead runs (failing those runs); return the live holders."""
    live = []
    for holder in pool_holders(instance, pool):
        if holder.alive:
            live.append(holder)
            continue
        logging.getLogger("gourmand.runs").warning(
            "run %s holds the %s slot but none of its processes (pid %s) runs: freeing it",
            holder.run_id, pool, ", ".join(map(str, holder.pids)),
        )  # fmt: skip
        run = instance.get_run_by_id(holder.run_id)
        if run is not None and not run.is_finished:
            instance.report_run_failed(
                run, f"The run's process (pid {holder.pids}) is gone; its {pool} slot was freed."
            )
        instance.event_log_storage.free_concurrency_slots_for_run(holder.run_id)
    return live
