"""The house rules of the package layout (docs/architecture.md, "Layout"): what each room may
import. Imports are read from the source (every import statement, at any depth), not executed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT


def _imports(path: Path) -> set[str]:
    """Every module an import statement in `path` names (absolute imports only: there are no
    relative ones in this project)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import"
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(folder: str) -> list[Path]:
    found = sorted((ROOT / folder).rglob("*.py"))
    assert found, folder
    return found


@pytest.mark.parametrize("room", ["extract/sources", "extract/lake", "extract/runtime",
                                  "extract/warehouse"])  # fmt: skip
def test_sources_lake_runtime_and_warehouse_never_import_dagster(room):
    offending = {
        str(path.relative_to(ROOT)): sorted(
            n for n in _imports(path) if n.split(".")[0].startswith("dagster")
        )
        for path in _modules(room)
    }
    assert {k: v for k, v in offending.items() if v} == {}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    """Whether module `name` is one of `prefixes` or inside one of them."""
    return any(name == p or name.startswith(f"{p}.") for p in prefixes)


def _ours(path: Path) -> set[str]:
    """The modules of the package (`extract.*`) that `path` imports."""
    return {n for n in _imports(path) if _within(n, ("extract",)) and n != "extract"}


# What a room may import of the package: itself and the rooms below it.
BELOW = {
    # shared plumbing: the settings and nothing above it. The BigQuery client is here, as the
    # Postgres connections are, so the read-only door (query.py) needs nothing of the warehouse;
    # the sandbox is the entry points' business (extract/cli.py)
    "extract/runtime": ("extract.runtime", "extract.settings"),
    # below the warehouse, which loads from it: nothing made from the warehouse lives here (the
    # data extracts are in extract/reports)
    "extract/lake": ("extract.lake", "extract.runtime", "extract.settings"),
}


@pytest.mark.parametrize("room", sorted(BELOW))
def test_a_room_imports_only_itself_and_the_rooms_below_it(room):
    offending = {
        str(path.relative_to(ROOT)): sorted(n for n in _ours(path) if not _within(n, BELOW[room]))
        for path in _modules(room)
    }
    assert {k: v for k, v in offending.items() if v} == {}


def test_the_data_extracts_are_made_with_the_reports_not_kept_in_the_lake():
    """The extracts are files made from the warehouse for people to download (the read API
    serves them at /v1/extracts), beside the dashboards site: extract/reports/extracts.py."""
    from extract.reports.extracts import list_extracts, write_extracts

    assert callable(write_extracts) and callable(list_extracts)
    assert sorted(p.name for p in (ROOT / "extract" / "lake").glob("extract*.py")) == []


def test_the_sandbox_imports_no_client_code():
    """The sandbox stands in for the real services: it may import itself and the settings (to
    start as a home's process), nothing of the client it serves."""
    allowed = ("extract.sandbox", "extract.settings")
    offending = {
        str(path.relative_to(ROOT)): sorted(
            n for n in _imports(path)
            if n.startswith("extract") and not n.startswith(allowed) and n != "extract"
        )
        for path in _modules("extract/sandbox")
    }  # fmt: skip
    assert {k: v for k, v in offending.items() if v} == {}


# Who imports the sandbox: itself, and the entry points that decide how a process reaches it
# (handed to the sources through extract/sources/endpoints.py's `use_sandbox`): the `gourmand`
# command, which starts it on demand, counts its users and stops it (extract/cli.py); `make
# demo`, which starts it up front and fetches its HR drop (extract/demo.py); Dagster's code
# location, where the UI's and the daemon's runs and a multiprocess run's steps begin
# (dagster_project/definitions.py). Tests and benchmarks start their own.
SANDBOX_IMPORTERS = (
    "extract/sandbox/", "extract/cli.py", "extract/demo.py", "dagster_project/definitions.py",
)  # fmt: skip


@pytest.mark.parametrize("package", ["extract", "dagster_project"])
def test_no_client_code_imports_the_sandbox(package):
    """Sources, the runtime and every other room get the sandbox's address from the settings or
    from the entry point, never by starting it themselves."""
    offending = {
        str(path.relative_to(ROOT)): sorted(
            n for n in _imports(path) if _within(n, ("extract.sandbox",))
        )
        for path in _modules(package)
        if not str(path.relative_to(ROOT)).startswith(SANDBOX_IMPORTERS)
    }
    assert {k: v for k, v in offending.items() if v} == {}


def test_the_sandbox_serves_each_year_under_the_id_the_client_asks_for():
    from extract.sandbox.socrata import DATASET_IDS
    from extract.sources.socrata.datasets import LA311_DATASETS

    assert DATASET_IDS == LA311_DATASETS


def test_the_rule_checker_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from dagster import asset\n    import extract.pipelines\n")
    assert {"dagster", "dagster.asset", "extract.pipelines"} <= _imports(module)


def test_sources_keep_the_dlt_sections_they_had_as_modules():
    """dlt keys a source's config and pipeline state by its section (its module's name unless
    given): a source that became a package keeps the section existing homes were loaded under."""
    from datetime import date

    from extract.sources import census, socrata, states, yelp
    from extract.sources.rest import HttpPolicy

    http = HttpPolicy(timeout=1, max_attempts=1, backoff=0, max_delay=0)
    built = {
        "states": states.states_source("http://x", http=http),
        "census": census.census_source("http://x", http=http),
        "yelp": yelp.yelp_source("http://x", date(2024, 1, 1), [], http=http),
        "socrata": socrata.socrata_source("http://x", mode="full", years=[2024], http=http),
    }
    assert {name: source.section for name, source in built.items()} == {
        name: name for name in built
    }


