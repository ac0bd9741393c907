"""Dashboards: a static site, one page per topic (businesses, LA 311, HR, quality, pipeline runs),
rebuilt after the marts. Charts are Plotly's (interactive), with Plotly's script written into the
site, so the pages open from disk or from `gourmand serve` with no network. Every chart has its
table under it and a link to that table as CSV (`data/<chart>.csv`, written beside the pages).
"""

from __future__ import annotations

import csv
import html
import io
import os
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extract.runtime.query import QueryError, Reader, reading
from extract.settings import Settings
from extract.warehouse.catalog import plain_value

TABLE_ROWS = 25  # rows shown under a chart; its CSV has all of them


@dataclass
class Chart:
    name: str  # file-safe: the CSV's name and the chart's element id
    title: str
    columns: list[str]
    rows: list[tuple[Any, ...]]
    figure: Any = None  # a plotly Figure, or None when there is no data yet


@dataclass
class Page:
    slug: str
    title: str
    about: str
    charts: list[Chart] = field(default_factory=list)


class _Data:
    """The site's reads, one session per database for every chart: opening the DuckDB file
    costs more than these small queries. A table not built yet (or no warehouse at all) is a
    chart that says there is no data."""

    def __init__(self, settings: Settings, stack: ExitStack) -> None:
        self.settings, self._stack = settings, stack
        self._readers: dict[str, Reader | None] = {}

    def query(
        self, target: str, sql: str, params: Sequence[Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        if target not in self._readers:
            try:
                session = reading(self.settings, target, internal=True)
                self._readers[target] = self._stack.enter_context(session)
            except QueryError:
                self._readers[target] = None
        reader = self._readers[target]
        if reader is None:
            return [], []
        try:
            return reader.run(sql, params)
        except QueryError:
            return [], []


def _warehouse(
    data: _Data, sql: str, params: Sequence[Any] | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    return data.query("warehouse", sql, params)


def _oltp(data: _Data, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    return data.query("oltp", sql)


def _column(rows: Sequence[tuple[Any, ...]], i: int) -> list[Any]:
    return [row[i] for row in rows]


def _bars(rows: list[tuple], series: dict[str, int], barmode: str, y_title: str) -> Any:
    """Bars of the columns `series` (name -> column index) against column 0, grouped or
    stacked; None without rows (the page then says there is nothing to show)."""
    import plotly.graph_objects as go

    if not rows:
        return None
    figure = go.Figure(
        [go.Bar(x=_column(rows, 0), y=_column(rows, i), name=name) for name, i in series.items()]
    )
    figure.update_layout(barmode=barmode, yaxis={"title": y_title})
    return figure


def _businesses(data: _Data) -> Page:
    import plotly.graph_objects as go

    page = Page(
        "businesses",
        "Businesses",
        "Yelp listings per survey day: how many, how they "
        "are rated, how their reviews grow, and how dense they are per county.",
    )
    columns, rows = _warehouse(
        data,
        "select surveyed_on, count(*) as businesses, round(avg(rating), 3) as average_rating "
        "from dwh.fct_business_holding group by surveyed_on order by surveyed_on",
    )
    figure = None
    if rows:
        figure = go.Figure(
            go.Scatter(
                x=_column(rows, 0), y=_column(rows, 1), name="businesses", mode="lines+markers"
            )
        )
        figure.add_trace(
            go.Scatter(
                x=_column(rows, 0),
                y=_column(rows, 2),
                name="average rating",
                yaxis="y2",
                mode="lines+markers",
            )
        )
        figure.update_layout(
            xaxis={"type": "date", "tickformat": "%Y-%m-%d"},
            yaxis={"title": "businesses"},
            yaxis2={"title": "average rating", "overlaying": "y", "side": "right"},
        )
    page.charts.append(
        Chart(
            "business_trend", "Businesses and average rating per survey day", columns, rows, figure
        )
    )

    columns, rows = _warehouse(
        data,
        "select payment_level_name, rating, businesses from marts.rating_distribution_by_price "
        "order by payment_level_id, rating",
    )
    figure = None
    if rows:
        figure = go.Figure()
        for level in dict.fromkeys(_column(rows, 0)):
            mine = [r for r in rows if r[0] == level]
            figure.add_trace(go.Bar(x=_column(mine, 1), y=_column(mine, 2), name=str(level)))
        figure.update_layout(
            barmode="group", xaxis={"title": "rating"}, yaxis={"title": "businesses"}
        )
    page.charts.append(
        Chart("ratings_by_price_level", "Ratings by price level", columns, rows, figure)
    )

    columns, rows = _warehouse(
        data,
        "select chain_name, review_count_change, first_review_count, last_review_count, "
        "first_day, last_day from marts.top_review_count_changes order by change_rank",
    )
    figure = None
    if rows:
        figure = go.Figure(go.Bar(x=_column(rows, 1), y=_column(rows, 0), orientation="h"))
        figure.update_layout(yaxis={"autorange": "reversed"}, xaxis={"title": "new reviews"})
    page.charts.append(
        Chart("review_count_changes", "Largest review-count changes", columns, rows, figure)
    )

    columns, rows = _warehouse(
        data,
        "select county_name || ', ' || state_name as county, businesses_per_100k, "
        "open_businesses, population from marts.businesses_per_100k_by_county "
        "order by businesses_per_100k desc",
    )
    figure = None
    if rows:
        figure = go.Figure(go.Bar(x=_column(rows, 0), y=_column(rows, 1)))
        figure.update_layout(yaxis={"title": "open businesses per 100,000 people"})
    page.charts.append(
        Chart(
            "businesses_per_100k", "Businesses per 100,000 people by county", columns, rows, figure
        )
    )
    return page


def _la311(data: _Data) -> Page:
    import plotly.graph_objects as go

    page = Page(
        "la311",
        "LA 311",
        "Service requests to the City of Los Angeles: what is "
        "asked for, how fast agencies close it, and where requests stay open.",
    )
    columns, rows = _warehouse(
        data,
        "select created_month, request_type_name, requests, closed_requests "
        "from marts.service_requests_per_type_per_month order by created_month, request_type_name",
    )
    figure = None
    if rows:
        figure = go.Figure()
        for kind in sorted(set(_column(rows, 1))):
            mine = [r for r in rows if r[1] == kind]
            figure.add_trace(
                go.Scatter(
                    x=_column(mine, 0), y=_column(mine, 2), name=str(kind), mode="lines+markers"
                )
            )
        figure.update_layout(yaxis={"title": "requests opened"})
    page.charts.append(
        Chart("requests_per_type_per_month", "Requests per type per month", columns, rows, figure)
    )

    columns, rows = _warehouse(
        data,
        "select agency_code, median_days_to_close, average_days_to_close, closed_requests "
        "from marts.days_to_close_by_agency order by median_days_to_close desc",
    )
    figure = _bars(rows, {"median": 1, "mean": 2}, "group", "days to close")
    page.charts.append(
        Chart("days_to_close_by_agency", "Days to close per agency", columns, rows, figure)
    )

    columns, rows = _warehouse(
        data,
        "select coalesce(council_name, 'Unknown') as council, open_requests, median_age_days "
        "from marts.open_backlog_by_council order by open_requests desc",
    )
    figure = None
    if rows:
        top = rows[:20]
        figure = go.Figure(go.Bar(x=_column(top, 1), y=_column(top, 0), orientation="h"))
        figure.update_layout(yaxis={"autorange": "reversed"}, xaxis={"title": "open requests"})
    page.charts.append(
        Chart("open_backlog_by_council", "Open backlog per council (top 20)", columns, rows, figure)
    )
    return page


def _hr(data: _Data) -> Page:
    import plotly.graph_objects as go

    page = Page(
        "hr",
        "HR",
        "The two hiring KPIs: hires per department and quarter, and the "
        "departments that hired more than the mean, for the newest year with hires.",
    )
    _, years = _warehouse(data, "select max(year) from marts.hr_hires_by_quarter")
    year = years[0][0] if years and years[0][0] is not None else None
    columns: list[str] = []
    rows: list[tuple[Any, ...]] = []
    if year is not None:
        columns, rows = _warehouse(
            data,
            "select department, sum(q1) as q1, sum(q2) as q2, sum(q3) as q3, sum(q4) as q4 "
            "from marts.hr_hires_by_quarter where year = %s group by department "
            "order by department",
            [int(year)],
        )
    figure = _bars(rows, {f"Q{i}": i for i in (1, 2, 3, 4)}, "stack", f"hires in {year}")
    page.charts.append(
        Chart(
            "hires_by_quarter", f"Hires per department and quarter, {year}", columns, rows, figure
        )
    )
    columns, rows = [], []
    if year is not None:
        columns, rows = _warehouse(
            data,
            "select department, hired from marts.hr_departments_above_mean "
            "where year = %s order by hired desc, department",
            [int(year)],
        )
    figure = None
    if rows:
        figure = go.Figure(go.Bar(x=_column(rows, 0), y=_column(rows, 1)))
        figure.update_layout(yaxis={"title": f"hires in {year}"})
    page.charts.append(
        Chart(
            "departments_above_mean", f"Departments above the mean, {year}", columns, rows, figure
        )
    )
    return page


def _quality(data: _Data) -> Page:

    page = Page("quality", "Quality", "Every check's verdicts per day (quality.check_results).")
    columns, rows = _oltp(
        data,
        "SELECT checked_at::date AS day, count(*) FILTER (WHERE passed) AS passed, "
        "count(*) FILTER (WHERE NOT passed) AS failed FROM quality.check_results "
        "GROUP BY 1 ORDER BY 1",
    )
    figure = _bars(rows, {"passed": 1, "failed": 2}, "stack", "check results")
    page.charts.append(
        Chart("check_results_per_day", "Check results per day", columns, rows, figure)
    )
    return page


def _runs(runs: Sequence[dict[str, Any]]) -> Page:
    import plotly.graph_objects as go

    page = Page(
        "runs",
        "Pipeline runs",
        "Rows and seconds per layer per Dagster run (from each materialization's metadata).",
    )
    columns = ["run", "started", "layer", "rows", "seconds"]
    rows = [(r["run"], r["started"], r["layer"], r["rows"], r["seconds"]) for r in runs]
    figures = []
    for value, label in ((3, "rows"), (4, "seconds")):
        figure = None
        if rows:
            figure = go.Figure()
            for layer in sorted(set(_column(rows, 2))):
                mine = [r for r in rows if r[2] == layer]
                figure.add_trace(
                    go.Bar(x=[f"{r[1]} {r[0]}" for r in mine], y=_column(mine, value), name=layer)
                )
            figure.update_layout(barmode="stack", yaxis={"title": label})
        figures.append(figure)
    page.charts.append(
        Chart("rows_per_layer_per_run", "Rows per layer per run", columns, rows, figures[0])
    )
    page.charts.append(
        Chart("seconds_per_layer_per_run", "Seconds per layer per run", columns, rows, figures[1])
    )
    return page


STYLE = "\n".join(
    [
        "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2430}",
        "nav{background:#1d2430;padding:.6em 1.2em}",
        "nav a{color:#fff;margin-right:1.2em;text-decoration:none}",
        "main{max-width:72em;margin:auto;padding:1em 1.2em}section{margin:2em 0}",
        "table{border-collapse:collapse;font-size:13px;margin:.5em 0}",
        "td,th{border:1px solid #ccd;padding:2px 6px}th{background:#eef}",
        ".empty{color:#777;font-style:italic}footer{color:#777;font-size:13px;padding:1em 1.2em}",
    ]
)


def _table(chart: Chart) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in chart.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(plain_value(v)))}</td>" for v in row) + "</tr>"
        for row in chart.rows[:TABLE_ROWS]
    )
    more = (
        f"<p>{len(chart.rows) - TABLE_ROWS:,} more rows in the CSV.</p>"
        if len(chart.rows) > TABLE_ROWS
        else ""
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _csv(chart: Chart) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(chart.columns)
    writer.writerows([[plain_value(v) for v in row] for row in chart.rows])
    return out.getvalue().encode()


def _nav(pages: Sequence[Page]) -> str:
    links = [f'<a href="{p.slug}.html">{html.escape(p.title)}</a>' for p in pages]
    return "".join([*links, '<a href="downloads.html">Downloads</a>'])


def _downloads(settings: Settings, pages: Sequence[Page], built: str) -> str:
    """The data extracts: each mart and dimension's Parquet, CSV and dictionary, downloadable
    from `gourmand serve` (/v1/extracts) and kept in the lake."""
    from extract.reports.extracts import FOLDER, list_extracts

    rows = "".join(
        f"<tr><td>{html.escape(e['name'])}</td><td>{html.escape(e['description'])}</td>"
        f"<td>{e['rows']:,}</td><td>"
        + " ".join(
            f'<a href="/v1/extracts/{html.escape(e["name"])}.{fmt}">{fmt}</a>'
            for fmt in ("parquet", "csv", "json")
        )
        + "</td></tr>"
        for e in list_extracts(settings)
    )
    lake = html.escape(f"{settings.lake_url.rstrip('/')}/{FOLDER}/<name>/")
    body = (
        f"<p>Every mart and dimension as Parquet and CSV, with its dictionary (json), rebuilt "
        f"after every warehouse build. The links work where `gourmand serve` serves this site; "
        f"the files are also in the lake at <code>{lake}</code>.</p>"
        "<table><thead><tr><th>extract</th><th>description</th><th>rows</th><th>files</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else '<p class="empty">No extracts yet: they are written after a warehouse build.</p>'
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<title>Gourmand: downloads</title><link rel="stylesheet" href="style.css"></head>'
        f"<body><nav>{_nav(pages)}</nav><main><h1>Downloads</h1>{body}</main>"
        f"<footer>Built {html.escape(built)} from the warehouse.</footer></body></html>"
    )


def _render(page: Page, pages: Sequence[Page], built: str) -> str:
    import plotly.io as pio

    nav = _nav(pages)
    sections = []
    for chart in page.charts:
        if chart.figure is not None:
            chart.figure.update_layout(title=chart.title, margin={"t": 50}, height=420)
            body = pio.to_html(
                chart.figure,
                include_plotlyjs=False,
                full_html=False,
                div_id=f"chart-{chart.name}",
                config={"displaylogo": False},
            )
        else:
            body = f'<p class="empty">No data yet for {html.escape(chart.title)}.</p>'
        sections.append(
            f'<section data-chart="{chart.name}"><h2>{html.escape(chart.title)}</h2>{body}'
            f'<p><a href="data/{chart.name}.csv">This table as CSV</a> '
            f"({len(chart.rows):,} rows)</p>{_table(chart)}</section>"
        )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Gourmand: {html.escape(page.title)}</title>"
        f'<link rel="stylesheet" href="style.css"><script src="plotly.min.js"></script></head>'
        f"<body><nav>{nav}</nav><main><h1>{html.escape(page.title)}</h1>"
        f"<p>{html.escape(page.about)}</p>{''.join(sections)}</main>"
        f"<footer>Built {html.escape(built)} from the warehouse.</footer></body></html>"
    )


def build_site(settings: Settings, out: Path, runs: Sequence[dict[str, Any]] = ()) -> Path:
    """Write the site into `out` (replaced page by page); returns the index page."""
    from plotly.offline import get_plotlyjs

    with ExitStack() as stack:
        data = _Data(settings, stack)
        pages = [_businesses(data), _la311(data), _hr(data), _quality(data), _runs(runs)]
    built = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    (out / "data").mkdir(parents=True, exist_ok=True)

    def write(path: Path, data: bytes) -> None:
        beside = path.with_name(f".{path.name}.{os.getpid()}")
        beside.write_bytes(data)
        beside.replace(path)

    script = out / "plotly.min.js"
    if not script.exists():
        write(script, get_plotlyjs().encode())
    write(out / "style.css", STYLE.encode())
    for page in pages:
        for chart in page.charts:
            write(out / "data" / f"{chart.name}.csv", _csv(chart))
        write(out / f"{page.slug}.html", _render(page, pages, built).encode())
    write(out / "downloads.html", _downloads(settings, pages, built).encode())
    index = out / "index.html"
    write(index, (out / f"{pages[0].slug}.html").read_bytes())
    return index
