"""The two dbt projects, their manifests prepared once (by `make setup`), and the CLI resource.

Loading the definitions never parses dbt: the manifest comes from `dbt parse` at setup time. A
checkout that skipped setup gets it parsed once here, with a message saying so.
"""

import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from extract.settings import get_settings

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


def dbt_cli(project: DbtProject) -> DbtCliResource:
    return DbtCliResource(
        project_dir=project, profiles_dir=str(PROFILES_DIR), dbt_executable=DBT_EXECUTABLE
    )
