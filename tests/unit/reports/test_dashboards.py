"""The dashboards before anything is built: no warehouse file and no database to reach. Every
page is written, and every chart says it has no data yet instead of failing the site."""

from __future__ import annotations

from tests.support import settings_for


def test_a_home_with_nothing_built_gets_every_page_with_no_data(tmp_path):
    from extract.reports.dashboards import build_site

    settings = settings_for(tmp_path / "home", "postgresql://unused@127.0.0.1:1/x")
    index = build_site(settings, tmp_path / "site")
    pages = sorted(p.name for p in index.parent.glob("*.html"))
    assert pages == [
        "businesses.html", "downloads.html", "hr.html", "index.html", "la311.html",
        "quality.html", "runs.html",
    ]  # fmt: skip
    for name in ("businesses.html", "la311.html", "hr.html", "quality.html"):
        text = (index.parent / name).read_text()
        assert "No data yet for" in text, name
        assert "plotly-graph-div" not in text, name  # no chart drawn from nothing
