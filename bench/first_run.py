"""A new user's first minutes: clone the repository into a temporary folder and run `make demo`
from nothing there (issue 16).

Printed: the seconds of the install (`make .venv/.installed`: virtualenv and packages), of the
demo (`make demo` after it: dbt parse and the demo on a fresh home), and the number of warning
lines on the screen, each shown. Targets: install + demo <= 120 s, demo <= 45 s, 0 warning lines;
the script exits 1 when one is missed.

The clone is of the committed HEAD (what a user gets); `../shared` is linked beside it as in CI.
uv's download cache (~/.cache/uv) is whatever this machine has: the first install on a machine
downloads the wheels once, as it would for the user.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "first_run.json"
TARGET_TOTAL_S = 120.0
TARGET_DEMO_S = 45.0
# what a newcomer reads as a warning: the word (not the checks' severity "warn" in the quality
# table), deprecations, Python's warning categories
WARNING = re.compile(r"warning|deprecat", re.IGNORECASE)


def _env() -> dict[str, str]:
    """The user's shell: none of this project's or an active virtualenv's variables."""
    drop = ("GOURMAND_", "DAGSTER_", "DBT_", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def _run(cmd: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-4000:])
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}) in {cwd}")
    return seconds, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="Keep the temporary clone.")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gourmand-first-run-"))
    repo = work / "repo"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(repo)], check=True)
    if (ROOT.parent / "shared").exists():
        (work / "shared").symlink_to(ROOT.parent / "shared")
    try:
        install_s, install_out = _run(["make", ".venv/.installed"], repo)
        demo_s, demo_out = _run(["make", "demo"], repo)
    finally:
        # the demo leaves the clone's embedded Postgres running (and says so): stop it
        gourmand = repo / ".venv" / "bin" / "gourmand"
        if gourmand.exists():
            subprocess.run([str(gourmand), "postgres", "--stop"], cwd=repo, env=_env(),
                           capture_output=True)  # fmt: skip
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    screen = (install_out + demo_out).splitlines()
    warnings = [line for line in screen if WARNING.search(line)]
    total = install_s + demo_s
    print(f"fresh clone -> make demo finished: {total:.1f}s (target <= {TARGET_TOTAL_S:.0f}s)")
    print(f"  install (venv + packages)      {install_s:.1f}s")
    print(f"  demo (dbt parse + gourmand demo) {demo_s:.1f}s (target <= {TARGET_DEMO_S:.0f}s)")
    print(f"  screen: {len(screen)} lines, {len(warnings)} warning lines (target 0)")
    for line in warnings:
        print(f"    {line}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "install_seconds": round(install_s, 1),
        "demo_seconds": round(demo_s, 1),
        "screen_lines": len(screen),
        "warning_lines": warnings,
    }, indent=2))  # fmt: skip
    missed = total > TARGET_TOTAL_S or demo_s > TARGET_DEMO_S or warnings
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
