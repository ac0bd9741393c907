"""The home's dagster.yaml: generated with the pooled event log, rewritten when this project's
settings change or the home moved, left alone once a user edited it."""

from __future__ import annotations

from pathlib import Path

from dagster_project.lib.home import GENERATED, LEGACY_CONFIG, ensure_dagster_home, instance_for
from tests.support import settings_for


def _settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return settings_for(tmp_path / "home", "postgresql://unused@127.0.0.1:1/x")


def test_a_new_home_stores_events_through_the_pooled_sqlite_log(tmp_path: Path) -> None:
    from dagster import AssetKey, AssetMaterialization

    from dagster_project.lib.upstream import PooledSqliteEventLogStorage

    settings = _settings(tmp_path)
    instance = instance_for(settings)
    assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
    runs = settings.dagster_home / "history" / "runs"
    assert f"base_dir: {runs}" in (settings.dagster_home / "dagster.yaml").read_text()
    instance.report_runless_asset_event(AssetMaterialization(asset_key=AssetKey("probe")))
    # a second instance (another process would do the same) reads what the first wrote
    other = instance_for(settings)
    assert other.get_latest_materialization_event(AssetKey("probe")) is not None


def test_a_legacy_generated_config_is_rewritten_and_an_edited_one_kept(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    config = settings.dagster_home / "dagster.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(LEGACY_CONFIG)
    ensure_dagster_home(settings)
    assert config.read_text().startswith(GENERATED)
    assert "PooledSqliteEventLogStorage" in config.read_text()

    edited = config.read_text().replace(GENERATED + "\n", "") + "# my run queue settings\n"
    config.write_text(edited)
    ensure_dagster_home(settings)
    assert config.read_text() == edited


def test_a_home_generated_before_the_package_moves_gets_the_new_module_path(tmp_path: Path) -> None:
    """Homes made before dagster_project/lib/ existed name `dagster_project.storage`, a module
    that is gone: their generated dagster.yaml is rewritten, and the instance loads."""
    from dagster_project.lib.upstream import PooledSqliteEventLogStorage

    settings = _settings(tmp_path)
    config = settings.dagster_home / "dagster.yaml"
    config.parent.mkdir(parents=True)
    runs = settings.dagster_home / "history" / "runs"
    config.write_text(
        "# Written by gourmand (dagster_project/home.py); remove this line to keep your edits.\n"
        "telemetry:\n  enabled: false\n"
        "event_log_storage:\n  module: dagster_project.storage\n"
        f"  class: PooledSqliteEventLogStorage\n  config:\n    base_dir: {runs}\n"
    )
    instance = instance_for(settings)
    assert "module: dagster_project.lib.upstream" in config.read_text()
    assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
