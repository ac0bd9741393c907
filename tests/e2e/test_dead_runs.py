"""A run killed with kill -9 while it holds a pool slot (the OLTP model's): the next run is told
who it waits for, waits asleep, and takes the slot once the holder's process is gone; a run left
STARTED by a dead process is failed and its slots freed before the next `gourmand
materialize`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

POOL = "oltp_model"

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from dagster import DagsterInstance, job, op

    @op(pool="{pool}")
    def hold(context):
        Path(sys.argv[2]).write_text(context.run_id)
        time.sleep(300)

    @job
    def holder():
        hold()

    holder.execute_in_process(instance=DagsterInstance.from_config(sys.argv[1]))
    """
)


def _start_holder(dagster_home: Path, tmp: Path, name: str) -> tuple[subprocess.Popen, str]:
    script = tmp / "holder.py"
    script.write_text(HOLDER.format(pool=POOL))
    marker = tmp / f"{name}.claimed"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(dagster_home), str(marker)], start_new_session=True
    )
    deadline = time.time() + 60
    while not marker.exists():
        assert proc.poll() is None, "the holder exited before claiming the slot"
        assert time.time() < deadline, "the holder never claimed the slot"
        time.sleep(0.2)
    return proc, marker.read_text()


def _kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def _cpu_seconds(thread: threading.Thread) -> float:
    """CPU time of one thread (Linux /proc): the waiter's own, not the whole test process's,
    whose other threads (left by earlier tests in the suite) are not what is measured."""
    fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1]
    utime, stime = fields.split()[11:13]
    return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")


def test_a_killed_holder_frees_its_slot_and_the_waiting_run_sleeps(tmp_path, caplog):
    from dagster import DagsterRunStatus, job, op

    from dagster_project.lib.home import INSTANCE_CONFIG, instance_for
    from dagster_project.lib.materialize import prepare_instance
    from dagster_project.lib.runs import pool_holders
    from dagster_project.lib.upstream import patch_slot_wait
    from tests.support import settings_for

    patch_slot_wait()
    settings = settings_for(tmp_path / "home", "postgresql://unused@127.0.0.1:1/x")
    # The home's own configuration, without capturing the runs' stdout/stderr: in the full
    # suite (never alone) Dagster's capture cleanup in the waiting thread hung 30 s on its
    # `tail -F` after the step had finished (twice, seen through the stack dumped below); the
    # capture is not what this test is about.
    config = settings.dagster_home / "dagster.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        INSTANCE_CONFIG.format(generated="", runs=settings.dagster_home / "history" / "runs")
        + "compute_logs:\n  module: dagster._core.storage.noop_compute_log_manager\n"
        "  class: NoOpComputeLogManager\n"
    )
    instance = instance_for(settings)

    # 1. killed while holding the slot, before anyone waits: the next run's preparation fails
    #    it and frees the slot
    proc, first_run = _start_holder(settings.dagster_home, tmp_path, "first")
    assert [h.run_id for h in pool_holders(instance, POOL)] == [first_run]
    _kill(proc)
    said: list[str] = []
    prepare_instance(instance, said.append)
    assert any(first_run in line and "marked failed" in line for line in said), said
    assert instance.get_run_by_id(first_run).status == DagsterRunStatus.FAILURE
    assert pool_holders(instance, POOL) == []

    # 2. a live holder: the waiting run says who it waits for and sleeps (no spinning core);
    #    when the holder is killed, it takes the slot and finishes
    proc, second_run = _start_holder(settings.dagster_home, tmp_path, "second")
    said.clear()
    prepare_instance(instance, said.append)
    assert any(second_run in line and f"waiting for the {POOL} slot" in line
               for line in said), said  # fmt: skip

    @op(pool=POOL)
    def write():
        return "written"

    @job
    def waiter():
        write()

    outcome: dict[str, object] = {}

    def run_waiter() -> None:
        outcome["result"] = waiter.execute_in_process(instance=instance, raise_on_error=False)

    thread = threading.Thread(target=run_waiter)
    thread.start()
    time.sleep(3)  # the run starts (building the job costs CPU) and reaches the slot wait
    assert thread.is_alive(), "the waiter did not wait for the slot"
    cpu_before, wall_before = _cpu_seconds(thread), time.perf_counter()
    time.sleep(6)
    cpu, wall = _cpu_seconds(thread) - cpu_before, time.perf_counter() - wall_before
    assert thread.is_alive(), "the waiter did not wait for the slot"
    assert cpu < 0.35 * wall, f"waiting burned {cpu:.1f} s of CPU in {wall:.1f} s"
    assert any(second_run in r.getMessage() for r in caplog.records), "no word of the holder"
    _kill(proc)
    thread.join(timeout=60)
    assert not thread.is_alive(), "the waiter never finished after the holder died:\n" + "".join(
        traceback.format_stack(sys._current_frames()[thread.ident])
    )
    assert outcome["result"].success
    assert instance.get_run_by_id(second_run).status == DagsterRunStatus.FAILURE
    assert pool_holders(instance, POOL) == []
