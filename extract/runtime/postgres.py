"""The OLTP Postgres: the embedded pgserver by default, any server by `GOURMAND_OLTP_DSN`.

pgserver's wheel gives a PostgreSQL 16. The home's server is started on demand from
`<home>/postgres` and listens on 127.0.0.1 (port 55432 when free, remembered per home), so every
process (the CLI, each Dagster step, dbt through the profile, psql) reaches the same server.
Initialising and starting are done under a file lock: processes that create the same data dir
at once would race.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from extract.runtime.locks import home_lock
from extract.settings import Settings

DATABASE = "gourmand"
USER = "postgres"

# The embedded server is a laptop's single-user database that bulk-loads millions of rows, not
# a replicated service: Postgres's defaults (128 MB of shared buffers, 64 MB to sort an index,
# a checkpoint per GB of WAL) made a 5M-row build spill its index sorts to disk and checkpoint
# every few seconds. wal_level=minimal lets a table created and filled in one transaction (a
# dbt model's first build, an index build) skip the WAL and be synced once at commit; it rules
# out streaming replicas and point-in-time recovery, which an embedded server has neither of.
# Durability is unchanged (fsync, synchronous commit). A server of one's own keeps its settings:
# docs/scaling.md gives the ones that matter for it.
EMBEDDED_SERVER_SETTINGS = {
    "shared_buffers": "256MB",
    "maintenance_work_mem": "512MB",
    "work_mem": "64MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    # the pages are on a local SSD or in memory: a random read costs about a sequential one.
    # At the default (4, a spinning disk's ratio), the 311 model's 1% update joined its 50k
    # changed requests to the 5M built ones with a scan of all of them (2.5 s) instead of 50k
    # key lookups (0.5 s)
    "random_page_cost": "1.1",
}


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
        """A URL that libpq, psycopg2, ADBC and dlt all accept."""
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{quote(self.host, safe='')}:{self.port}/{self.database}"
        )


def _password_file(settings: Settings) -> Path:
    return settings.home / "postgres.password"


def password_file(path: Path) -> tuple[str, bool]:
    """The password kept in `path` (mode 0600), made at random on first use; and whether it
    was made now. Written beside and renamed, so a reader never sees half a file."""
    if path.exists():
        return path.read_text().strip(), False
    password = secrets.token_urlsafe(18)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(password)
    tmp.chmod(0o600)
    tmp.replace(path)
    return password, True


def _embedded_password(settings: Settings) -> str:
    """A random password per home: the owner's login (the server asks every login for one)."""
    return password_file(_password_file(settings))[0]


DEFAULT_PORT = 55432  # the embedded server's port when free; analysts' dbt profile default


def _pgserver_commands() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); harmless here.
        warnings.simplefilter("ignore")
        from pgserver import _commands

    return _commands


