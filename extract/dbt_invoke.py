"""Running one of the dbt projects as a subprocess with the project's settings.

Dagster runs dbt through dagster-dbt's resource; this is for everything else that needs a dbt
invocation and its run results (the tests and the benchmarks), so they reach the same database
the same way an analyst's `dbt build --profiles-dir ../profiles` does: through the GOURMAND_PG_*
variables the shared profiles read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extract.settings import Settings
from extract.warehouse import dbt_environment

DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


@dataclass(frozen=True)
class DbtRun:
    returncode: int
    stdout: str
    seconds: float
    run_results: dict[str, Any]

    def node_seconds(self, resource_type: str = "model") -> float:
        """Seconds spent executing nodes of one type: the run without dbt's start-up."""
        return sum(
            r["execution_time"]
            for r in self.run_results.get("results", [])
            if r["unique_id"].startswith(f"{resource_type}.")
        )


def run_dbt(
    project: str, args: list[str], settings: Settings, *, target_path: Path | None = None
) -> DbtRun:
    """`dbt <args>` in `project` (dbt_oltp or dbt_dwh); target/logs go to `target_path` if given
    (so concurrent runs do not share dbt's target folder)."""
    env = {**os.environ, **dbt_environment(settings)}
    if target_path is not None:
        env["DBT_TARGET_PATH"] = str(target_path / "target")
        env["DBT_LOG_PATH"] = str(target_path / "logs")
    project_dir = settings.project_root / project
    started = time.perf_counter()
    result = subprocess.run(
        [DBT_EXECUTABLE, *args, "--project-dir", str(project_dir),
         "--profiles-dir", str(settings.project_root / "profiles")],
        env=env, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    results_file = Path(env.get("DBT_TARGET_PATH") or project_dir / "target") / "run_results.json"
    run_results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return DbtRun(result.returncode, result.stdout, seconds, run_results)
