"""The asset graph as the Dagster UI shows it: every key, group, dependency and check count is
snapshotted, so a renamed model or a lost lineage edge shows up as a diff in review.

Refresh the snapshot after an intended change with `GOURMAND_UPDATE_SNAPSHOTS=1 make test`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

SNAPSHOT = Path(__file__).with_name("snapshots") / "asset_graph.txt"


def describe_graph() -> str:
    from dagster_project.definitions import defs

    graph = defs().resolve_asset_graph()
    checks: dict[str, int] = {}
    for check in graph.asset_check_keys:
        name = check.asset_key.to_user_string()
        checks[name] = checks.get(name, 0) + 1
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        name = key.to_user_string()
        parents = ", ".join(sorted(p.to_user_string() for p in node.parent_keys)) or "-"
        partitioned = " partitioned" if node.partitions_def is not None else ""
        lines.append(
            f"{name} [{node.group_name}{partitioned}] checks={checks.get(name, 0)} <- {parents}"
        )
    return "\n".join(lines) + "\n"


def test_asset_graph_matches_the_snapshot():
    current = describe_graph()
    if os.environ.get("GOURMAND_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current)
    assert current == SNAPSHOT.read_text(), (
        "the asset graph changed; if intended, rerun with GOURMAND_UPDATE_SNAPSHOTS=1 "
        "and review the diff of " + str(SNAPSHOT)
    )


def test_every_dbt_source_has_a_materializable_upstream_asset():
    """dlt resource keys (and lake export keys) equal dbt source keys by construction: a source
    nothing produces would be a dangling (external) asset, and its lineage would silently
    break."""
    from dagster_project.definitions import defs
    from dagster_project.lib.dbt_projects import dbt_project
    from dagster_project.lib.translators import GourmandDbtTranslator
    from tests.support import ROOT

    graph = defs().resolve_asset_graph()
    materializable = set(graph.materializable_asset_keys)
    translator = GourmandDbtTranslator(group="any")
    for project in (dbt_project(ROOT, "dbt_oltp"), dbt_project(ROOT, "dbt_dwh")):
        manifest = json.loads(Path(project.manifest_path).read_text())
        sources = {translator.get_asset_key(s) for s in manifest["sources"].values()}
        assert sources, f"the {project.name} manifest declares sources"
        assert sources - materializable == set()


def test_every_oltp_table_is_in_group_oltp_with_dbt_tests_as_checks():
    """...except HR's, which are in group hr with the rest of the HR chain."""
    from dagster_project.definitions import defs
    from dagster_project.lib.dbt_projects import dbt_project
    from tests.support import ROOT

    graph = defs().resolve_asset_graph()
    oltp = [k for k in graph.get_all_asset_keys() if k.path[0] == "oltp"]
    assert len(oltp) == 25
    # the models with dbt data tests (a table whose every test repeated an enforced constraint
    # has none left: the constraint is the check)
    manifest = json.loads(Path(dbt_project(ROOT, "dbt_oltp").manifest_path).read_text())
    tested = {
        node["attached_node"].split(".")[-1]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node.get("attached_node")
    }
    checked = {c.asset_key for c in graph.asset_check_keys}
    for key in oltp:
        expected = "hr" if key.path[1].startswith("hr_") else "oltp"
        assert graph.get(key).group_name == expected, key.to_user_string()
        if key.path[1] in tested:
            assert key in checked, f"{key.to_user_string()} has dbt tests as asset checks"
    assert len([k for k in oltp if k in checked]) >= 20


