"""A run's process is judged by pid and start time: alive while it runs, dead once gone, and a
newer process that took the pid over is not the run's."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from dagster_project.lib.runs import PID_REUSE_SLACK_SECONDS, process_alive


def test_a_running_process_reported_at_its_start_is_alive() -> None:
    proc = subprocess.Popen(["sleep", "30"])
    try:
        assert process_alive(proc.pid, time.time())
        # a report a few seconds before the process's start (clock offsets, a slow fork) still
        # names it: only a start well after the report is another process
        assert process_alive(proc.pid, time.time() - 5)
    finally:
        proc.kill()
        proc.wait()


def test_a_process_that_started_long_after_the_report_took_the_pid_over() -> None:
    proc = subprocess.Popen(["sleep", "30"])
    try:
        assert not process_alive(proc.pid, time.time() - PID_REUSE_SLACK_SECONDS - 60)
    finally:
        proc.kill()
        proc.wait()


def test_a_gone_or_zombie_process_is_dead() -> None:
    proc = subprocess.Popen(["true"])
    deadline = time.time() + 10
    while time.time() < deadline:  # exited, not yet reaped: a zombie
        if Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            break
        time.sleep(0.05)
    assert not process_alive(proc.pid, time.time())
    proc.wait()
    assert not process_alive(proc.pid, time.time())
