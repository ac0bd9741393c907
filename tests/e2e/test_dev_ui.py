"""`gourmand dev` (make dev): the UI on 127.0.0.1 lists the extraction assets; SIGINT stops all."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def asset_keys(port: int) -> list[list[str]]:
    query = json.dumps({"query": "{ assetNodes { assetKey { path } } }"}).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=query, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        return [n["assetKey"]["path"] for n in json.load(resp)["data"]["assetNodes"]]


def test_dev_serves_the_assets_and_stops_on_sigint(tmp_path: Path):
    import psutil

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOURMAND_", "DAGSTER_"))}
    env["GOURMAND_HOME"] = str(tmp_path / "home")
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("gourmand")), "dev", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        # like a shell script: SIGINT ignored on entry, which `gourmand dev` must undo
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    try:
        keys: list[list[str]] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not keys:
            try:
                keys = asset_keys(port)
            except OSError:
                time.sleep(1)
        assert ["raw_yelp", "businesses"] in keys and ["raw_states", "state_abbreviations"] in keys
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        gone, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, [p.cmdline() for p in alive]
    finally:
        if proc.poll() is None:
            proc.kill()
