"""The embedded pgserver: started on demand, initialised once, shared by processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import GOURMAND

pytestmark = pytest.mark.integration

PROBE = """
import sys
from extract.runtime.postgres import connect
from extract.settings import get_settings
conn = connect(get_settings())
with conn.cursor() as cur:
    cur.execute("select current_database(), inet_server_port(), pg_postmaster_start_time()")
    print(*cur.fetchone(), sep="|")
conn.close()
"""


@pytest.mark.skipif(bool(os.environ.get("GOURMAND_TEST_PG_DSN")), reason="uses the embedded one")
def test_processes_racing_on_a_new_home_share_one_server(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOURMAND_")}
    env["GOURMAND_HOME"] = str(tmp_path / "home")
    procs = [
        subprocess.Popen([sys.executable, "-c", PROBE], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]  # fmt: skip
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs.append(out.strip())
    assert len(set(outputs)) == 1, "one server, started once"
    database, port, _ = outputs[0].split("|")
    assert database == "gourmand" and int(port) > 0
    assert (tmp_path / "home" / "postgres.port").read_text().strip() == port
    assert (tmp_path / "home" / "postgres" / "PG_VERSION").exists()
    password = tmp_path / "home" / "postgres.password"
    assert password.exists() and oct(password.stat().st_mode & 0o777) == "0o600"
    from extract.runtime.postgres import stop_embedded
    from extract.settings import load_settings

    assert stop_embedded(load_settings({"GOURMAND_HOME": str(tmp_path / "home")}))


@pytest.mark.skipif(bool(os.environ.get("GOURMAND_TEST_PG_DSN")), reason="uses the embedded one")
def test_every_login_needs_its_password_old_homes_included(tmp_path: Path):
    """Before: initdb's `--auth=trust` let any local user in as the superuser with any password
    (and changing the reader's password locked nobody out). Now a wrong password is refused,
    for the owner and the reader; a home initialised with trust is switched on its next start;
    the reader's door survives the role changing its own password; `gourmand postgres` prints
    a psql line that logs in through a password file, the password not on screen."""
    import psycopg2

    from extract.runtime.postgres import connection_info, stop_embedded
    from extract.runtime.query import run_query
    from extract.settings import load_settings

    settings = load_settings({"GOURMAND_HOME": str(tmp_path / "home"), "PATH": os.environ["PATH"]})
    info = connection_info(settings)

    def login(user: str, password: str) -> bool:
        try:
            psycopg2.connect(host=info.host, port=info.port, user=user, password=password,
                             dbname=info.database, connect_timeout=10).close()  # fmt: skip
        except psycopg2.OperationalError as exc:
            assert "password authentication failed" in str(exc), exc
            return False
        return True

    try:
        assert run_query("select 1", settings=settings)[1] == [(1,)]  # the reader exists now
        assert login("postgres", info.password)
        assert not login("postgres", "anything")
        assert not login("gourmand_reader", "anything")
        # a home from before: trust for every local login
        hba = settings.postgres_dir / "pg_hba.conf"
        hba.write_text("host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n")
        # (not through connect(): its start-up check would switch the rules back at once)
        conn = psycopg2.connect(host=info.host, port=info.port, user=info.user,
                                password=info.password, dbname=info.database)  # fmt: skip
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select pg_reload_conf()")
        conn.close()
        assert login("postgres", "anything")
        stop_embedded(settings)
        info = connection_info(settings)  # its next start
        assert not login("postgres", "anything") and login("postgres", info.password)
        # the reader changes its own password: the door sets the home's back
        run_query("begin read write; alter role current_user password 'mine'; commit",
                  settings=settings)  # fmt: skip
        assert run_query("select 2", settings=settings)[1] == [(2,)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOURMAND_")}
        env["GOURMAND_HOME"] = str(tmp_path / "home")
        shown = subprocess.run([GOURMAND, "postgres"],
                               env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        assert info.password not in shown.stdout + shown.stderr
        line = shown.stdout.splitlines()[0]
        assert line.startswith("PGPASSFILE=") and " psql " in line
        passfile = Path(line.split(" ", 1)[0].removeprefix("PGPASSFILE="))
        assert oct(passfile.stat().st_mode & 0o777) == "0o600"
        # libpq reads the file as psql would (psycopg2 is libpq)
        conn = psycopg2.connect(host=info.host, port=info.port, user=info.user,
                                dbname=info.database, passfile=str(passfile))  # fmt: skip
        conn.close()
    finally:
        stop_embedded(settings)


USER_PROBE = """
import pwd, sys
from extract.runtime.postgres import _system_user
name = _system_user(sys.argv[1])
print(pwd.getpwnam(name).pw_uid)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="only root adds the server's system user")
def test_processes_racing_on_a_new_machine_add_one_system_user():
    """Before: three processes that found no `pgserver` user each ran useradd, and each got
    another uid (1001, 1002, 1003, seen here); an initdb then ran as a uid that no longer
    existed. A throwaway user name, removed afterwards, stands in for pgserver's."""
    import pwd

    name = f"gourmand_race_{os.getpid()}"
    procs = [
        subprocess.Popen([sys.executable, "-c", USER_PROBE, name], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]  # fmt: skip
    try:
        uids = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            uids.append(int(out.split()[-1]))
        assert len(set(uids)) == 1 and uids[0] == pwd.getpwnam(name).pw_uid
    finally:
        subprocess.run(["userdel", "-r", name], capture_output=True, check=False)
