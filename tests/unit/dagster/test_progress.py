"""The demo's progress display: layers counted from the run's own event log."""

from __future__ import annotations

import io
import uuid

from rich.console import Console

from dagster_project.lib.progress import run_progress


def test_a_run_prints_one_line_per_layer_when_it_is_done() -> None:
    from dagster import AssetKey, DagsterInstance, Definitions, asset, define_asset_job

    @asset(key=["raw_x", "a"])
    def raw() -> int:
        return 1

    @asset(key=["oltp", "b"], deps=[AssetKey(["raw_x", "a"])])
    def model() -> int:
        return 2

    instance = DagsterInstance.ephemeral()
    job = Definitions(assets=[raw, model], jobs=[define_asset_job("j")]).resolve_job_def("j")
    out = io.StringIO()
    run_id = str(uuid.uuid4())
    with run_progress(instance, run_id, Console(file=out, width=100), "job j") as state:
        assert job.execute_in_process(instance=instance, run_id=run_id).success
    lines = out.getvalue().splitlines()
    assert lines[0] == "job j"
    assert [line.split()[:3] for line in lines[1:]] == [
        ["extract", "1/1", "done"],
        ["oltp", "1/1", "done"],
    ]
    assert not state.running and not state.failed_steps
