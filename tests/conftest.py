"""Shared fixtures: one real Postgres for the session, a fresh database and home per test, and
sandbox servers with the knobs a test asks for."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SESSION_HOME_ENV = "GOURMAND_HOME"


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
        yield external
        return
    from extract.postgres import connection_info, stop_embedded
    from extract.settings import load_settings

    settings = load_settings({"GOURMAND_HOME": str(session_home), "PATH": os.environ["PATH"]})
    yield connection_info(settings).dsn
    stop_embedded(settings)


def _with_database(dsn: str, database: str) -> str:
    head, _, _ = dsn.rpartition("/")
    return f"{head}/{database}"


@pytest.fixture
def fresh_dsn(base_dsn: str) -> Iterator[str]:
    """A new, empty database on the session's server, dropped afterwards."""
    import psycopg2

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(_with_database(base_dsn, "postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    yield _with_database(base_dsn, name)
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


@pytest.fixture
def make_settings(tmp_path: Path, fresh_dsn: str) -> Callable[..., Any]:
    """Settings for one test: its own home and database; keyword overrides are env variables."""
    from extract.settings import load_settings

    def build(**env: str) -> Any:
        base = {
            "GOURMAND_HOME": str(tmp_path / "home"),
            "GOURMAND_OLTP_DSN": fresh_dsn,
            "GOURMAND_HTTP_BACKOFF": "0.01",
            "GOURMAND_HTTP_MAX_DELAY": "2",
            "GOURMAND_HTTP_MAX_ATTEMPTS": "4",
            "PATH": os.environ["PATH"],
        }
        base.update(env)
        return load_settings(base)

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
        settings = make_settings(
            GOURMAND_YELP_BASE_URL=f"{server.url}/v3",
            GOURMAND_CENSUS_BASE_URL=f"{server.url}/data",
            GOURMAND_STATES_URL=f"{server.url}/abbreviations.htm",
            **(env or {}),
        )
        return settings, server

    return build
