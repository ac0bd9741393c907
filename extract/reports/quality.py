"""A static HTML report of the quality layer: the latest result of every check (failures
first, with observed vs expected and the offending rows) and each check's daily pass rate.
Built from `quality.check_results` by `make quality-report` (`gourmand quality-report`)."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from expectations.catalog import CHECKS
from expectations.db import pg_frame
from extract.settings import Settings

LATEST = """
SELECT DISTINCT ON (check_name) check_name, layer, asset, severity, passed, observed, expected,
       unexpected_sample::text AS sample, run_id, checked_at
FROM quality.check_results
ORDER BY check_name, checked_at DESC, result_id DESC
"""
HISTORY = """
SELECT check_name, sum(runs) AS runs, sum(passed) AS passed, max(last_failure) AS last_failure
FROM quality.check_daily_summary GROUP BY check_name
"""

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2rem; }
th, td { border: 1px solid #ccc; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
tr.failed td { background: #fdecea; }
td.result { font-weight: bold; }
code { font-size: .85em; white-space: pre-wrap; }
"""


def _cell(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def build_report(settings: Settings, out: Path | None = None) -> Path:
    """Write the report; returns its path (default `<home>/quality/report.html`)."""
    out = out or settings.home / "quality" / "report.html"
    exists = pg_frame(settings, "SELECT to_regclass('quality.check_results') IS NOT NULL AS t")
    latest = pg_frame(settings, LATEST) if bool(exists.iat[0, 0]) else None
    history = pg_frame(settings, HISTORY) if latest is not None else None
    rows = {} if latest is None else {r["check_name"]: r for r in latest.to_dict("records")}
    past = {} if history is None else {r["check_name"]: r for r in history.to_dict("records")}
    failed = sum(1 for r in rows.values() if not r["passed"])
    lines = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<title>Gourmand quality report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Gourmand quality report</h1>",
        f"<p id='summary'>{len(rows)} of {len(CHECKS)} checks have run; "
        f"<strong>{failed} failing</strong> at their latest run. "
        f"Built {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from quality.check_results.</p>",
        "<table id='checks'><tr><th>check</th><th>layer</th><th>asset</th><th>severity</th>"
        "<th>result</th><th>observed</th><th>expected</th><th>offending rows (sample)</th>"
        "<th>checked at</th><th>pass rate (all runs)</th><th>last failure</th></tr>",
    ]
    # failures first, then the catalog's order; checks that never ran are listed as such
    order = sorted(CHECKS, key=lambda c: (c.name not in rows or bool(rows[c.name]["passed"]),))
    for check in order:
        r = rows.get(check.name)
        h = past.get(check.name)
        rate = f"{100 * h['passed'] / h['runs']:.0f}% of {h['runs']}" if h else ""
        if r is None:
            lines.append(
                f"<tr class='never' data-check='{check.name}'><td>{check.name}</td>"
                f"<td>{check.layer}</td><td>{'/'.join(check.asset)}</td><td>{check.severity}</td>"
                f"<td class='result'>not run</td><td></td><td>{_cell(check.description)}</td>"
                "<td></td><td></td><td></td><td></td></tr>"
            )
            continue
        sample = json.dumps(json.loads(r["sample"]), indent=1) if r["sample"] != "[]" else ""
        status = "pass" if r["passed"] else "FAIL"
        lines.append(
            f"<tr class='{'passed' if r['passed'] else 'failed'}' data-check='{check.name}'>"
            f"<td>{check.name}</td><td>{check.layer}</td><td>{_cell(r['asset'])}</td>"
            f"<td>{check.severity}</td><td class='result'>{status}</td>"
            f"<td>{_cell(r['observed'])}</td><td>{_cell(r['expected'])}</td>"
            f"<td><code>{_cell(sample)}</code></td><td>{_cell(r['checked_at'])}</td>"
            f"<td>{rate}</td><td>{_cell(h['last_failure'] if h else '')}</td></tr>"
        )
    lines += ["</table></body></html>"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    return out
