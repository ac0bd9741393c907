"""The HR hiring report (`gourmand report hr`) built from hand-made HR marts in a DuckDB file:
CSV contents and order, the year filter, the mean line and the highlighted bars, an offline page
with escaped names, an empty year, and the CLI's path and errors."""

from __future__ import annotations

import csv
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from extract.reports.hr import build_hr_report
from extract.settings import get_settings, load_settings
from tests.support import make_hr_marts

# (year, department, job, q1, q2, q3, q4), deliberately not in report order. 2021: R&D <Labs> 8,
# Engineering 12, Sales 2 -> mean 22 / 3 = 7.33; Engineering and R&D <Labs> are above it.
HIRES = [
    (2021, "Sales", "Rep", 0, 1, 0, 1),
    (2021, "R&D <Labs>", "Manager", 1, 1, 2, 1),
    (2021, "Engineering", "Tester", 1, 0, 0, 1),
    (2021, "R&D <Labs>", "Analyst", 2, 0, 1, 0),
    (2021, "Engineering", "Developer", 3, 2, 4, 1),
    (2022, "Sales", "Rep", 5, 0, 0, 0),
    (2022, "Engineering", "Developer", 1, 0, 0, 0),
]
ABOVE = [
    (2022, 3, "Sales", 5),
    (2021, 1, "R&D <Labs>", 8),
    (2021, 2, "Engineering", 12),
]


def _settings(tmp_path: Path, db: Path) -> Any:
    """Settings whose warehouse is `db`, published (readers read the published build)."""
    from extract.runtime.publication import publish

    settings = load_settings({
        "GOURMAND_HOME": str(tmp_path / "home"),
        "GOURMAND_WAREHOUSE_PATH": str(db),
        "PATH": os.environ["PATH"],
    })  # fmt: skip
    if db.exists():
        publish(settings)
    return settings


def _csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


class _Svg(HTMLParser):
    """The bars, cells and mean label of the page (attribute values come back unescaped)."""

    def __init__(self) -> None:
        super().__init__()
        self.bars: list[dict[str, Any]] = []
        self.cells: list[dict[str, Any]] = []
        self.mean_label = ""
        self.mean_lines = 0
        self._in_label = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "rect" and "bar" in classes:
            self.bars.append(a)
        if tag == "rect" and "cell" in classes:
            self.cells.append(a)
        if tag == "line" and "mean" in classes:
            self.mean_lines += 1
        self._in_label = tag == "text" and "mean-label" in classes

    def handle_data(self, data: str) -> None:
        if self._in_label:
            self.mean_label += data
            self._in_label = False


def _parse(index: Path) -> _Svg:
    parser = _Svg()
    parser.feed(index.read_text(encoding="utf-8"))
    return parser


def test_csv_files_hold_the_year_in_order(tmp_path: Path):
    db = make_hr_marts(tmp_path / "wh.duckdb", HIRES, ABOVE)
    out = tmp_path / "out"
    index = build_hr_report(_settings(tmp_path, db), 2021, out)
    assert index == out / "index.html" and index.exists()
    assert _csv(out / "hr_hires_by_quarter_2021.csv") == [
        ["year", "department", "job", "q1", "q2", "q3", "q4"],
        ["2021", "Engineering", "Developer", "3", "2", "4", "1"],
        ["2021", "Engineering", "Tester", "1", "0", "0", "1"],
        ["2021", "R&D <Labs>", "Analyst", "2", "0", "1", "0"],
        ["2021", "R&D <Labs>", "Manager", "1", "1", "2", "1"],
        ["2021", "Sales", "Rep", "0", "1", "0", "1"],
    ]
    assert _csv(out / "hr_departments_above_mean_2021.csv") == [
        ["year", "department_id", "department", "hired"],
        ["2021", "2", "Engineering", "12"],
        ["2021", "1", "R&D <Labs>", "8"],
    ]
    # the other year stays out, and gets its own files
    build_hr_report(_settings(tmp_path, db), 2022, out)
    assert _csv(out / "hr_hires_by_quarter_2022.csv")[1:] == [
        ["2022", "Engineering", "Developer", "1", "0", "0", "0"],
        ["2022", "Sales", "Rep", "5", "0", "0", "0"],
    ]
    assert _csv(out / "hr_departments_above_mean_2022.csv")[1:] == [["2022", "3", "Sales", "5"]]
    assert len(_csv(out / "hr_hires_by_quarter_2021.csv")) == 6  # not overwritten


