"""Shared fixtures: one real Postgres for the session, a fresh database and home per test, and
sandbox servers with the knobs a test asks for."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    ROOT,
    ensure_test_reader,
    new_database,
    settings_for,
    without_durability,
)

SESSION_HOME_ENV = "GOURMAND_HOME"


def pytest_configure(config: pytest.Config) -> None:
    """Temporary folders inside the checkout: pytest's shared /tmp/pytest-of-<user> keeps only
    the newest three sessions, so a concurrent session elsewhere (another checkout, a CI job on
    the same runner) would delete this one's embedded Postgres data directory mid-run."""
    if not config.option.basetemp:
        config.option.basetemp = str(Path(__file__).resolve().parents[1] / ".pytest-tmp")
    # every run of the session, in this process or a command it starts: a retried extraction
    # step waits half a second, not the production 30 s (a setting like any other, read when
    # the definitions are built for a run's settings)
    os.environ.setdefault("GOURMAND_STEP_RETRY_DELAY", "0.5")
    # the tests run dbt and Dagster in this process too: the collector as the product's
    # processes have it (extract/runtime/collector.py)
    from extract.runtime.collector import tune_collector

    tune_collector()


# The slowest files first, by their measured seconds in a 2-worker `make test` (the file's
# first test's start to its last's end, in one full run): `make test` hands whole files to two
# workers (--dist loadfile, --no-loadscope-reorder), in this order. xdist's own order, by how
# many tests a file holds, put the slowest files (one test each) last, and one worker ran them
# alone for the last ~4.5 minutes of the suite. Every file over ~10 s is listed, so that the
# suite ends on short ones and the two workers end within seconds of each other.
SLOWEST_FILES = (
    "e2e/test_overlapping_runs.py",  # ~198 s
    "integration/dbt/test_dbt_dwh.py",  # ~167 s
    "e2e/test_demo_command.py",  # ~143 s
    "integration/warehouse/test_bigquery.py",  # ~109 s
    "e2e/test_deployment.py",  # ~99 s
    "integration/serve/test_read_api.py",  # ~92 s
    "e2e/test_daily_job.py",  # ~92 s
    "e2e/test_replay.py",  # ~90 s
    "e2e/test_dev_ui.py",  # ~83 s
    "e2e/test_bigquery_demo.py",  # ~82 s
    "e2e/test_quality.py",  # ~68 s
    "integration/dbt/test_socrata_replay.py",  # ~55 s
    "integration/dbt/test_reference_data_replay.py",  # ~45 s
    "integration/sources/test_extract_load.py",  # ~43 s
    "integration/dbt/test_socrata_chain.py",  # ~36 s
    "integration/dbt/test_dbt_oltp.py",  # ~35 s
    "e2e/test_dagster_extract.py",  # ~29 s
    "integration/dbt/test_dwh_bigquery_sql.py",  # ~29 s
    "e2e/test_dead_runs.py",  # ~21 s
    "integration/serve/test_hr_api.py",  # ~19 s
    "integration/sources/hr/test_hr_export_order.py",  # ~19 s
    "e2e/test_hr_chain.py",  # ~16 s
    "e2e/test_retries.py",  # ~16 s
    "integration/sources/socrata/test_socrata.py",  # ~16 s
    "integration/runtime/test_helper_processes.py",  # ~13 s
    "unit/test_import_time.py",  # ~12 s
    "e2e/test_alerts.py",  # ~11 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest files first (SLOWEST_FILES), the rest after in collection order; a file's
    own tests keep their order (a stable sort)."""
    rank = {name: i for i, name in enumerate(SLOWEST_FILES)}
    tests = ROOT / "tests"

    def key(item: pytest.Item) -> int:
        path = item.path
        name = path.relative_to(tests).as_posix() if path.is_relative_to(tests) else ""
        return rank.get(name, len(rank))

    items.sort(key=key)


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home for the whole session (embedded Postgres lives here), separate from the demo's."""
    home = tmp_path_factory.mktemp("gourmand-home")
    return home


@pytest.fixture(scope="session")
def base_dsn(session_home: Path) -> Iterator[str]:
    """A superuser DSN to a real Postgres: GOURMAND_TEST_PG_DSN, or the embedded pgserver."""
    external = os.environ.get("GOURMAND_TEST_PG_DSN")
    if external:
        ensure_test_reader(external)
        yield external
        return
    from extract.runtime.postgres import connection_info, stop_embedded
    from extract.settings import load_settings

    settings = load_settings({"GOURMAND_HOME": str(session_home), "PATH": os.environ["PATH"]})
    dsn = connection_info(settings).dsn
    ensure_test_reader(dsn)
    without_durability(dsn)
    yield dsn
    stop_embedded(settings)


@pytest.fixture
def fresh_dsn(base_dsn: str) -> Iterator[str]:
    """A new, empty database on the session's server, dropped afterwards."""
    with new_database(base_dsn) as dsn:
        yield dsn


@pytest.fixture
def make_settings(tmp_path: Path, fresh_dsn: str) -> Callable[..., Any]:
    """Settings for one test: its own home and database; keyword overrides are env variables."""

    def build(server: Any = None, **env: str) -> Any:
        return settings_for(tmp_path / "home", fresh_dsn, server, **env)

    return build


@pytest.fixture
def sandbox() -> Iterator[Callable[..., Any]]:
    """Start sandbox servers in this process with the given knobs; stopped after the test."""
    from extract.sandbox import SandboxConfig, SandboxServer

    servers: list[Any] = []

    def start(**knobs: Any) -> Any:
        server = SandboxServer(SandboxConfig(**knobs)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox_settings(make_settings: Callable[..., Any], sandbox: Callable[..., Any]):
    """Settings whose three sources point at a fresh sandbox started with `knobs`."""

    def build(env: dict[str, str] | None = None, **knobs: Any) -> tuple[Any, Any]:
        server = sandbox(**knobs)
        return make_settings(server, **(env or {})), server

    return build


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A local S3 (moto server) on 127.0.0.1 for the session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def bq_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local BigQuery API (bqemulator, from `make bq-emulator`) on 127.0.0.1 for the session;
    a test takes a project of its own (`bq_settings`). Missing, it fails: never skipped."""
    from extract.runtime.collector import THRESHOLDS
    from extract.sandbox.bigquery import BigQueryEmulator

    emulator = BigQueryEmulator(
        ROOT, tmp_path_factory.mktemp("bqemulator"), gc_thresholds=THRESHOLDS
    ).start()
    yield emulator
    emulator.stop()


def bq_environment(emulator: Any) -> dict[str, str]:
    """Settings of a warehouse on the emulator, in a project no other test uses."""
    return {
        "GOURMAND_WAREHOUSE": "bigquery",
        "GOURMAND_BQ_ENDPOINT": emulator.url,
        "GOURMAND_BQ_PROJECT": f"gourmand-{uuid.uuid4().hex[:12]}",
    }


@dataclass
class S3Lake:
    """A lake at s3://<bucket>/prod on the moto server."""

    client: Any  # a boto3 S3 client of the moto server, to list what was written
    bucket: str
    env: dict[str, str]  # the GOURMAND_LAKE_* settings that point a home at it


@pytest.fixture
def s3_lake(moto_endpoint: str) -> S3Lake:
    """A fresh bucket on the session's moto server and the settings of a lake in it."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    bucket = f"lake-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=bucket)
    env = {
        "GOURMAND_LAKE_URL": f"s3://{bucket}/prod",
        "GOURMAND_LAKE_ENDPOINT_URL": moto_endpoint,
        "GOURMAND_LAKE_KEY_ID": "testing",
        "GOURMAND_LAKE_SECRET": "testing",
    }
    return S3Lake(client, bucket, env)


@pytest.fixture
def as_process_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Make `settings` (and its sandbox) the process's settings, as Dagster's code reads them
    from the environment: `as_process_settings(settings, server, **extra_env)`."""
    from extract.settings import get_settings

    def apply(settings: Any, server: Any, **env: str) -> None:
        values = {
            "GOURMAND_HOME": str(settings.home),
            "GOURMAND_OLTP_DSN": settings.oltp_dsn,
            "GOURMAND_READER_DSN": settings.reader_dsn,
            "GOURMAND_YELP_BASE_URL": f"{server.url}/v3",
            "GOURMAND_CENSUS_BASE_URL": f"{server.url}/data",
            "GOURMAND_STATES_URL": f"{server.url}/abbreviations.htm",
            **env,
        }
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()


@pytest.fixture
def receiver():
    """An incoming-webhook stand-in: records every JSON body POSTed to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers["Content-Length"])
            received.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    """Whatever a test leaves in os.environ (a variable set without monkeypatch, a command that
    exports its home's connection) is gone before the next test reads its settings."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
