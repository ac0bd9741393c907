"""The two dbt projects, their manifests prepared once (by `make setup`), and the CLI resource.

Loading the definitions never parses dbt: the manifest comes from `dbt parse` at setup time. A
checkout that skipped setup gets it parsed once here, with a message saying so.

dbt runs inside the Dagster step's process (extract.runtime.dbt_invoke.DbtThread), not as a `dbt`
subprocess: that saves dbt's start-up, 4-5 s of every one of the daily job's four builds.

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
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from functools import cached_property
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import dagster_dbt.core.resource
from dagster import DagsterExecutionInterruptedError, get_dagster_logger
from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from packaging import version

from extract.runtime.dbt_invoke import DbtThread, dbt_write_lock
from extract.settings import get_settings

logger = get_dagster_logger()
_settings = get_settings()
PROFILES_DIR = _settings.project_root / "profiles"
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


def _project(folder: str) -> DbtProject:
    project_dir = _settings.project_root / folder
    manifest = project_dir / "target" / "manifest.json"
    if not manifest.exists():
        print(
            f"{folder}: no manifest yet, running dbt parse once (make setup does this)",
            file=sys.stderr,
        )
        subprocess.run(
            [DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(project_dir),
             "--profiles-dir", str(PROFILES_DIR)],
            check=True,
        )  # fmt: skip
    return DbtProject(project_dir=project_dir, profiles_dir=PROFILES_DIR)


oltp_project = _project("dbt_oltp")
dwh_project = _project("dbt_dwh")


class InProcessDbtCliInvocation(DbtCliInvocation):
    """dagster-dbt's invocation of the dbt CLI, with dbt run in this process: the same command
    line, environment, JSON events, errors and exit code, without a `dbt` process to start.

    dagster-dbt 0.29 has no hook for how dbt is started (DbtCliResource.cli calls
    DbtCliInvocation.run, which starts a subprocess), so the resource module's name for the
    class is pointed at this one below; the pin in pyproject.toml keeps the two in step, and
    tests/e2e/test_asset_graph.py checks that a build runs here."""

    @classmethod
    def run(  # type: ignore[override]
        cls,
        args: Sequence[str],
        env: dict[str, str],
        dbt_project: DbtProject | None = None,
        **fields: Any,
    ) -> DbtCliInvocation:
        # dagster-dbt's own run also copies the checkout's partial-parse file into the target
        # path: HomeDbtCliResource.build puts the home's (or the checkout's) there
        invocation = cls(process=DbtThread(list(args), env), project=dbt_project, **fields)  # type: ignore[arg-type]
        logger.info(f"Running dbt command in process: `{invocation.dbt_command}`.")
        return invocation

    def _stream_stdout(self) -> Iterator[str | dict[str, Any]]:
        process: DbtThread = self.process  # type: ignore[assignment]
        try:
            for record in process.events():
                if record["info"]["level"] == "error":
                    self._error_messages.append(record["info"]["msg"])
                yield record
        except DagsterExecutionInterruptedError:
            # as dagster-dbt does for its subprocess: interrupt dbt, give it time to cancel
            process.send_signal(signal.SIGINT)
            process.wait(timeout=self.termination_timeout_seconds)
            raise


dagster_dbt.core.resource.DbtCliInvocation = InProcessDbtCliInvocation  # type: ignore[misc]


PARTIAL_PARSE = "partial_parse.msgpack"
# invocation folders kept per project in a home (manifest, run results, logs of each build)
KEPT_INVOCATIONS = 20


class HomeDbtCliResource(DbtCliResource):
    """dagster-dbt's CLI resource, minus two costs per invocation this project does not need,
    with artifacts and partial parsing per home.

    - `_cli_version` runs `dbt --version` in a subprocess (~4 s here) to learn the version of the
      dbt it is about to run: it is the dbt-core installed in this environment.
    - `_initialize_dbt_core_adapter` loads dbt's profile, project and macros in the Dagster
      process (~5 s) for column metadata and row counts through the adapter; this project counts
      rows itself after dbt exits (dagster_project/lib/dbt_metadata.py), so it is not needed.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(package_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None

    def build(self, args: list[str], *, context: Any) -> Iterator[Any]:
        """The events of `dbt <args>` for this asset step, run from the home's parse state."""
        runs = get_settings().home / "dbt" / Path(self.project_dir).name
        target = runs / "runs" / f"{context.run.run_id[:8]}-{uuid.uuid4().hex[:8]}"
        target.mkdir(parents=True)
        kept = runs / PARTIAL_PARSE
        # the home's newest parse state, else the checkout's (`make setup`)
        start = kept if kept.exists() else Path(self.project_dir) / "target" / PARTIAL_PARSE
        if start.exists():
            shutil.copy(start, target / PARTIAL_PARSE)
        # one writer of the OLTP model (or the warehouse) per home, whoever starts it
        with dbt_write_lock(get_settings(), self.project_dir, args, context.log.info):
            yield from self.cli(args, context=context, target_path=target).stream()
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
    return HomeDbtCliResource(
        project_dir=project,  # type: ignore[arg-type]  # dagster-dbt's validator takes a DbtProject
        profiles_dir=str(PROFILES_DIR),
        dbt_executable=DBT_EXECUTABLE,
    )
