"""docs/data-dictionary.md, generated from the two dbt projects' manifests (the one copy of the
descriptions, which the read API's schema and the extracts' dictionaries also read), so it
cannot drift from them: `make dictionary` writes it, and a test fails when the committed file
differs from what the manifests give.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LAYERS = (
    # (title, project, resource type, schemas, what the layer is)
    ("Raw", "dbt_oltp", "source", None,
     "Tables as the extractors land them in the OLTP Postgres (and as Parquet under the lake's "
     "`raw/<source>/<table>/`). dlt adds `_dlt_load_id` (the load that wrote the row) and "
     "`_dlt_id`; nested tables have `_dlt_parent_id`, `_dlt_root_id` and `_dlt_list_idx`."),
    ("OLTP staging", "dbt_oltp", "model", ("oltp_staging",),
     "Views over the raw tables: typed, renamed, one row per source row."),
    ("OLTP model", "dbt_oltp", "model", ("oltp",),
     "The normalized operational model (contracts enforced: the types and constraints below "
     "are built into the tables)."),
    ("Reporting", "dbt_oltp", "model", ("reporting",), "Summaries over the OLTP model."),
    ("Lake", "dbt_dwh", "source", None,
     "The OLTP model as the lake export wrote it (Parquet, append-only)."),
    ("Warehouse staging", "dbt_dwh", "model", ("dwh_staging",),
     "Views over the lake: the latest exported version of each key."),
    ("Warehouse", "dbt_dwh", "model", ("dwh",), "Dimensions, bridges and facts."),
    ("Marts", "dbt_dwh", "model", ("marts",),
     "Analyst-facing tables; also served by the read API (/v1) and as extracts."),
)  # fmt: skip


def _manifest(project: str, root: Path) -> dict[str, Any]:
    return dict(json.loads((root / project / "target" / "manifest.json").read_text()))


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def render(root: Path = ROOT) -> str:
    manifests = {p: _manifest(p, root) for p in ("dbt_oltp", "dbt_dwh")}
    out = [
        "# Data dictionary",
        "",
        "Generated from the dbt manifests by `make dictionary` "
        "(`extract/reports/dictionary.py`); edit the models' YAML, not this file.",
        "",
    ]
    for title, project, kind, schemas, about in LAYERS:
        manifest = manifests[project]
        nodes = manifest["sources"] if kind == "source" else manifest["nodes"]
        chosen = sorted(
            (
                node
                for node in nodes.values()
                if node.get("resource_type") == kind
                and (schemas is None or node.get("schema") in schemas)
                and (kind != "source" or project == "dbt_dwh" or node["source_name"] != "lake")
            ),
            key=lambda n: (n.get("schema", ""), n["name"]),
        )
        out += [f"## {title}", "", about, ""]
        for node in chosen:
            relation = f"{node['schema']}.{node['name']}"
            out += [f"### `{relation}`", ""]
            if node.get("description"):
                out += [_cell(node["description"]), ""]
            columns = node.get("columns") or {}
            if not columns:
                out += ["(its columns are described by the layer after it)", ""]
                continue
            out += ["| column | type | description |", "|---|---|---|"]
            for name, column in columns.items():
                out.append(
                    f"| {name} | {_cell(column.get('data_type')) or ''} | "
                    f"{_cell(column.get('description'))} |"
                )
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    target = ROOT / "docs" / "data-dictionary.md"
    target.write_text(render())
    sys.stdout.write(f"{target}\n")


if __name__ == "__main__":
    main()