# What sits beside the sources in extract/sources/ and is none: the shared conventions and the
# registry. HR is a source without dlt: its rows are pushed (a drop folder, the ingest API) and
# upserted with SQL, never pulled by the runner (extract/sources/registry.py says why it is not
# in the registry).
SHARED_SOURCE_MODULES = ("rest.py", "accounting.py", "endpoints.py", "spec.py", "registry.py")
NOT_DLT_SOURCES = ("hr",)


def _is_dlt_source(node: ast.AST) -> bool:
    """A function decorated `@dlt.source` or `@dlt.source(...)`."""
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if ast.unparse(target) == "dlt.source":
            return True
    return False


def _dlt_sources(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text(), str(path))
    return [node for node in ast.walk(tree) if _is_dlt_source(node)]  # type: ignore[misc]


def _settings_parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The parameters of `function` annotated with the Settings type (in any form)."""
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return [
        a.arg
        for a in every
        if a.annotation is not None
        and any(
            isinstance(n, ast.Name)
            and n.id == "Settings"
            or isinstance(n, ast.Attribute)
            and n.attr == "Settings"
            or isinstance(n, ast.Constant)
            and "Settings" in str(n.value)
            for n in ast.walk(a.annotation)
        )
    ]


def test_every_source_is_a_package_whose_init_defines_its_dlt_source():
    """dlt's verified-sources shape: `extract/sources/<name>/__init__.py` holds the `@dlt.source`
    function, its helpers sit beside it; one package per source the registry knows."""
    from extract.sources.registry import SOURCES

    folder = ROOT / "extract" / "sources"
    entries = sorted(
        p.name for p in folder.iterdir()
        if p.name not in SHARED_SOURCE_MODULES and p.name not in NOT_DLT_SOURCES
        and p.name not in ("__init__.py", "__pycache__")
    )  # fmt: skip
    assert [e for e in entries if not (folder / e).is_dir()] == []  # no source is a module
    without = [e for e in entries if not _dlt_sources(folder / e / "__init__.py")]
    assert without == []
    assert set(entries) == set(SOURCES)
    # and a dlt source function lives in its package's __init__ only, never in a helper
    elsewhere = [
        str(path.relative_to(ROOT)) for path in _modules("extract/sources")
        if path.name != "__init__.py" and _dlt_sources(path)
    ]  # fmt: skip
    assert elsewhere == []


def test_no_dlt_source_takes_the_settings():
    """A source's configuration comes through its signature as plain values (base URL, key,
    locations, the HTTP policy); the registry reads them from the settings, in one place."""
    offending = {
        f"{path.relative_to(ROOT)}:{function.name}": _settings_parameters(function)
        for path in _modules("extract/sources")
        for function in _dlt_sources(path)
    }
    assert offending, "no dlt source found"
    assert {k: v for k, v in offending.items() if v} == {}


def test_the_source_rules_see_what_they_check(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import dlt\n"
        "@dlt.source(name='a')\n"
        "def a(settings: Settings, url: str): ...\n"
        "@dlt.source\n"
        "def b(*, s: 'extract.settings.Settings | None' = None): ...\n"
        "@dlt.resource\n"
        "def c(settings: Settings): ...\n"
        "def d(settings: Settings): ...\n"
    )
    found = _dlt_sources(module)
    assert [f.name for f in found] == ["a", "b"]
    assert [_settings_parameters(f) for f in found] == [["settings"], ["s"]]


def test_the_runner_never_asks_a_sources_name():
    """What differs between sources is in each source's SPEC (extract/sources/spec.py)."""
    from extract.pipelines import SOURCES

    runner = (ROOT / "extract" / "pipelines.py").read_text()
    for name in SOURCES:
        assert f'"{name}"' not in runner, name
    assert "name ==" not in runner and "name !=" not in runner
    assert set(SOURCES) == {"states", "census", "yelp", "socrata"}


def test_only_upstream_py_reaches_below_dagsters_public_api():
    """dagster_project/lib/upstream.py holds every import from `dagster._…` and
    `dagster_dbt.core…` (each with its upstream issue and a test of the pinned behaviour)."""
    allowed = ROOT / "dagster_project" / "lib" / "upstream.py"
    offending = {
        str(path.relative_to(ROOT)): sorted(
            n for n in _imports(path)
            if n.startswith(("dagster._", "dagster_dbt.core", "dagster_dbt.dbt_cli"))
        )
        for folder in ("extract", "dagster_project", "expectations")
        for path in _modules(folder)
        if path != allowed
    }  # fmt: skip
    assert {k: v for k, v in offending.items() if v} == {}


def test_the_slowest_files_named_for_the_schedule_exist():
    """tests/conftest.py orders the suite by SLOWEST_FILES: a renamed file would silently fall
    back to collection order."""
    from tests.conftest import SLOWEST_FILES

    assert [name for name in SLOWEST_FILES if not (ROOT / "tests" / name).is_file()] == []
