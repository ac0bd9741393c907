"""Runs that overlap, as a team starts them: two first runs on a fresh home, then on the home
with data a new day's run, a re-run of a day it has (a backfill) and a lake export, all at once.
Every command succeeds (no run fails a check because another was mid-way) and the home ends
equal, table for table, to a home that ran the same days one run after the other.

Before: two first runs at once broke the home for good (`relation "raw_census._loads" does not
exist`, dlt's `FileNotFoundError` in a pipeline folder both used), and a run's reconciliation
failed while the other run was between its extraction and its fold."""

from __future__ import annotations

import subprocess
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.support import GOURMAND, chain_checksums, home_env, new_database, settings_for

# whole Dagster runs, several of them waiting on one another
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]

DAY1 = date(2024, 1, 1)
DAYS = [(DAY1 + timedelta(days=i)).isoformat() for i in range(3)]


def _start(env, *args: str) -> subprocess.Popen:
    # output to a file, not a pipe: a run that fills a pipe nobody reads yet blocks on its
    # write and holds the runs lock that the run being read waits for
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (read after the process ends)
    proc = subprocess.Popen([GOURMAND, *args], env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.log = log  # type: ignore[attr-defined]
    return proc


def _finish(*procs: subprocess.Popen) -> list[str]:
    outputs = []
    for proc in procs:
        proc.wait(timeout=900)
        proc.log.seek(0)  # type: ignore[attr-defined]
        out = proc.log.read()  # type: ignore[attr-defined]
        assert proc.returncode == 0, f"{proc.args} exited {proc.returncode}:\n{out[-4000:]}"
        outputs.append(out)
    return outputs


def _settings(env):
    """The settings the commands ran with (their home, database and warehouse)."""
    overrides = {k: v for k, v in env.items() if k.startswith("GOURMAND_")}
    return settings_for(Path(env["GOURMAND_HOME"]), env["GOURMAND_OLTP_DSN"], **overrides)


def test_overlapping_runs_end_as_if_one_ran_after_the_other(base_dsn, tmp_path):
    with new_database(base_dsn) as dsn_a, new_database(base_dsn) as dsn_b:
        overlapped = home_env(tmp_path / "overlapped", dsn_a)
        sequential = home_env(tmp_path / "sequential", dsn_b)
        try:
            # two first runs on a fresh home, started together
            first = _start(overlapped, "materialize", "--partition", DAYS[0])
            second = _start(overlapped, "materialize", "--partition", DAYS[1])
            outputs = _finish(first, second)
            assert any("waiting for" in out for out in outputs)  # one said what it waited for
            # on a home with data: a new day, a re-run of one it has and an export, at once
            third = _start(overlapped, "materialize", "--partition", DAYS[2])
            again = _start(overlapped, "materialize", "--partition", DAYS[1])
            export = _start(overlapped, "lake-export")
            _finish(third, again, export)

            # the same days one after the other (as one range run: the replay test shows a
            # range equals its days run one by one)
            _finish(_start(sequential, "materialize", "--partition", f"{DAYS[0]}...{DAYS[-1]}"))
        finally:
            for env in (overlapped, sequential):
                subprocess.run([GOURMAND, "sandbox", "--stop"], env=env, capture_output=True)
        got = chain_checksums(_settings(overlapped))
        expected = chain_checksums(_settings(sequential))
        assert got == expected
