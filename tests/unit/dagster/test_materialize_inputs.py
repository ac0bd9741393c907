"""`materialize` refuses an empty or blank partition, or a range with an empty side, before it
loads anything: none of them may fall back to the newest survey day (an unset `$DAY`)."""

from __future__ import annotations

import os

import pytest

from dagster_project.lib.materialize import DAILY_GRAPH, SelectionError, materialize


@pytest.mark.parametrize("partition", ["", " ", "\n", "...", "2024-01-01...", "...2024-01-03"])
@pytest.mark.parametrize("newest_if_unset", [True, False])
def test_an_empty_partition_is_refused_not_read_as_unset(tmp_path, partition, newest_if_unset):
    from extract.settings import load_settings

    home = tmp_path / "home"
    settings = load_settings({"GOURMAND_HOME": str(home), "PATH": os.environ["PATH"]})
    with pytest.raises(SelectionError, match="partition"):
        materialize(settings, DAILY_GRAPH, partition, newest_if_unset=newest_if_unset)
    assert not home.exists(), "refused before the Dagster instance was opened"
