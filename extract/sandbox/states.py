"""The state abbreviations page of the sandbox: a states table and a territories table."""

from __future__ import annotations

from html import escape

from extract.sandbox.counties import STATES, TERRITORIES


def _rows(rows: tuple[tuple[str, str, str, str], ...]) -> str:
    return "\n".join(
        f"      <tr><td>{escape(n)}</td><td>{p}</td><td>{escape(s)}</td></tr>"
        for n, p, s, _ in rows
    )


def page() -> str:
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="UTF-8"><title>US State Abbreviations (sandbox)</title></head>
<body>
  <nav><ul><li><a href="/">Home</a></li><li><a href="/abbreviations.htm">Abbreviations</a></li>
  </ul></nav>
  <h1>State Abbreviations</h1>
  <p>Postal abbreviations of the 50 states, and of the District of Columbia and the inhabited
  territories further down. This table is served by the Gourmand sandbox.</p>
  <table class=" table table-hover">
    <thead><tr><th>US STATE</th><th>POSTAL ABBREVIATION</th><th>STANDARD ABBREVIATION</th></tr>
    </thead>
    <tbody>
{_rows(STATES)}
    </tbody>
  </table>
  <h2>Territories and the District of Columbia</h2>
  <figure class="wp-block-table"><table class="has-fixed-layout table table-hover">
    <thead><tr><th>Territory/Commonwealth</th><th>Postal Abbreviation</th>
    <th>Standard Abbreviation</th></tr></thead>
    <tbody>
{_rows(TERRITORIES)}
    </tbody>
  </table></figure>
</body>
</html>
"""
