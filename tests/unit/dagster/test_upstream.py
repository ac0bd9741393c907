"""What dagster_project/lib/upstream.py relies on in the pinned Dagster and dagster-dbt: each
test fails when that behaviour changes, the signal to re-check the piece (and drop it when
upstream fixed what it works around)."""

from __future__ import annotations

import inspect
import time
from types import SimpleNamespace

import dagster_dbt.core.resource
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster_dbt import DbtCliResource

from dagster_project.lib.upstream import (
    InProcessDbtCliInvocation,
    LeanDbtCliResource,
    PooledSqliteEventLogStorage,
    patch_slot_wait,
    run_dbt_in_process,
)


def test_1_dbt_cli_starts_dbt_through_the_resource_modules_invocation_class():
    """Item 1: DbtCliResource.cli calls `DbtCliInvocation.run` by the resource module's name
    (what run_dbt_in_process re-points); tests/integration/runtime/test_dbt_in_process.py checks
    that a build then runs in this process."""
    source = inspect.getsource(DbtCliResource.cli)
    assert "DbtCliInvocation.run(" in source
    run_dbt_in_process()
    assert dagster_dbt.core.resource.DbtCliInvocation is InProcessDbtCliInvocation


def test_2_the_two_overridden_methods_are_still_what_cli_calls():
    """Item 2: a rename upstream would leave the overrides dead and both costs back, silently."""
    source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in source
    assert "self._initialize_dbt_core_adapter(" in source
    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(DbtCliResource), name
        assert name in vars(LeanDbtCliResource), name
    signature = inspect.signature(DbtCliResource._initialize_dbt_core_adapter)
    assert list(signature.parameters) == ["self", "args"]


def test_3_upstream_still_never_sleeps_between_claims():
    """Item 3: upstream's interval is min([0, ...]), never above 0 (dagster#20367). When this
    fails, upstream sleeps as it should: keep only the dead-holder part of patch_slot_wait."""
    patch_slot_wait()
    upstream = InstanceConcurrencyContext._gourmand_upstream_interval  # type: ignore[attr-defined]
    waiting = SimpleNamespace(
        _pending_claims={"dbt_dwh"}, _pending_timeouts={"dbt_dwh": time.time() + 5.0}
    )
    assert upstream(waiting) == 0.0
    patched = InstanceConcurrencyContext.interval_to_next_pending_claim_check(waiting)  # type: ignore[arg-type]
    assert 4.0 < patched <= 5.0
    # what the patched claim builds on
    assert list(inspect.signature(InstanceConcurrencyContext.claim).parameters) == [
        "self", "concurrency_key", "step_key", "step_priority",
    ]  # fmt: skip


def test_4_the_sqlite_event_log_still_connects_through_what_the_pooled_one_replaces(tmp_path):
    """Item 4: the parent's _connect(shard), conn_string_for_shard, _initdb and the members the
    pooled storage uses; then one event stored and read back through the pooled one."""
    for name in ("_connect", "conn_string_for_shard", "_initdb", "from_config_value"):
        assert name in vars(SqliteEventLogStorage), name
    assert list(inspect.signature(SqliteEventLogStorage._connect).parameters) == ["self", "shard"]
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    try:
        assert {"_db_lock", "_initialized_dbs"} <= set(vars(storage))
        from dagster import AssetKey, AssetMaterialization, DagsterEvent, DagsterEventType
        from dagster._core.events import StepMaterializationData
        from dagster._core.events.log import EventLogEntry

        event = EventLogEntry(
            error_info=None,
            level="debug",
            user_message="",
            run_id="r1",
            timestamp=time.time(),
            dagster_event=DagsterEvent(
                DagsterEventType.ASSET_MATERIALIZATION.value,
                "job",
                event_specific_data=StepMaterializationData(
                    AssetMaterialization(asset_key=AssetKey("a"))
                ),
            ),
        )
        storage.store_event(event)
        assert [e.run_id for e in storage.get_logs_for_run("r1")] == ["r1"]
    finally:
        storage.dispose()


def test_4_the_sqlite_event_log_asks_has_table_per_asset_check_event(tmp_path, monkeypatch):
    """Item 4, `has_table`: the pinned storage still asks it for asset check events (what makes
    remembering it worth it), the pooled one answers from memory once a table was seen, and
    still says False for a table that is not there."""
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

    assert "has_table" in inspect.getsource(SqlEventLogStorage.supports_asset_checks.fget)  # type: ignore[attr-defined]
    assert "has_table" in vars(SqliteEventLogStorage)
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    try:
        assert storage.supports_asset_checks
        assert not storage.has_table("no_such_table")
        asked: list[str] = []
        monkeypatch.setattr(
            SqliteEventLogStorage, "has_table", lambda self, name: asked.append(name) or False
        )
        assert storage.supports_asset_checks  # remembered: the parent is not asked again
        assert not storage.has_table("no_such_table")  # a missing table is asked again
        assert asked == ["no_such_table"]
    finally:
        storage.dispose()
