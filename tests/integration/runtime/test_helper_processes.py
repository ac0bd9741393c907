"""Commands leave the helper processes as they found them: a sandbox a command started is stopped
when it ends, an embedded Postgres it started is left running with a line that says how to stop
it, and helpers that were already up are left alone (issue 16). The sandbox is counted per home:
the last command using it stops it, and one a killed command left running is stopped by the next
command (issue 29)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import GOURMAND, ROOT

pytestmark = pytest.mark.integration


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


# A user of the home's sandbox, as a command is one (the same context manager and the same way
# to the sandbox as every `gourmand` command): a source asks for the sandbox, the process prints
# its address, and ends when told to.
USER = """
import sys
from extract.cli import leave_as_found
from extract.sandbox.process import sandbox_url
from extract.settings import get_settings
from extract.sources.endpoints import socrata_url, use_sandbox

use_sandbox(sandbox_url)
with leave_as_found(get_settings(), lambda msg: print(msg, file=sys.stderr)):
    print(socrata_url(get_settings()), flush=True)
    sys.stdin.readline()
"""


def start_user(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """A process using the home's sandbox (started on demand if none is up), and its address."""
    user = subprocess.Popen(
        [sys.executable, "-c", USER], env=env, cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert user.stdout is not None
    url = user.stdout.readline().strip()
    assert url.startswith("http://"), user.communicate(timeout=30)
    return user, url


def end_user(user: subprocess.Popen) -> None:
    _, err = user.communicate("done\n", timeout=30)
    assert user.returncode == 0, err


def running(pid: int) -> bool:
    """Whether the process runs (an exited one its parent has not reaped yet does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def sandbox_pid(home: Path) -> int:
    return int(json.loads((home / "sandbox.json").read_text())["pid"])


@pytest.fixture
def sandbox_home(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """A home whose sandbox is stopped after the test, whatever the test left."""
    env, home = home_env(tmp_path), tmp_path / "home"
    yield env, home
    left = sandbox_pid(home) if (home / "sandbox.json").exists() else None
    gourmand(env, "sandbox", "--stop")
    if left and running(left):
        os.kill(left, signal.SIGKILL)


def test_a_sandbox_a_killed_command_left_is_stopped_by_the_next_command(
    sandbox_home: tuple[dict[str, str], Path], fresh_dsn: str
):
    env, home = sandbox_home
    user, url = start_user(env)
    orphan = sandbox_pid(home)
    user.kill()  # kill -9: nothing of the command runs after this
    user.wait(timeout=30)
    assert running(orphan), "the killed command could not stop its sandbox"
    assert gourmand(env, "sandbox", "--status").stdout.strip() == url

    env = {**env, "GOURMAND_OLTP_DSN": fresh_dsn}
    try:
        after = gourmand(env, "extract", "states", "--no-lake")
        assert after.returncode == 0, after.stderr
        assert f"pid {orphan}" in after.stderr, "the next command says it stopped the orphan"
        assert not running(orphan)
        assert gourmand(env, "sandbox", "--status").returncode == 1, "and its own was stopped"
    finally:
        if running(orphan):
            os.kill(orphan, signal.SIGKILL)


def test_overlapping_users_keep_the_sandbox_until_the_last_one_ends(
    sandbox_home: tuple[dict[str, str], Path],
):
    env, home = sandbox_home
    first, url = start_user(env)
    pid = sandbox_pid(home)
    second, second_url = start_user(env)
    assert second_url == url, "the second user reuses the sandbox the first one started"

    end_user(first)  # the one that started it ends first
    assert running(pid)
    assert gourmand(env, "sandbox", "--status").stdout.strip() == url, "still answering"

    # a third user killed meanwhile does not count, and does not keep it either
    third, _ = start_user(env)
    third.kill()
    third.wait(timeout=30)
    assert running(pid)

    end_user(second)
    assert not running(pid), "the last user stopped it"
    assert not (home / "sandbox.json").exists()


def test_a_sandbox_started_with_detach_outlives_its_users_and_a_killed_one(
    sandbox_home: tuple[dict[str, str], Path],
):
    env, home = sandbox_home
    started = gourmand(env, "sandbox", "--detach")
    assert started.returncode == 0, started.stderr
    pid = sandbox_pid(home)
    killed, url = start_user(env)
    assert url == started.stdout.strip()
    killed.kill()
    killed.wait(timeout=30)
    user, _ = start_user(env)
    end_user(user)
    assert running(pid), "asked for explicitly: only `gourmand sandbox --stop` stops it"
    assert gourmand(env, "sandbox", "--stop").stdout.strip() == "stopped"
