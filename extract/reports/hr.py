"""The HR hiring-KPI report for one year: the two HR marts as CSV files and an `index.html` that
opens offline (inline SVG drawn here, no script, no external URL), for `gourmand report hr`.

Everything comes from `marts.hr_hires_by_quarter` and `marts.hr_departments_above_mean`, read
through `extract.runtime.query`, so DuckDB and the Postgres warehouse give the same report."""

from __future__ import annotations

import csv
import html
from pathlib import Path
from typing import Any

from extract.runtime.query import run_query
from extract.settings import Settings

QUARTERS = ("q1", "q2", "q3", "q4")
# Orders are fixed in SQL so the CSV files, the tables and the heatmap's rows agree.
HIRES_SQL = (
    "SELECT year, department, job, q1, q2, q3, q4 FROM marts.hr_hires_by_quarter "
    "WHERE year = {year} ORDER BY department, job"
)
ABOVE_SQL = (
    "SELECT year, department_id, department, hired FROM marts.hr_departments_above_mean "
    "WHERE year = {year} ORDER BY hired DESC, department, department_id"
)
LOW, HIGH = (239, 243, 255), (8, 81, 156)  # the heatmap's colours for 0 and for the peak
BAR, BAR_ABOVE = "#9ecae1", "#e6550d"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
svg { display: block; margin: .5rem 0 1.5rem; font-size: 12px; }
table { border-collapse: collapse; margin-bottom: 2rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
.legend span { display: inline-block; width: .8em; height: .8em; margin: 0 .3em 0 1em; }
"""


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _write_csv(path: Path, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def _shade(t: float) -> str:
    """A colour between LOW (t = 0) and HIGH (t = 1): darker is more hires."""
    r, g, b = (round(lo + (hi - lo) * t) for lo, hi in zip(LOW, HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _heatmap(per_department: dict[str, list[int]]) -> str:
    cell_w, cell_h, top = 64, 28, 22
    # SVG text does not wrap or size itself: leave room for the longest name (~7 px a letter)
    label_w = 16 + 7 * max(len(d) for d in per_department)
    width, height = label_w + 4 * cell_w, top + cell_h * len(per_department)
    peak = max(max(counts) for counts in per_department.values()) or 1
    parts = [
        f'<svg id="hires-by-quarter" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="hires per department and quarter">'
    ]
    for col, quarter in enumerate(QUARTERS):
        x = label_w + col * cell_w + cell_w // 2
        parts.append(f'<text x="{x}" y="15" text-anchor="middle">{quarter.upper()}</text>')
    for row, (department, counts) in enumerate(per_department.items()):
        y, name = top + row * cell_h, _esc(department)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + cell_h // 2 + 4}" text-anchor="end">{name}</text>'
        )
        for col, n in enumerate(counts):
            x, t = label_w + col * cell_w, n / peak
            parts.append(
                f'<rect class="cell" x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{_shade(t)}"><title>{name} Q{col + 1}: {n} hired</title></rect>'
                f'<text class="count" x="{x + cell_w // 2 - 1}" y="{y + cell_h // 2 + 4}" '
                f'text-anchor="middle" fill="{"#fff" if t > 0.55 else "#222"}">{n}</text>'
            )
    return "".join(parts) + "</svg>"


def _bars(totals: list[tuple[str, int]], above: set[str], mean: float) -> str:
    bar_w, gap, plot_h, top, right = 40, 14, 240, 20, 90
    # department names run down-left at 45 degrees from under their bars (~5 px a letter across
    # and down): room below for the longest, and on the left for the first one's
    bottom = 20 + 5 * max(len(d) for d, _ in totals)
    left = max(40, 5 * len(totals[0][0]) - gap - bar_w // 2 + 8)
    width = left + gap + len(totals) * (bar_w + gap) + right
    height = top + plot_h + bottom
    scale = plot_h / (max(max(n for _, n in totals), mean) or 1)
    base = top + plot_h
    parts = [
        f'<svg id="departments-above-mean" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="hires per department">',
        f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#888"/>',
    ]
    for i, (department, n) in enumerate(totals):
        x, h, name = left + gap + i * (bar_w + gap), round(n * scale, 1), _esc(department)
        hot = department in above
        tip = f"{name}: {n} hired" + (", above the mean" if hot else "")
        parts.append(
            f'<rect class="bar{" above" if hot else ""}" data-department="{name}" x="{x}" '
            f'y="{base - h}" width="{bar_w}" height="{h}" fill="{BAR_ABOVE if hot else BAR}">'
            f"<title>{tip}</title></rect>"
            f'<text x="{x + bar_w // 2}" y="{base - h - 4}" text-anchor="middle">{n}</text>'
            f'<text x="{x + bar_w // 2}" y="{base + 14}" text-anchor="end" '
            f'transform="rotate(-45 {x + bar_w // 2} {base + 14})">{name}</text>'
        )
    y = round(base - mean * scale, 1)
    parts.append(
        f'<line class="mean" x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" stroke="#333" '
        f'stroke-width="1.5" stroke-dasharray="6 4"/>'
        f'<text class="mean-label" x="{width - right + 6}" y="{y + 4}">mean {mean:.1f}</text>'
    )
    return "".join(parts) + "</svg>"


def _table(table_id: str, columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{v}</td>' if isinstance(v, int) else f"<td>{_esc(v)}</td>" for v in r
        )
        + "</tr>"
        for r in rows
    )
    return f'<table id="{table_id}"><tr>{head}</tr>{body}</table>'


def build_hr_report(settings: Settings, year: int, out_dir: Path) -> Path:
    """Write the year's CSV files and index.html into out_dir; returns index.html's path.

    Raises extract.runtime.query.QueryError when the warehouse or the marts are not there;
    nothing is written then."""
    year = int(year)  # formatted into the SQL: run_query takes no parameters
    hires_cols, hires = run_query(
        HIRES_SQL.format(year=year), target="warehouse", settings=settings
    )
    above_cols, above = run_query(
        ABOVE_SQL.format(year=year), target="warehouse", settings=settings
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    hires_csv = f"hr_hires_by_quarter_{year}.csv"
    above_csv = f"hr_departments_above_mean_{year}.csv"
    _write_csv(out_dir / hires_csv, hires_cols, hires)
    _write_csv(out_dir / above_csv, above_cols, above)

    # hires per department and quarter, summed over jobs, in the mart's department order
    per_department: dict[str, list[int]] = {}
    quarter_at = [hires_cols.index(q) for q in QUARTERS]
    department_at = hires_cols.index("department")
    for row in hires:
        counts = per_department.setdefault(row[department_at], [0, 0, 0, 0])
        for i, at in enumerate(quarter_at):
            counts[i] += int(row[at] or 0)

    lines = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Gourmand HR hiring {year}</title><style>{STYLE}</style></head><body>",
        f"<h1>Hiring in {year}</h1>",
    ]
    if not per_department:
        lines.append(f"<p id='empty'>There were <strong>no hires in {year}</strong>: the HR marts "
                     "have no rows for this year, so there is nothing to chart.</p>")  # fmt: skip
    else:
        totals = sorted(((d, sum(c)) for d, c in per_department.items()), key=lambda t: -t[1])
        # the mart's mean: hires per department over the departments that hired this year
        mean = sum(n for _, n in totals) / len(totals)
        flagged = {r[above_cols.index("department")] for r in above}
        lines += [
            "<h2>Hires per department and quarter</h2>",
            "<p>Summed over jobs; darker cells are more hires.</p>",
            _heatmap(per_department),
            "<h2>Hires per department</h2>",
            f"<p class='legend'>Dashed line: the mean, {mean:.1f} hires per department."
            f"<span style='background:{BAR_ABOVE}'></span>above the mean "
            f"(marts.hr_departments_above_mean)<span style='background:{BAR}'></span>"
            "the others</p>",
            _bars(totals, flagged, mean),
            f"<h2>Departments above the mean ({len(above)})</h2>",
            _table("departments-above-mean-table", above_cols, above),
            f"<h2>Hires per job, department and quarter ({len(hires):,} rows)</h2>",
            _table("hires-by-quarter-table", hires_cols, hires),
        ]
    lines += [
        "<h2>Downloads</h2><ul>",
        f"<li><a href='{hires_csv}'>{hires_csv}</a></li>",
        f"<li><a href='{above_csv}'>{above_csv}</a></li>",
        "</ul></body></html>",
    ]
    index = out_dir / "index.html"
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index
