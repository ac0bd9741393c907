"""Helpers the fixtures and the module-scoped fixtures of the tests share."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _with_database(dsn: str, database: str) -> str:
    head, _, _ = dsn.rpartition("/")
    return f"{head}/{database}"


@contextmanager
def new_database(base_dsn: str) -> Iterator[str]:
    """A new, empty database on the session's server, dropped afterwards."""
    import psycopg2

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(_with_database(base_dsn, "postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    try:
        yield _with_database(base_dsn, name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def settings_for(home: Path, dsn: str, server: Any = None, **env: str) -> Any:
    """Settings with their own home and database, pointed at `server` (a sandbox) if given;
    keyword overrides are environment variables."""
    from extract.settings import load_settings

    base = {
        "GOURMAND_HOME": str(home),
        "GOURMAND_OLTP_DSN": dsn,
        "GOURMAND_HTTP_BACKOFF": "0.01",
        "GOURMAND_HTTP_MAX_DELAY": "2",
        "GOURMAND_HTTP_MAX_ATTEMPTS": "4",
        "PATH": os.environ["PATH"],
    }
    if server is not None:
        base.update(
            GOURMAND_YELP_BASE_URL=f"{server.url}/v3",
            GOURMAND_CENSUS_BASE_URL=f"{server.url}/data",
            GOURMAND_STATES_URL=f"{server.url}/abbreviations.htm",
        )
    base.update(env)
    return load_settings(base)


def pg_rows(settings: Any, sql: str, *params: Any) -> list[tuple]:
    """All rows of one read-only query on the settings' OLTP Postgres."""
    from extract.postgres import connect

    conn = connect(settings, read_only=True)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())
    finally:
        conn.close()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_or_skip() -> Path:
    """Debian's chromium, which `make test` installs when it can; a loud skip otherwise."""
    import pytest

    if not CHROMIUM.exists():
        pytest.skip(
            "!!! BROWSER TEST SKIPPED: /usr/bin/chromium is missing and `make test` could not "
            "install Debian's chromium (apt-get install chromium) on this machine !!!"
        )
    return CHROMIUM