def test_charts_mean_line_and_highlighted_bars(tmp_path: Path):
    db = make_hr_marts(tmp_path / "wh.duckdb", HIRES, ABOVE)
    index = build_hr_report(_settings(tmp_path, db), 2021, tmp_path / "out")
    page = index.read_text(encoding="utf-8")
    assert "<h1>Hiring in 2021</h1>" in page
    assert 'id="hires-by-quarter"' in page and 'id="departments-above-mean"' in page
    svg = _parse(index)
    assert svg.mean_label == "mean 7.3" and svg.mean_lines == 1
    # bars sorted by hires, the mart's departments highlighted with their own fill
    bars = [(b["data-department"], "above" in b["class"].split(), b["fill"]) for b in svg.bars]
    assert [(d, hot) for d, hot, _ in bars] == [
        ("Engineering", True),
        ("R&D <Labs>", True),
        ("Sales", False),
    ]
    assert bars[0][2] == bars[1][2] != bars[2][2]
    heights = [float(b["height"]) for b in svg.bars]
    assert heights[0] > heights[1] > heights[2] > 0
    # the heatmap: 3 departments x 4 quarters, summed over jobs (Engineering Q1 = 3 + 1)
    assert len(svg.cells) == 12
    assert "Engineering Q1: 4 hired" in page and "R&amp;D &lt;Labs&gt; Q3: 3 hired" in page
    # escaped everywhere, no raw name and no address of any kind (not even SVG's xmlns)
    assert "R&D <Labs>" not in page and "R&amp;D &lt;Labs&gt;" in page
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    assert "href='hr_hires_by_quarter_2021.csv'" in page
    assert "href='hr_departments_above_mean_2021.csv'" in page


def test_the_mean_is_over_departments_that_hired(tmp_path: Path):
    # 2022: Sales 5, Engineering 1 (R&D <Labs> hired nobody and does not count): mean 3.0
    db = make_hr_marts(tmp_path / "wh.duckdb", HIRES, ABOVE)
    svg = _parse(build_hr_report(_settings(tmp_path, db), 2022, tmp_path / "out"))
    assert svg.mean_label == "mean 3.0"
    assert [(b["data-department"], b["class"]) for b in svg.bars] == [
        ("Sales", "bar above"),
        ("Engineering", "bar"),
    ]
    assert len(svg.cells) == 8


def test_a_year_without_hires_says_so(tmp_path: Path):
    db = make_hr_marts(tmp_path / "wh.duckdb", HIRES, ABOVE)
    out = tmp_path / "out"
    index = build_hr_report(_settings(tmp_path, db), 2020, out)
    page = index.read_text(encoding="utf-8")
    assert "no hires in 2020" in page
    assert "<svg" not in page and "http" not in page
    assert _csv(out / "hr_hires_by_quarter_2020.csv") == [
        ["year", "department", "job", "q1", "q2", "q3", "q4"]
    ]
    assert _csv(out / "hr_departments_above_mean_2020.csv") == [
        ["year", "department_id", "department", "hired"]
    ]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Point the process's settings at a home in tmp_path and a warehouse file given later."""

    from extract.runtime.publication import publish

    def apply(db: Path) -> Path:
        monkeypatch.delenv("GOURMAND_WAREHOUSE", raising=False)
        monkeypatch.setenv("GOURMAND_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("GOURMAND_WAREHOUSE_PATH", str(db))
        get_settings.cache_clear()
        if db.exists():
            publish(get_settings())
        return (tmp_path / "home").resolve()

    get_settings.cache_clear()
    yield apply
    get_settings.cache_clear()


def test_cli_writes_the_report_and_prints_its_path(tmp_path: Path, cli_env):
    from extract.cli import main

    home = cli_env(make_hr_marts(tmp_path / "wh.duckdb", HIRES, ABOVE))
    result = CliRunner().invoke(main, ["report", "hr", "--year", "2021"])
    assert result.exit_code == 0, result.output
    index = home / "reports" / "hr" / "index.html"
    assert result.stdout.strip() == str(index)
    assert (home / "reports" / "hr" / "hr_hires_by_quarter_2021.csv").exists()

    out = tmp_path / "elsewhere"
    result = CliRunner().invoke(main, ["report", "hr", "--year", "2022", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out / "index.html")
    assert "mean 3.0" in (out / "index.html").read_text(encoding="utf-8")

    result = CliRunner().invoke(main, ["report", "hr"])
    assert result.exit_code == 2 and "--year" in result.output


def test_cli_says_when_the_warehouse_or_the_marts_are_missing(tmp_path: Path, cli_env):
    import duckdb

    from extract.cli import main

    home = cli_env(tmp_path / "missing.duckdb")
    result = CliRunner().invoke(main, ["report", "hr", "--year", "2021"])
    assert result.exit_code == 2
    assert "no warehouse yet" in result.stderr and not result.stdout
    assert not (home / "reports").exists()

    duckdb.connect(str(tmp_path / "bare.duckdb")).close()
    cli_env(tmp_path / "bare.duckdb")
    result = CliRunner().invoke(main, ["report", "hr", "--year", "2021"])
    assert result.exit_code == 2
    assert "hr_hires_by_quarter" in result.stderr and "build the warehouse" in result.stderr
    assert not (home / "reports").exists()
