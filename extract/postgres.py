"""The OLTP Postgres: the embedded pgserver by default, any server by `GOURMAND_OLTP_DSN`.

pgserver gives a PostgreSQL 16 from a wheel. Every process that needs it (the CLI, each Dagster
step subprocess, dbt through the profile) attaches to the one server of the home's data dir; the
server stops when the last attached process exits. Creating a new data dir is done once, under
a file lock, because two processes initialising the same folder at once race.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from extract.settings import Settings, get_settings

DATABASE = "gourmand"
USER = "postgres"

# The handle keeps this process registered with the embedded server for its lifetime.
_server_handle: Any = None


@dataclass(frozen=True)
class PgConnectionInfo:
    """Connection parts, for clients that want them separately (dbt profiles, psycopg2)."""

    host: str  # a socket directory for the embedded server
    port: int
    user: str
    password: str
    database: str

    @property
    def dsn(self) -> str:
        """A URL that libpq, psycopg2, ADBC and dlt all accept (socket dirs percent-encoded)."""
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{quote(self.host, safe='')}:{self.port}/{self.database}"
        )


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _password_file(settings: Settings) -> Path:
    return settings.home / "postgres.password"


def _embedded_password(settings: Settings) -> str:
    """A random password per home: pgserver trusts local sockets, but dlt insists on one."""
    path = _password_file(settings)
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(18)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(password)
    tmp.chmod(0o600)
    tmp.replace(path)
    return password


def _start_embedded(settings: Settings) -> PgConnectionInfo:
    global _server_handle
    import psycopg2

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); harmless here.
        warnings.simplefilter("ignore")
        import pgserver

    with _file_lock(settings.home / "postgres.lock"):
        if _server_handle is None or Path(_server_handle.pgdata) != settings.postgres_dir:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _server_handle = pgserver.get_server(settings.postgres_dir, cleanup_mode="stop")
        uri = _server_handle.get_uri()
        parts = urlsplit(uri)
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        host = unquote(query.get("host") or parts.hostname or "127.0.0.1")
        port = parts.port or 5432
        password = _embedded_password(settings)
        marker = settings.postgres_dir / ".gourmand_bootstrapped"
        if not marker.exists():
            conn = psycopg2.connect(host=host, port=port, user=USER, dbname="postgres")
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"ALTER USER {USER} PASSWORD %s", (password,))
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if cur.fetchone() is None:
                    cur.execute(f"CREATE DATABASE {DATABASE}")
            conn.close()
            marker.write_text("ok\n")
    return PgConnectionInfo(host=host, port=port, user=USER, password=password, database=DATABASE)


def connection_info(settings: Settings | None = None) -> PgConnectionInfo:
    """Where the OLTP database is, starting the embedded server on demand."""
    settings = settings or get_settings()
    if settings.oltp_dsn is None:
        return _start_embedded(settings)
    parts = urlsplit(settings.oltp_dsn)
    return PgConnectionInfo(
        host=unquote(parts.hostname or "localhost"),
        port=parts.port or 5432,
        user=unquote(parts.username or USER),
        password=unquote(parts.password or ""),
        database=(parts.path or "/postgres").lstrip("/") or "postgres",
    )


def oltp_dsn(settings: Settings | None = None) -> str:
    """The OLTP database URL (for dlt, ADBC and psycopg2)."""
    settings = settings or get_settings()
    if settings.oltp_dsn is not None:
        return settings.oltp_dsn
    return connection_info(settings).dsn


def connect(settings: Settings | None = None, *, read_only: bool = False) -> Any:
    """A psycopg2 connection to the OLTP database; read_only sessions refuse every write."""
    import psycopg2

    info = connection_info(settings)
    conn = psycopg2.connect(
        host=info.host,
        port=info.port,
        user=info.user,
        password=info.password,
        dbname=info.database,
        application_name="gourmand",
        options="-c default_transaction_read_only=on" if read_only else "",
    )
    return conn


def dbt_environment(settings: Settings | None = None) -> dict[str, str]:
    """GOURMAND_PG_* variables that profiles/profiles.yml reads through env_var()."""
    info = connection_info(settings)
    return {
        "GOURMAND_PG_HOST": info.host,
        "GOURMAND_PG_PORT": str(info.port),
        "GOURMAND_PG_USER": info.user,
        "GOURMAND_PG_PASSWORD": info.password,
        "GOURMAND_PG_DATABASE": info.database,
    }


def is_embedded_running(settings: Settings | None = None) -> bool:
    """Whether the home's embedded server is up (for `gourmand status`)."""
    settings = settings or get_settings()
    pid_file = settings.postgres_dir / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return False
    return True
