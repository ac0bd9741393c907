"""The README's first command, as a user runs it: `gourmand demo`, twice, then `gourmand sql`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

GOURMAND = str(Path(sys.executable).with_name("gourmand"))


@pytest.fixture
def demo_env(tmp_path: Path, fresh_dsn: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOURMAND_", "DAGSTER_"))}
    env.update({
        "GOURMAND_HOME": str(tmp_path / "home"),
        "GOURMAND_OLTP_DSN": fresh_dsn,
        "GOURMAND_SANDBOX_COUNTIES": "3",
        "GOURMAND_SANDBOX_BUSINESSES_PER_COUNTY": "20",
        "GOURMAND_SANDBOX_MALFORMED_EVERY": "13",
    })  # fmt: skip
    yield env
    subprocess.run([GOURMAND, "sandbox", "--stop"], env=env, check=False, capture_output=True)


def gourmand(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([GOURMAND, *args], env=env, capture_output=True, text=True, timeout=600)


def counts(env) -> str:
    query = (
        "select 'states', count(*) from raw_states.state_abbreviations union all "
        "select 'census', count(*) from raw_census.county_population union all "
        "select 'businesses', count(*) from raw_yelp.businesses union all "
        "select 'categories', count(*) from raw_yelp.businesses__categories union all "
        "select 'reviews', count(*) from raw_yelp.reviews union all "
        "select 'events', count(*) from raw_yelp.events union all "
        "select 'rejects', count(*) from raw_yelp._rejects order by 1"
    )
    result = gourmand(env, "sql", "--format", "csv", query)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_demo_twice_changes_no_row_count(demo_env):
    first = gourmand(demo_env, "demo", "--days", "3")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "What landed" in first.stdout and "raw_yelp.businesses" in first.stdout
    # the demo stops the sandbox it started
    assert gourmand(demo_env, "sandbox", "--status").returncode == 1
    before = counts(demo_env)
    second = gourmand(demo_env, "demo", "--days", "3")
    assert second.returncode == 0, second.stdout + second.stderr
    assert counts(demo_env) == before

    states = gourmand(
        demo_env,
        "sql",
        "--target",
        "oltp",
        "--format",
        "csv",
        "select count(*) from raw_states.state_abbreviations",
    )
    assert states.stdout.strip().splitlines()[-1] == "56"
    days = gourmand(
        demo_env,
        "sql",
        "--format",
        "json",
        "select count(distinct surveyed_on) as days from raw_yelp.businesses",
    )
    assert '"days": 3' in days.stdout
    lake = Path(demo_env["GOURMAND_HOME"]) / "lake" / "raw"
    assert len(list(lake.glob("yelp/businesses/surveyed_on=*/*.parquet"))) == 3
    assert list(lake.glob("census/county_population/*/*.parquet"))
    assert list(lake.glob("states/state_abbreviations/*.parquet"))


def test_sql_is_read_only_and_errors_are_messages(demo_env):
    write = gourmand(demo_env, "sql", "create table public.x (i int)")
    assert write.returncode == 2 and "read-only" in write.stderr
    missing = gourmand(demo_env, "sql", "--target", "warehouse", "select 1")
    assert missing.returncode == 2 and "no warehouse yet" in missing.stderr
    assert "Traceback" not in write.stderr + missing.stderr
