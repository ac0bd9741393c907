"""Every process of the project starts with the collector's thresholds of
extract/runtime/collector.py: the `gourmand` command and every Dagster process (they all load
the definitions). Each test puts CPython's defaults back first, so it sees its own call site."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from extract.runtime.collector import THRESHOLDS

CPYTHON_DEFAULTS = (700, 10, 10)


@pytest.fixture
def default_collector() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(*CPYTHON_DEFAULTS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def test_the_thresholds_differ_from_cpythons():
    assert THRESHOLDS != CPYTHON_DEFAULTS
    assert all(t >= d for t, d in zip(THRESHOLDS, CPYTHON_DEFAULTS, strict=True))


def test_the_gourmand_command_sets_them(default_collector, tmp_path):
    from extract.cli import main

    # `sandbox --status` touches nothing but the home's sandbox state (none here: exit 1)
    result = CliRunner().invoke(main, ["sandbox", "--status"], env={"GOURMAND_HOME": str(tmp_path)})
    assert result.exit_code == 1, result.output
    assert gc.get_threshold() == THRESHOLDS


def test_loading_the_definitions_sets_them(default_collector, tmp_path):
    from dagster_project.definitions import build_definitions
    from tests.support import settings_for

    build_definitions(settings_for(tmp_path, "postgresql://127.0.0.1:1/unused"))
    assert gc.get_threshold() == THRESHOLDS
