"""The home's sandbox as a background process, started on demand like the embedded Postgres.

Sources in sandbox mode ask `sandbox_url()`: if the home's sandbox answers its health check it is
reused, otherwise one is started (detached, port chosen by the OS, address written to
`<home>/sandbox.json`) under a file lock so that parallel Dagster steps start only one.

Its users are counted per home, so the last one stops it: every process that asks for the
sandbox holds a shared flock on `<home>/sandbox.users` until it says it is done
(`release_sandbox`, which each `gourmand` command calls at its end) or dies. The kernel drops a
dead process's lock, so a command killed with kill -9 never counts as a user: the sandbox it
left is found with no live user and stopped by the next command. Only a sandbox started on
demand is stopped this way (`<home>/sandbox.on-demand` holds its pid); one started with
`gourmand sandbox --detach`, or in the foreground, is the user's to stop.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO

from extract.settings import Settings, child_environment


def _healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_sandbox/health", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _read_state(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def running_sandbox(settings: Settings) -> dict | None:
    """The state of the home's sandbox if it is up and answering."""
    state = _read_state(settings.sandbox_state_file)
    if state and _healthy(state["url"]):
        return state
    return None


# This process's hold on each home's users file: (the pid that took it, the open file). A forked
# child inherits the entry but not the right to drop the lock: the pid tells them apart.
_users: dict[Path, tuple[int, IO[str]]] = {}
_users_guard = threading.Lock()  # steps may ask for the sandbox from several threads
# The sandboxes this process started, so that stopping one also reaps it (no zombie left).
_children: dict[int, subprocess.Popen[bytes]] = {}


def _users_file(settings: Settings) -> Path:
    return settings.home / "sandbox.users"


def _on_demand_file(settings: Settings) -> Path:
    return settings.home / "sandbox.on-demand"


def _count_as_user(settings: Settings) -> None:
    """Count this process as a user of the home's sandbox until `release_sandbox` or its end."""
    path = _users_file(settings)
    with _users_guard:
        held = _users.get(path)
        if held and held[0] == os.getpid():
            return
        users = path.open("a")
        # waits while the last user of a moment ago is stopping the sandbox, so this process
        # never gets the address of one being stopped
        fcntl.flock(users, fcntl.LOCK_SH)
        _users[path] = (os.getpid(), users)


def start_sandbox(settings: Settings, timeout: float = 20.0, *, keep: bool = False) -> dict:
    """Start the home's sandbox in the background unless it is already up; return its state.
    The caller counts as its user until `release_sandbox` or its end; with `keep` (`gourmand
    sandbox --detach`) the sandbox is the user's to stop, not the last user's."""
    settings.home.mkdir(parents=True, exist_ok=True)
    if not keep:
        # before the start lock: every process takes the two in this order (no deadlock)
        _count_as_user(settings)
    lock_path = settings.home / "sandbox.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = running_sandbox(settings)
        if state:
            if keep:
                _on_demand_file(settings).unlink(missing_ok=True)
            return state
        settings.sandbox_state_file.unlink(missing_ok=True)
        log = (settings.home / "sandbox.log").open("ab")
        cmd = [
            sys.executable, "-m", "extract.sandbox",
            "--port", "0",
            "--state-file", str(settings.sandbox_state_file),
            *settings.sandbox_args,
        ]  # fmt: skip
        child = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives the step that started it; `gourmand sandbox --stop`
            env=child_environment(settings),
            cwd=settings.project_root,
        )
        _children[child.pid] = child
        if keep:
            _on_demand_file(settings).unlink(missing_ok=True)
        else:
            # at once, so that a starter killed from here on leaves a sandbox known as its own
            _on_demand_file(settings).write_text(str(child.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = running_sandbox(settings)
            if state:
                return state
            time.sleep(0.05)
        raise RuntimeError(
            f"the sandbox did not start within {timeout:.0f}s; see {settings.home / 'sandbox.log'}"
        )


def release_sandbox(settings: Settings) -> int | None:
    """This process no longer uses the home's sandbox. When no live process does, a sandbox
    started on demand (by this process, or by one that died without stopping it) is stopped and
    its pid returned; one started with `--detach` or in the foreground is left running."""
    with _users_guard:
        held = _users.pop(_users_file(settings), None)
        if held:
            pid, users = held
            if pid == os.getpid():
                fcntl.flock(users, fcntl.LOCK_UN)
            users.close()  # in a forked child this leaves the parent's lock alone
    return stop_unused_sandbox(settings)


def stop_unused_sandbox(settings: Settings) -> int | None:
    """Stop the home's sandbox started on demand if no live process uses it (this one
    included); return its pid."""
    if not (settings.sandbox_state_file.exists() and _on_demand_file(settings).exists()):
        # none up, or not one started on demand (a starter killed before its sandbox wrote its
        # state leaves it to the next command); and a command refused at once writes nothing
        return None
    with _users_file(settings).open("a") as users:
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # a live user: the last of them stops it
        # held until the sandbox is gone: a new user waits for it (`_count_as_user`), then
        # starts a new one; the start lock too, for `--detach`, which does not count as a user
        with (settings.home / "sandbox.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return _stop_on_demand(settings)


def _stop_on_demand(settings: Settings) -> int | None:
    marker = _on_demand_file(settings)
    state = _read_state(settings.sandbox_state_file)
    try:
        on_demand = int(marker.read_text())
    except (OSError, ValueError):
        return None  # none started on demand, or the user's own
    # a marker naming no running sandbox stays: the sandbox of a starter killed mid-start may not
    # have written its state yet (the next command stops it), and the next start rewrites it
    if not state or state.get("pid") != on_demand:
        return None
    if not _healthy(state["url"]):
        return None  # not answering: the file may outlive its process, whose pid another took
    _terminate(on_demand)
    settings.sandbox_state_file.unlink(missing_ok=True)
    marker.unlink(missing_ok=True)
    return on_demand


def _terminate(pid: int, timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout`; returns once it is gone, so
    a sandbox started next never meets the old one."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        if _wait_exited(pid, timeout):
            break
    _children.pop(pid, None)


def _wait_exited(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not _exited(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)  # the sandbox exits within milliseconds of SIGTERM
    return True


def _exited(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is not None  # reaps our own child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        # exited, but its parent has not reaped it (PID 1 of a container may never do)
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def stop_sandbox(settings: Settings) -> bool:
    """Stop the home's background sandbox, however it was started; False when none was
    running."""
    state = _read_state(settings.sandbox_state_file)
    settings.sandbox_state_file.unlink(missing_ok=True)
    _on_demand_file(settings).unlink(missing_ok=True)
    if not state:
        return False
    try:
        os.kill(int(state["pid"]), signal.SIGTERM)
    except (ProcessLookupError, ValueError, KeyError):
        return False
    return True


def sandbox_url(settings: Settings) -> str:
    """Base URL of the home's sandbox, starting it when needed."""
    return str(start_sandbox(settings)["url"])
