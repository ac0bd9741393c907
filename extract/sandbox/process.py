"""The home's sandbox as a background process, started on demand like the embedded Postgres.

Sources in sandbox mode ask `sandbox_url()`: if the home's sandbox answers its health check it is
reused, otherwise one is started (detached, port chosen by the OS, address written to
`<home>/sandbox.json`) under a file lock so that parallel Dagster steps start only one.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from extract.settings import Settings, child_environment, get_settings


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


def running_sandbox(settings: Settings | None = None) -> dict | None:
    """The state of the home's sandbox if it is up and answering."""
    settings = settings or get_settings()
    state = _read_state(settings.sandbox_state_file)
    if state and _healthy(state["url"]):
        return state
    return None


def start_sandbox(settings: Settings | None = None, timeout: float = 20.0) -> dict:
    """Start the home's sandbox in the background unless it is already up; return its state."""
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    lock_path = settings.home / "sandbox.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = running_sandbox(settings)
        if state:
            return state
        settings.sandbox_state_file.unlink(missing_ok=True)
        log = (settings.home / "sandbox.log").open("ab")
        cmd = [
            sys.executable, "-m", "extract.sandbox",
            "--port", "0",
            "--state-file", str(settings.sandbox_state_file),
            *settings.sandbox_args,
        ]  # fmt: skip
        subprocess.Popen(
            cmd,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives the step that started it; `gourmand sandbox --stop`
            env=child_environment(settings),
            cwd=settings.project_root,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = running_sandbox(settings)
            if state:
                return state
            time.sleep(0.05)
        raise RuntimeError(
            f"the sandbox did not start within {timeout:.0f}s; see {settings.home / 'sandbox.log'}"
        )


def stop_sandbox(settings: Settings | None = None) -> bool:
    """Stop the home's background sandbox; False when none was running."""
    settings = settings or get_settings()
    state = _read_state(settings.sandbox_state_file)
    settings.sandbox_state_file.unlink(missing_ok=True)
    if not state:
        return False
    try:
        os.kill(int(state["pid"]), signal.SIGTERM)
    except (ProcessLookupError, ValueError, KeyError):
        return False
    return True


def sandbox_url(settings: Settings | None = None) -> str:
    """Base URL of the home's sandbox, starting it when needed."""
    return str(start_sandbox(settings)["url"])
