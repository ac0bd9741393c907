"""Importing a module does no work (issue 31): no setting read, no clock read, nothing started.
Every module of the project is imported in a fresh interpreter whose environment is empty, whose
clocks raise and whose settings loader raises; the work happens when the definitions load
(`dagster_project.definitions.defs`) or a command runs, never at import."""

from __future__ import annotations

import ast
import os
import pkgutil
import subprocess
import sys

from tests.support import ROOT

PACKAGES = ("extract", "dagster_project", "expectations")

# First the libraries the project's modules name are imported as they are (what they do at
# import is their business, and compiled ones such as pandas break on the stand-in date types
# below). Then every clock raises, the settings loader raises, reading a GOURMAND_ variable
# raises (os.environ is empty anyway: this catches a module reading one with a default), and
# the project's modules are imported one by one.
GUARD = r"""
import datetime, importlib, os, sys, time

separator = sys.argv.index("--")
for library in sys.argv[1:separator]:
    try:
        importlib.import_module(library)
    except ImportError:
        pass  # an optional extra not installed: the project module importing it says so

class ClockRead(RuntimeError):
    pass

def refuse(*args, **kwargs):
    raise ClockRead("a clock was read at import")

for name in ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "localtime",
             "gmtime", "strftime"):
    setattr(time, name, refuse)

# empty __slots__, no size change: compiled modules check the size of the types they import
class Date(datetime.date):
    __slots__ = ()
    today = classmethod(refuse)

class DateTime(datetime.datetime):
    __slots__ = ()
    now = classmethod(refuse)
    utcnow = classmethod(refuse)
    today = classmethod(refuse)

datetime.date, datetime.datetime = Date, DateTime

class Guarded(type(os.environ)):
    def __getitem__(self, key):
        if str(key).startswith("GOURMAND_"):
            raise RuntimeError(f"{key} read at import")
        return super().__getitem__(key)

os.environ = Guarded(os.environ._data, os.environ.encodekey, os.environ.decodekey,
                     os.environ.encodevalue, os.environ.decodevalue)

import extract.settings

def no_settings(*args, **kwargs):
    raise RuntimeError("the settings were read at import")

extract.settings.load_settings = no_settings
extract.settings.get_settings = no_settings

failed = []
for name in sys.argv[separator + 1:]:
    try:
        importlib.import_module(name)
    except BaseException as exc:
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print("\n".join(failed))
sys.exit(1 if failed else 0)
"""


def _libraries(modules: list[str]) -> list[str]:
    """Every module outside the project that an import statement of the project names."""
    found: set[str] = set()
    for name in modules:
        path = ROOT / name.replace(".", "/")
        source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return sorted(n for n in found if n.split(".")[0] not in (*PACKAGES, "tests", "bench"))


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        names.append(package)
        for module in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            # `python -m extract.sandbox` is a program: importing __main__ runs it
            if not module.name.endswith("__main__"):
                names.append(module.name)
    return names


def test_every_module_imports_with_no_environment_no_clock_and_no_settings():
    modules = _modules()
    assert len(modules) > 80
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", GUARD, *_libraries(modules), "--", *modules],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]


def test_the_guard_catches_a_clock_a_setting_and_a_variable_read_at_import(tmp_path):
    probes = {
        "reads_date": "from datetime import date\nSTART = date.today()\n",
        "reads_now": "import datetime\nNOW = datetime.datetime.now()\n",
        "reads_time": "import time\nSTARTED = time.time()\n",
        "reads_settings": "from extract.settings import get_settings\nHOME = get_settings().home\n",
        "reads_variable": "import os\nDELAY = os.environ.get('GOURMAND_STEP_RETRY_DELAY', '30')\n",
    }
    for name, source in probes.items():
        (tmp_path / f"{name}.py").write_text(source)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-c", GUARD, "--", *probes],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    failed = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert sorted(failed) == sorted(probes)
    assert "ClockRead" in failed["reads_date"] and "ClockRead" in failed["reads_time"]
    assert "ClockRead" in failed["reads_now"]
    assert "settings were read" in failed["reads_settings"]
    assert "GOURMAND_STEP_RETRY_DELAY read at import" in failed["reads_variable"]


def test_the_command_line_starts_without_the_sandboxs_server():
    """Every `gourmand` command imports extract.sandbox.process to find the home's sandbox. The
    package used to import its server and data generators with it: ~1 s of start-up added to
    every command (`gourmand sql "select 1"`: 0.78 s, now about 0.2 s, measured here)."""
    probe = (
        "import sys, extract.cli, extract.sandbox.process; "
        "print(sorted(m for m in sys.modules if m.startswith('extract.sandbox')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    assert "extract.sandbox.process" in out
    assert "extract.sandbox.server" not in out and "extract.sandbox.yelp" not in out, out
