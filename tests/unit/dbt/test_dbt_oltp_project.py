"""dbt_oltp's documentation and contracts, read from the manifest `make setup` parses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import ROOT

MANIFEST = ROOT / "dbt_oltp" / "target" / "manifest.json"


@pytest.fixture(scope="module")
def models() -> list[dict]:
    manifest = json.loads(MANIFEST.read_text())
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def test_every_model_and_column_is_described(models):
    undocumented = [
        f"{m['name']}.{column}"
        for m in models
        for column, spec in m["columns"].items()
        if not spec.get("description")
    ] + [m["name"] for m in models if not m["description"] or not m["columns"]]
    assert undocumented == []


def test_oltp_tables_are_contracted_incremental_merges_with_a_primary_key(models):
    oltp = [m for m in models if m["schema"] == "oltp"]
    assert len(oltp) == 25
    for model in oltp:
        config = model["config"]
        assert config["materialized"] == "incremental", model["name"]
        # replace_scope: the models that fold survey days (macros/folding.sql); replace_all:
        # county_growth, whose source's whole answer is the truth (macros/reference_data.sql)
        assert config["incremental_strategy"] in ("merge", "replace_scope", "replace_all"), model[
            "name"
        ]
        assert config["full_refresh"] is False, model["name"]
        assert config["contract"]["enforced"], model["name"]
        kinds = [c["type"] for c in model["constraints"]] + [
            c["type"] for col in model["columns"].values() for c in col["constraints"]
        ]
        assert "primary_key" in kinds, model["name"]
        assert "last_edited_at" in model["columns"], model["name"]


def test_staging_models_are_views_named_after_source_and_entity(models):
    staging = [m for m in models if m["schema"] == "oltp_staging"]
    assert staging
    for model in staging:
        path = Path(model["original_file_path"])
        if path.parts[1] == "intermediate":
            # intermediate/<domain>/int_<domain>__<what>: a table the OLTP models read
            assert model["config"]["materialized"] == "table", model["name"]
            domain, _, what = model["name"].removeprefix("int_").partition("__")
            assert what and path.parent.name == domain, model["name"]
            continue
        assert model["config"]["materialized"] == "view"
        source, _, entity = model["name"].removeprefix("stg_").partition("__")
        assert entity and path.parent.name == source