def _system_user(name: str = "pgserver") -> str | None:
    """Postgres refuses to run as root; as root, run it as pgserver's own `pgserver` user."""
    if os.geteuid() != 0:
        return None
    import fcntl
    import pwd

    from pgserver.utils import ensure_user_exists

    # Two homes starting at once on a new machine (the suite's two workers) both found no user
    # and ran useradd together: one initdb then ran as a uid that the other's useradd had
    # replaced ("could not look up effective user ID 1001", seen here). One process at a time.
    with open(Path(tempfile.gettempdir()) / "gourmand-pgserver-user.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            ensure_user_exists(name)
        except subprocess.CalledProcessError:
            pwd.getpwnam(name)  # added by a process that does not take this lock
    return name


def _postmaster(pgdata: Path) -> tuple[int, int] | None:
    """(pid, port) of the server running on pgdata, if any."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    import psutil

    return (pid, port) if psutil.pid_exists(pid) else None


def _port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        # as Postgres binds: a port whose last connections linger in TIME_WAIT is free to it
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _choose_port(settings: Settings) -> int:
    """55432 when free (the profiles' default, so dbt needs no exports); otherwise the port this
    home had before (an analyst exported it once), otherwise any free one."""
    remembered = settings.home / "postgres.port"
    if _port_is_free(DEFAULT_PORT):
        port = DEFAULT_PORT
    elif remembered.exists() and _port_is_free(int(remembered.read_text().strip())):
        port = int(remembered.read_text().strip())
    else:
        port = _free_port()
    remembered.write_text(f"{port}\n")
    return port


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_embedded(settings: Settings) -> PgConnectionInfo:
    """Start (once) the home's PostgreSQL from the pgserver wheel, on 127.0.0.1.

    The server outlives the process that started it, like a local service, so that dbt, psql
    and `gourmand sql` reach it between runs; `gourmand postgres --stop` stops it.
    """
    import psycopg2

    commands = _pgserver_commands()
    pgdata = settings.postgres_dir
    # one starter at a time (a second waits, saying for whom, then finds it running)
    with home_lock(settings, "postgres"):
        running = _postmaster(pgdata)
        if running is None:
            user = _system_user()
            if not (pgdata / "PG_VERSION").exists():
                pgdata.mkdir(parents=True, exist_ok=True)
                # the owner's password from the start: the server never accepts a login
                # without one (initdb reads it from a file, as the server's own user)
                pwfile = settings.home / ".initdb-password"
                pwfile.write_text(_embedded_password(settings))
                pwfile.chmod(0o600)
                if user:
                    import pwd

                    from pgserver.utils import ensure_prefix_permissions

                    ensure_prefix_permissions(pgdata)
                    entry = pwd.getpwnam(user)
                    os.chown(pgdata, entry.pw_uid, entry.pw_gid)
                    os.chown(pwfile, entry.pw_uid, entry.pw_gid)
                try:
                    commands.initdb(
                        # byte-order collation: the same order as C.UTF-8 (code points), but
                        # Postgres compares C strings with memcmp and abbreviated keys, which
                        # halved the index builds of a 5M-row load (text keys: md5 hex digests)
                        [
                            "--auth=scram-sha-256",
                            f"--pwfile={pwfile}",
                            "--encoding=utf8",
                            "--lc-collate=C",
                            "--lc-ctype=C.UTF-8",
                            "-U",
                            USER,
                        ],
                        pgdata=pgdata,
                        user=user,
                    )
                finally:
                    pwfile.unlink(missing_ok=True)
            port = _choose_port(settings)
            for attempt in range(3):
                try:
                    commands.pg_ctl(
                        ["-w", "-o", "-h 127.0.0.1", "-o", f"-p {port}", "-o", "-k ''",
                         *(arg for name, value in EMBEDDED_SERVER_SETTINGS.items()
                           for arg in ("-o", f"-c {name}={value}")),
                         "-l", str(pgdata / "log"), "start"],
                        pgdata=pgdata, user=user, timeout=60,
                    )  # fmt: skip
                    break
                except subprocess.CalledProcessError:
                    # another home's server took the free port between the check and the bind
                    # (two homes starting at once): take another; any other failure is raised
                    if attempt == 2 or _port_is_free(port):
                        raise
                    port = _free_port()
                    (settings.home / "postgres.port").write_text(f"{port}\n")
            running = _postmaster(pgdata)
            if running is None:
                raise RuntimeError(f"the embedded Postgres did not start; see {pgdata / 'log'}")
        _, port = running
        password = _embedded_password(settings)
        marker = pgdata / ".gourmand_bootstrapped"
        if not marker.exists():
            conn = psycopg2.connect(
                host="127.0.0.1", port=port, user=USER, password=password, dbname="postgres"
            )
            conn.autocommit = True
            # (the owner's password: initdb's, or set by _require_passwords on an older home)
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if cur.fetchone() is None:
                    cur.execute(f"CREATE DATABASE {DATABASE}")
            conn.close()
            marker.write_text("ok\n")
        _require_passwords(pgdata, port, password)
    return PgConnectionInfo(
        host="127.0.0.1", port=port, user=USER, password=password, database=DATABASE
    )


# Who may log in to the embedded server: anyone on 127.0.0.1 who knows a role's password (the
# owner's and the reader's are files of the home, mode 0600). initdb's `trust` let every local
# user in as the superuser, whatever password they gave; no Unix socket is opened (-k '').
HBA = """\
# Gourmand's embedded server (extract/runtime/postgres.py): every login by password
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


def _require_passwords(pgdata: Path, port: int, password: str) -> None:
    """The server's pg_hba.conf made HBA, on a new home and on one initialised with `trust`
    (every home before passwords were required): the owner's password is set first (while the
    old rules still let the owner in), then the rules, then the server reloads them."""
    import psycopg2

    hba = pgdata / "pg_hba.conf"
    if hba.read_text() == HBA:
        return
    conn = psycopg2.connect(
        host="127.0.0.1", port=port, user=USER, password=password, dbname="postgres"
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f"ALTER USER {USER} PASSWORD %s", (password,))
            # written in place: the file keeps the owner and mode the server reads it with
            hba.write_text(HBA)
            cur.execute("SELECT pg_reload_conf()")
    finally:
        conn.close()


def pgpass_file(settings: Settings) -> Path:
    """A libpq password file for psql on the embedded server (mode 0600, beside the password
    it holds): `PGPASSFILE=<it> psql -h 127.0.0.1 …` logs in without the password on screen."""
    info = connection_info(settings)
    path = settings.home / "postgres.pgpass"
    line = f"{info.host}:*:*:{info.user}:{info.password}\n"
    if not path.exists() or path.read_text() != line:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(line)
        tmp.chmod(0o600)
        tmp.replace(path)
    return path


def embedded_running(settings: Settings) -> bool:
    """Whether the home's embedded server is up (without starting it)."""
    return _postmaster(settings.postgres_dir) is not None


def stop_embedded(settings: Settings) -> bool:
    """Stop the home's embedded server; False when it was not running."""
    if _postmaster(settings.postgres_dir) is None:
        return False
    _pgserver_commands().pg_ctl(
        ["-w", "-m", "fast", "stop"], pgdata=settings.postgres_dir, user=_system_user()
    )
    return True


def connection_info(settings: Settings) -> PgConnectionInfo:
    """Where the OLTP database is, starting the embedded server on demand."""
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


def oltp_dsn(settings: Settings) -> str:
    """The OLTP database URL (for dlt, ADBC and psycopg2)."""
    if settings.oltp_dsn is not None:
        return settings.oltp_dsn
    return connection_info(settings).dsn


def connect(settings: Settings, *, read_only: bool = False) -> Any:
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


def postgres_environment(settings: Settings) -> dict[str, str]:
    """The GOURMAND_PG_* variables profiles/profiles.yml reads through env_var() (the Postgres
    part of `extract.runtime.dbt_invoke.dbt_environment`; `gourmand postgres --env` prints it)."""
    info = connection_info(settings)
    return {
        "GOURMAND_PG_HOST": info.host,
        "GOURMAND_PG_PORT": str(info.port),
        "GOURMAND_PG_USER": info.user,
        "GOURMAND_PG_PASSWORD": info.password,
        "GOURMAND_PG_DATABASE": info.database,
    }