def test_the_hr_chain_is_one_group_from_raw_hr_to_the_report():
    """`gourmand materialize --select group:hr` must rebuild the whole chain, in any home: every
    asset from raw_hr to the report is in group hr, and nothing in it needs an asset outside
    but the warehouse's publication, which a selection that writes the warehouse gets too."""
    from dagster import AssetSelection

    from dagster_project.definitions import defs
    from dagster_project.lib.materialize import _resolve

    graph = defs().resolve_asset_graph()
    hr = AssetSelection.groups("hr").resolve(graph)
    names = {k.to_user_string() for k in hr}
    assert {
        "raw_hr/departments", "raw_hr/jobs", "raw_hr/employees", "oltp/hr_department",
        "oltp/hr_job", "oltp/hr_employee", "lake/hr_department", "lake/hr_job",
        "lake/hr_employee", "dwh/fct_hire", "marts/hr_hires_by_quarter",
        "marts/hr_departments_above_mean", "reports/hr",
    } <= names  # fmt: skip
    outside = {
        f"{k.to_user_string()} <- {p.to_user_string()}"
        for k in hr
        for p in graph.get(k).parent_keys
        if p not in hr
    }
    assert outside == {"reports/hr <- warehouse/published"}
    assert "warehouse/published" in _resolve(defs(), "group:hr")[0]
    assert "warehouse/published" not in _resolve(defs(), "key:oltp/hr_employee")[0]


def test_warehouse_and_marts_groups_and_lake_export_between_oltp_and_dwh():
    from dagster import AssetKey

    from dagster_project.definitions import defs

    graph = defs().resolve_asset_graph()
    lake = graph.get(AssetKey(["lake", "business_holding"]))
    assert lake.group_name == "lake"
    assert [p.to_user_string() for p in lake.parent_keys] == ["oltp/business_holding"]
    fact = graph.get(AssetKey(["dwh", "fct_business_holding"]))
    assert fact.group_name == "warehouse"
    assert graph.get(AssetKey(["marts", "reviews_by_payment_level"])).group_name == "marts"
    staging = graph.get(AssetKey(["dwh_staging", "stg_lake__business_holding"]))
    # the lake table, and the tombstones of the rows the OLTP model deleted
    assert sorted(p.to_user_string() for p in staging.parent_keys) == [
        "dwh_staging/stg_lake__deleted_rows",
        "lake/business_holding",
    ]


def test_loading_the_definitions_parses_no_dbt_project():
    """The manifests come from `make setup`: a process that loads the code location (each run,
    the webserver, the daemon) must not start dbt."""
    import subprocess
    import sys

    probe = (
        "import subprocess\n"
        "popen = subprocess.Popen\n"
        "def refuse(args, *a, **k):\n"
        "    if 'dbt' in str(args):\n"
        "        raise SystemExit(f'dbt started at load time: {args}')\n"
        "    return popen(args, *a, **k)\n"
        "subprocess.Popen = refuse\n"
        "import dagster_project.definitions\n"
        "dagster_project.definitions.defs()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_warehouse_build_takes_no_pool_slot_and_publication_follows_every_model(tmp_path):
    """Runs take turns on the warehouse through its build lease, held from a run's first
    warehouse step to its publication (extract/runtime/publication.py). A step that held a pool
    slot while it waited for the lease would keep the holder's next step from its slot, so no
    warehouse step claims one. The publication is downstream of every dbt_dwh model, so a
    failing test or halt check on any of them stops the run before it."""
    from dagster_project.defs.warehouse.assets import warehouse_assets
    from dagster_project.lib.dbt_projects import dbt_project
    from dagster_project.lib.translators import PUBLISHED
    from extract.settings import load_settings

    settings = load_settings({"GOURMAND_HOME": str(tmp_path)})
    *built, published = warehouse_assets(settings, dbt_project(settings.project_root, "dbt_dwh"))
    for assets in built:
        assert assets.op.pool is None, assets.op.name
    assert published.key == PUBLISHED
    models = {key for assets in built for key in assets.keys}
    assert len(models) > 40
    assert set(published.asset_deps[PUBLISHED]) == models


@pytest.mark.parametrize("selection", ["group:hr", "*", "key:oltp/hr_employee+"])
def test_reading_a_selection_warns_about_nothing(selection):
    """`gourmand materialize --select …` printed Dagster's BetaWarning about a parameter its own
    selection parser passes: nothing a user can act on (issue 16)."""
    import warnings

    from dagster_project.definitions import defs
    from dagster_project.lib.materialize import _resolve

    # built first: what building the definitions says (a Dagster deprecation of the jobs'
    # partitions_def) is not the selection's; in isolation this test caught it
    definitions = defs()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names, _ = _resolve(definitions, selection)
    assert names
    assert [str(w.message) for w in caught] == []
