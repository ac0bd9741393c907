"""`gourmand demo` with GOURMAND_WAREHOUSE=bigquery against the local BigQuery API: the Dagster
graph loads the lake into BigQuery, builds dbt_dwh there, runs its checks, and `gourmand sql
--target warehouse` reads the result."""

from __future__ import annotations

import pytest

from tests.conftest import bq_environment
from tests.support import gourmand, home_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def test_the_demo_builds_the_warehouse_on_bigquery(tmp_path, fresh_dsn, bq_emulator):
    env = {**home_env(tmp_path / "home", fresh_dsn), **bq_environment(bq_emulator)}
    try:
        demo = gourmand(env, "demo", "--days", "2")
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        assert "The warehouse (bigquery" in demo.stdout
        assert "marts.days_to_close_by_agency" in demo.stdout
        assert " fail " not in demo.stdout

        facts = gourmand(env, "sql", "--target", "warehouse", "--format", "csv",
                         "select count(*) as n from dwh.fct_business_holding")  # fmt: skip
        holdings = gourmand(env, "sql", "--format", "csv",
                            "select count(*) as n from oltp.business_holding")  # fmt: skip
        assert facts.returncode == 0, facts.stderr
        assert facts.stdout == holdings.stdout and facts.stdout.splitlines()[1] != "0"

        refused = gourmand(env, "sql", "--target", "warehouse", "drop table marts.x")
        assert refused.returncode != 0 and "read-only" in refused.stderr
    finally:
        gourmand(env, "sandbox", "--stop")
