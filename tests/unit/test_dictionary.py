"""docs/data-dictionary.md is what the manifests give: a model's YAML changed without
`make dictionary` fails here."""

from __future__ import annotations

from extract.reports.dictionary import ROOT, render


def test_the_committed_dictionary_is_the_generated_one():
    committed = (ROOT / "docs" / "data-dictionary.md").read_text()
    assert committed == render(), "run `make dictionary` and commit docs/data-dictionary.md"


def test_every_layer_and_every_mart_is_in_it():
    text = render()
    for layer in ("## Raw", "## OLTP model", "## Lake", "## Warehouse", "## Marts"):
        assert layer in text
    for mart in ("hr_hires_by_quarter", "days_to_close_by_agency", "reviews_by_payment_level"):
        assert f"### `marts.{mart}`" in text
    assert "| business_id | text |" in text  # the OLTP contracts' types
