"""The two dbt projects, their manifests prepared once (by `make setup`), and the CLI resource.

Loading the definitions never parses dbt: the manifest comes from `dbt parse` at setup time. A
checkout that skipped setup gets it parsed once when the definitions load, with a message saying
so. Importing this module does nothing of the kind (nor reads a setting).

dbt runs inside the Dagster step's process (extract.runtime.dbt_invoke.DbtThread), not as a `dbt`
subprocess: that saves dbt's start-up, 4-5 s of every one of the daily job's four builds (how:
dagster_project/lib/upstream.py).

Each dbt invocation keeps its artifacts in the home (`<home>/dbt/<project>/runs/…`) and starts
from the home's newest partial-parse file, so only the first build of a home parses the project
in full. That first build starts from the checkout's `target/partial_parse.msgpack`, which
`make setup` parses with the default home's connection: dbt parses everything again when the
profile's connection (port, database, DuckDB path) differs, as it does in any other home, ~7 s
each time.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

from dagster_project.lib.upstream import (
    LeanDbtCliResource,
    invocation_environment,
    run_dbt_in_process,
)
from extract.runtime.dbt_invoke import dbt_environment, dbt_write_lock
from extract.settings import Settings

DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


def profiles_dir(project_root: Path) -> Path:
    return project_root / "profiles"


@cache
def dbt_project(project_root: Path, folder: str) -> DbtProject:
    """A dbt project of the checkout (dbt_oltp, dbt_dwh), its manifest parsed once if `make
    setup` has not (called when the definitions load, never at import)."""
    project_dir = project_root / folder
    manifest = project_dir / "target" / "manifest.json"
    if not manifest.exists():
        print(
            f"{folder}: no manifest yet, running dbt deps and parse once (make setup does this)",
            file=sys.stderr,
        )
        # deps first: it links dbt_shared/, the package both projects list, into dbt_packages/
        for command in ("deps", "parse"):
            subprocess.run(
                [DBT_EXECUTABLE, command, "--quiet", "--project-dir", str(project_dir),
                 "--profiles-dir", str(profiles_dir(project_root))],
                check=True,
            )  # fmt: skip
    return DbtProject(project_dir=project_dir, profiles_dir=profiles_dir(project_root))


PARTIAL_PARSE = "partial_parse.msgpack"
# invocation folders kept per project in a home (each build's compiled SQL and dbt.log)
KEPT_INVOCATIONS = 20


class HomeDbtCliResource(LeanDbtCliResource):
    """dagster-dbt's CLI resource (without the two costs upstream.py names), run in process,
    with artifacts and partial parsing per home."""

    def build(self, args: list[str], *, context: Any, settings: Settings) -> Iterator[Any]:
        """The events of `dbt <args>` for this asset step, run from the home's parse state, with
        the connections of `settings` (profiles/profiles.yml reads them through env_var())."""
        runs = settings.home / "dbt" / Path(self.project_dir).name
        target = runs / "runs" / f"{context.run.run_id[:8]}-{uuid.uuid4().hex[:8]}"
        target.mkdir(parents=True)
        kept = runs / PARTIAL_PARSE
        # the home's newest parse state, else the checkout's (`make setup`)
        start = kept if kept.exists() else Path(self.project_dir) / "target" / PARTIAL_PARSE
        if start.exists():
            shutil.copy(start, target / PARTIAL_PARSE)
        # one writer of the OLTP model (or the warehouse) per home, whoever starts it
        with dbt_write_lock(settings, self.project_dir, args, context.log.info):
            # the environment reaches InProcessDbtCliInvocation.run, called by cli() itself
            with invocation_environment(dbt_environment(settings)):
                # no manifest.json or run_results.json: dagster-dbt reads neither (the events
                # carry the results), and dbt writes the whole manifest twice per call (~1 s of
                # a dbt_dwh build, profiled)
                invocation = self.cli(
                    [*args, "--no-write-json"], context=context, target_path=target
                )
            yield from invocation.stream()
        # the newest parse state of this home: written beside, then renamed over (atomic)
        if (target / PARTIAL_PARSE).exists():
            beside = runs / f".{PARTIAL_PARSE}.{os.getpid()}"
            shutil.copy(target / PARTIAL_PARSE, beside)
            beside.replace(kept)
        _prune(runs / "runs")


def _prune(folder: Path) -> None:
    """Keep the newest KEPT_INVOCATIONS invocation folders."""
    folders = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[KEPT_INVOCATIONS:]:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(old)


def dbt_cli(project: DbtProject) -> HomeDbtCliResource:
    run_dbt_in_process()
    return HomeDbtCliResource(
        project_dir=project,  # type: ignore[arg-type]  # dagster-dbt's validator takes a DbtProject
        profiles_dir=str(project.profiles_dir),
        dbt_executable=DBT_EXECUTABLE,
    )
