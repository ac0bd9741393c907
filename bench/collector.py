"""The collector's thresholds (extract/runtime/collector.py) against CPython's defaults, on what
the daily job's processes spend most of their time in: a `dbt build` of dbt_oltp and one of
dbt_dwh, in process, on a demo-sized home.

The home is built once (3 survey days of the demo's sandbox, both projects built); then each
measurement is a fresh interpreter that imports dbt, sets the thresholds (or leaves CPython's),
runs the two builds and reports the seconds its collections took (`gc.callbacks`), its CPU
seconds and its peak RSS. The two settings alternate, ROUNDS each, and medians are compared,
so both see the same machine. Targets: the collections' seconds at most 0.6x the defaults', the
peak RSS at most 1.15x. Run with `make bench` (or `python -m bench.collector`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.builds import dbt, extract_days, settings_for
from extract.lake.export import export_oltp
from extract.pipelines import run_source
from extract.runtime.postgres import stop_embedded
from extract.sandbox import SandboxConfig, SandboxServer

RESULTS = Path(__file__).with_name("results") / "collector.json"
ROUNDS = 3
DAYS = 3
TARGET_GC_RATIO = 0.6
TARGET_RSS_RATIO = 1.15

# one measurement, in a fresh interpreter: argv = mode, home, sandbox url, dbt work folder
MEASURE = """
import gc, json, resource, sys, time
from pathlib import Path
mode, home, url, work = sys.argv[1:5]
spent = [0.0, 0.0]
def timed(phase, info):
    if phase == "start":
        spent[1] = time.perf_counter()
    else:
        spent[0] += time.perf_counter() - spent[1]
gc.callbacks.append(timed)
if mode == "tuned":
    from extract.runtime.collector import tune_collector
    tune_collector()
from bench.builds import dbt, settings_for
settings = settings_for(Path(home), type("Server", (), {"url": url})())
started = time.process_time()
dbt(settings, Path(work), "build", "--exclude-resource-type", "unit_test")
dbt(settings, Path(work), "build", project="dbt_dwh")
print(json.dumps({
    "gc_seconds": spent[0],
    "cpu_seconds": time.process_time() - started,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def build_home(root: Path, server: SandboxServer, config: SandboxConfig) -> None:
    settings = settings_for(root / "home", server)
    run_source("states", settings=settings, to_lake=False)
    run_source("census", settings=settings, to_lake=False)
    extract_days(settings, config, 1, DAYS)
    dbt(settings, root / "work", "build", "--exclude-resource-type", "unit_test")
    export_oltp(settings)
    dbt(settings, root / "work", "build", project="dbt_dwh")


def measure(mode: str, root: Path, url: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, mode, str(root / "home"), url, str(root / "work")],
        capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parents[1], env={**os.environ, "PYTHONPATH": "."},
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    config = SandboxConfig()
    server = SandboxServer(config).start()
    samples: dict[str, list[dict[str, float]]] = {"default": [], "tuned": []}
    with tempfile.TemporaryDirectory(prefix="gourmand-bench-") as tmp:
        root = Path(tmp)
        try:
            build_home(root, server, config)
            for _ in range(args.rounds):
                for mode in samples:
                    samples[mode].append(measure(mode, root, server.url))
        finally:
            server.stop()
            stop_embedded(settings_for(root / "home", server))
    medians: dict[str, Any] = {
        mode: {k: round(statistics.median(s[k] for s in runs), 2) for k in runs[0]}
        for mode, runs in samples.items()
    }
    ratios = {k: round(medians["tuned"][k] / medians["default"][k], 2) for k in medians["default"]}
    out = {"medians": medians, "tuned_over_default": ratios, "rounds": args.rounds}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    print(
        f"collector thresholds / CPython's, a dbt_oltp and a dbt_dwh build: collections "
        f"{ratios['gc_seconds']}x the seconds (target <= {TARGET_GC_RATIO}), CPU "
        f"{ratios['cpu_seconds']}x, peak RSS {ratios['peak_rss_mb']}x "
        f"(target <= {TARGET_RSS_RATIO})"
    )
    ok = ratios["gc_seconds"] <= TARGET_GC_RATIO and ratios["peak_rss_mb"] <= TARGET_RSS_RATIO
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
