"""Dagster as a deployment: dagster-webserver and dagster-daemon as separate processes on the
production instance (dagster_project/deploy/dagster.yaml: Postgres storage, the queued run
coordinator), the multiprocess executor. The sensor is turned on through the webserver's
GraphQL API as the UI does; the daemon ticks it, queues the run it asks for, launches it; the
run succeeds; both processes stop cleanly on SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support import HR_SEED, ROOT, free_port, new_database, reader_dsn

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

BIN = Path(sys.executable).parent
SELECTOR = {
    "repositoryLocationName": "gourmand",
    "repositoryName": "__repository__",
    "sensorName": "hr_drop_sensor",
}
START_SENSOR = """
mutation($selector: SensorSelector!) {
  startSensor(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { status } }
    ... on PythonError { message }
  }
}"""
RUNS = """
query {
  runsOrError(filter: {pipelineName: "hr"}) {
    ... on Runs { results { runId status tags { key value } } }
  }
}"""


def _graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{url}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.loads(response.read())
    assert "errors" not in payload, payload
    return payload["data"]


def _wait_for(what: str, probe: Any, timeout: float, processes: list[Any]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            assert process.poll() is None, f"{process.args[0]} exited while waiting for {what}"
        try:
            found = probe()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def test_daemon_and_webserver_run_a_sensor_launched_run(base_dsn, tmp_path, monkeypatch):
    with new_database(base_dsn) as oltp_dsn, new_database(base_dsn) as dagster_dsn:
        dagster_home = tmp_path / "dagster"
        dagster_home.mkdir()
        shutil.copy(ROOT / "dagster_project" / "deploy" / "dagster.yaml", dagster_home)
        drops = tmp_path / "drops"
        drops.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GOURMAND_", "DAGSTER"))}
        env.update({
            "GOURMAND_HOME": str(tmp_path / "home"),
            "GOURMAND_OLTP_DSN": oltp_dsn,
            "GOURMAND_READER_DSN": reader_dsn(oltp_dsn),
            "GOURMAND_HR_DROP_DIR": str(drops),
            "GOURMAND_DAGSTER_EXECUTOR": "multiprocess",
            "GOURMAND_DAGSTER_PG_URL": dagster_dsn.replace(
                "postgresql://", "postgresql+psycopg2://", 1
            ),
            "DAGSTER_HOME": str(dagster_home),
        })  # fmt: skip
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("daemon", "webserver")}
        workspace = ["-w", str(ROOT / "workspace.yaml")]
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", *workspace],
            cwd=ROOT, env=env, stdout=logs["daemon"], stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        webserver = subprocess.Popen(
            [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), *workspace],
            cwd=ROOT, env=env, stdout=logs["webserver"], stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        processes = [daemon, webserver]
        try:
            _wait_for(
                "the webserver",
                lambda: urllib.request.urlopen(f"{url}/server_info", timeout=5).status == 200,
                180,
                processes,
            )
            for name in ("departments.csv", "jobs.csv", "employees.csv"):
                shutil.copy(HR_SEED / name, drops / name)
            started = _graphql(url, START_SENSOR, {"selector": SELECTOR})["startSensor"]
            assert started["__typename"] == "Sensor", started
            assert started["sensorState"]["status"] == "RUNNING"

            def finished() -> dict[str, Any] | None:
                runs = _graphql(url, RUNS)["runsOrError"]["results"]
                done = [r for r in runs if r["status"] in ("SUCCESS", "FAILURE", "CANCELED")]
                return done[0] if done else None

            run = _wait_for("the sensor's run to finish", finished, 600, processes)
            assert run["status"] == "SUCCESS", (tmp_path / "daemon.log").read_text()[-5000:]
            tags = {t["key"]: t["value"] for t in run["tags"]}
            assert tags["dagster/sensor_name"] == "hr_drop_sensor"
            assert tags["gourmand/writes-warehouse"] == "true"  # the queue's limit applies
            # the run's steps ran in their own processes (the multiprocess executor)
            from dagster import DagsterInstance

            monkeypatch.setenv("GOURMAND_DAGSTER_PG_URL", env["GOURMAND_DAGSTER_PG_URL"])
            instance = DagsterInstance.from_config(str(dagster_home))
            try:
                records = instance.all_logs(run["runId"])
                kinds = {r.dagster_event.event_type_value for r in records if r.dagster_event}
                assert "STEP_WORKER_STARTED" in kinds, sorted(kinds)
            finally:
                instance.dispose()
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            codes = [process.wait(timeout=60) for process in processes]
            for process in processes:
                # a code server the daemon started can outlive it, ignoring SIGTERM (seen with
                # Dagster 1.13): a supervisor stops the whole process group, and so does this
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            for log in logs.values():
                log.close()
        assert codes == [0, 0], {
            name: (tmp_path / f"{name}.log").read_text()[-3000:] for name in logs
        }
