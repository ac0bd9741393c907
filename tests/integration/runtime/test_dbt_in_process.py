"""dbt run inside this process: what dagster-dbt reads of a dbt process, without one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from extract.runtime.dbt_invoke import DbtThread, dbt_environment


def _command(settings, tmp_path: Path, *args: str) -> list[str]:
    root = settings.project_root
    return ["dbt", *args, "--project-dir", str(root / "dbt_oltp"),
            "--profiles-dir", str(root / "profiles"), "--target-path", str(tmp_path / "target"),
            "--log-path", str(tmp_path / "logs")]  # fmt: skip


def test_a_dbt_thread_streams_the_records_dbts_cli_prints_and_its_exit_code(
    make_settings, tmp_path
):
    settings = make_settings()
    env = {**os.environ, **dbt_environment(settings), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    before = {name: os.environ.get(name) for name in env}
    # dagster-dbt's command line asks for JSON lines (`--log-format json`)
    dbt = DbtThread(_command(settings, tmp_path, "parse", "--log-format", "json"), env)
    records = list(dbt.events())
    assert dbt.wait() == 0 and dbt.returncode == 0
    # the JSON records of `--log-format json`: info and up, never dbt's debug lines
    assert {r["info"]["level"] for r in records} <= {"info", "warn", "error"}
    assert any(r["info"]["msg"].startswith("Running with dbt=") for r in records)
    assert (tmp_path / "target" / "manifest.json").exists()
    # dbt's log still goes to its file, in dbt's text format (a JSON document per line was 3.5%
    # of a daily run's CPU)
    log = (tmp_path / "logs" / "dbt.log").read_text().splitlines()
    started = [line for line in log if "Running with dbt=" in line]
    assert started and not any(line.lstrip().startswith("{") for line in log), log[:5]
    assert list(dbt.events()) == []  # read once, like a closed pipe
    # the call's variables were set for the call only
    assert {name: os.environ.get(name) for name in env} == before


def test_a_failing_dbt_command_gives_an_error_record_and_a_failing_exit_code(
    make_settings, tmp_path
):
    settings = make_settings()
    env = {**os.environ, **dbt_environment(settings), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = DbtThread(_command(settings, tmp_path, "run-operation", "no_such_macro"), env)
    errors = [r["info"]["msg"] for r in dbt.events() if r["info"]["level"] == "error"]
    assert dbt.wait() != 0
    assert any("no_such_macro" in message for message in errors), errors


def test_the_dbt_resource_runs_dbt_without_starting_a_process(make_settings, monkeypatch, tmp_path):
    import dagster_dbt.core.dbt_cli_invocation as invocation_module

    from dagster_project.lib.dbt_projects import dbt_cli, dbt_project
    from dagster_project.lib.upstream import InProcessDbtCliInvocation

    def no_process(*args, **kwargs):
        raise AssertionError(f"a dbt process was started: {args}")

    monkeypatch.setattr(invocation_module.subprocess, "Popen", no_process)
    settings = make_settings()
    for name, value in dbt_environment(settings).items():
        monkeypatch.setenv(name, value)
    dbt = dbt_cli(dbt_project(settings.project_root, "dbt_oltp"))
    invocation = dbt.cli(["parse"], raise_on_error=False, target_path=tmp_path / "parse")
    assert isinstance(invocation, InProcessDbtCliInvocation)
    assert invocation.is_successful(), invocation.get_error()
    assert "dbt parse" in invocation.dbt_command
    missing = ["run-operation", "no_such_macro"]
    failing = dbt.cli(missing, raise_on_error=False, target_path=tmp_path / "failing")
    error = failing.get_error()
    assert error is not None and "no_such_macro" in str(error)
    with pytest.raises(Exception, match="no_such_macro"):
        dbt.cli(missing, target_path=tmp_path / "raising").wait()
