"""What one Dagster event costs to store: Dagster's own SQLite event log against the pooled one
this project configures (dagster_project/lib/upstream.py).

A demo run stores about 1,800 events (every dbt model an output and a materialization, every
dbt test an asset check, planned then evaluated), so the cost per event is a fixed share of
every run. Each storage gets a fresh Dagster home; one job yields EVENTS asset materializations;
the time per event is the run's wall time over EVENTS, median of RUNS. Target: the pooled
storage at <= 0.5x Dagster's default; the script exits 1 when it is missed. Run with
`make bench` (or `python -m bench.dagster_events`).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("results") / "dagster_events.json"
EVENTS = 300
RUNS = 3
TARGET_RATIO = 0.5

POOLED = """event_log_storage:
  module: dagster_project.lib.upstream
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {home}/history/runs
"""


def _ms_per_event(storage_config: str) -> float:
    from dagster import AssetKey, AssetMaterialization, DagsterInstance, Output, job, op

    @op
    def many() -> object:
        for i in range(EVENTS):
            yield AssetMaterialization(asset_key=AssetKey(["bench", f"a{i % 50}"]))
        yield Output(1)

    @job
    def events() -> None:
        many()

    with tempfile.TemporaryDirectory() as home:
        config = "telemetry:\n  enabled: false\n" + storage_config.format(home=home)
        (Path(home) / "dagster.yaml").write_text(config)
        instance = DagsterInstance.from_config(home)
        started = time.perf_counter()
        result = events.execute_in_process(instance=instance)
        seconds = time.perf_counter() - started
        assert result.success
        instance.dispose()
    return seconds / EVENTS * 1000


def main() -> int:
    figures = {}
    for name, config in (("dagster sqlite", ""), ("pooled sqlite", POOLED)):
        figures[name] = statistics.median(_ms_per_event(config) for _ in range(RUNS))
        print(f"{name:15s} {figures[name]:6.1f} ms per event (median of {RUNS}, {EVENTS} events)")
    ratio = figures["pooled sqlite"] / figures["dagster sqlite"]
    met = ratio <= TARGET_RATIO
    verdict = "met" if met else "MISSED"
    print(f"pooled / dagster: {ratio:.2f}x (target <= {TARGET_RATIO}: {verdict})")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({**figures, "ratio": ratio, "met": met}, indent=2))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
