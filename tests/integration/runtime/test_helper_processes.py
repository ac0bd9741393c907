"""Commands leave the helper processes as they found them: a sandbox a command started is stopped
when it ends, an embedded Postgres it started is left running with a line that says how to stop
it, and helpers that were already up are left alone (issue 16)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

GOURMAND = str(Path(sys.executable).with_name("gourmand"))


def gourmand(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([GOURMAND, *args], env=env, capture_output=True, text=True, timeout=300)


def home_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOURMAND_", "DAGSTER_"))}
    env.update({"GOURMAND_HOME": str(tmp_path / "home"), **extra})
    return env


def test_a_command_stops_the_sandbox_it_started_and_keeps_one_it_found(
    tmp_path: Path, fresh_dsn: str
):
    env = home_env(tmp_path, GOURMAND_OLTP_DSN=fresh_dsn)
    try:
        first = gourmand(env, "extract", "states", "--no-lake")
        assert first.returncode == 0, first.stderr
        assert (tmp_path / "home" / "sandbox.log").exists(), "the extraction started a sandbox"
        assert gourmand(env, "sandbox", "--status").returncode == 1, "and it was stopped"

        started = gourmand(env, "sandbox", "--detach")
        assert started.returncode == 0, started.stderr
        second = gourmand(env, "extract", "states", "--no-lake")
        assert second.returncode == 0, second.stderr
        status = gourmand(env, "sandbox", "--status")
        assert status.returncode == 0 and status.stdout.strip() == started.stdout.strip()
    finally:
        gourmand(env, "sandbox", "--stop")


@pytest.mark.skipif(bool(os.environ.get("GOURMAND_TEST_PG_DSN")), reason="uses the embedded one")
def test_a_command_that_started_the_embedded_postgres_says_so(tmp_path: Path):
    env = home_env(tmp_path)
    try:
        first = gourmand(env, "sql", "--format", "csv", "select 1 as one")
        assert first.returncode == 0, first.stderr
        assert first.stdout == "one\n1\n", "the notice goes to stderr, not into the result"
        assert "left running" in first.stderr
        assert "gourmand postgres --stop" in first.stderr

        second = gourmand(env, "sql", "--format", "csv", "select 2 as two")
        assert second.returncode == 0, second.stderr
        assert "left running" not in second.stderr, "it was already running"
    finally:
        stopped = gourmand(env, "postgres", "--stop")
    assert stopped.stdout.strip() == "stopped"
