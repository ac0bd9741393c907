"""Start-up cost of the code location: what every Dagster process (webserver, daemon, each run)
pays before it does anything.

Measured in fresh interpreters, medians of 3: importing `dagster_project.definitions` (the dbt
manifests come from `make setup`, never parsed here) and `dagster definitions validate` of the
workspace, with DAGSTER_HOME set to a home's Dagster folder as `make dev` and every run have it
(without one, the CLI first creates a throw-away SQLite instance, ~0.5 s that no Dagster
process of the project pays). Target: validate <= 5 s on this machine; printed as a ratio to
the target, and the script exits 1 when it is missed. Run with `make bench` (or
`python -m bench.startup`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("results") / "startup.json"
TARGET_SECONDS = 5.0
RUNS = 3


def _seconds(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def main() -> int:
    from dagster_project.lib.home import ensure_dagster_home
    from extract.settings import load_settings

    bin_dir = Path(sys.executable).parent
    load = [sys.executable, "-c", "import dagster_project.definitions"]
    validate = [str(bin_dir / "dagster"), "definitions", "validate", "-w", "workspace.yaml"]
    with tempfile.TemporaryDirectory(prefix="gourmand-bench-startup-") as home:
        settings = load_settings({"GOURMAND_HOME": home, "PATH": os.environ["PATH"]})
        env = {**os.environ, "DAGSTER_HOME": str(ensure_dagster_home(settings))}
        # warm the OS file cache and create the instance's storage once; every measured run
        # then pays the same
        _seconds(load)
        _seconds(validate, env)
        figures = {
            "load_definitions_s": statistics.median(_seconds(load) for _ in range(RUNS)),
            "definitions_validate_s": statistics.median(
                _seconds(validate, env) for _ in range(RUNS)
            ),
        }
    figures["validate_vs_target"] = figures["definitions_validate_s"] / TARGET_SECONDS
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2))
    print(f"import dagster_project.definitions   {figures['load_definitions_s']:.2f} s")
    print(f"dagster definitions validate         {figures['definitions_validate_s']:.2f} s")
    ok = figures["validate_vs_target"] <= 1.0
    print(f"validate / 5 s target                {figures['validate_vs_target']:.2f} "
          f"({'met' if ok else 'MISSED'})")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
