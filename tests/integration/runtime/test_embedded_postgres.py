"""The embedded pgserver: started on demand, initialised once, shared by processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
