"""The sandbox's Socrata endpoint (LA 311) over real HTTP: shapes, SoQL paging and filters,
later updates, fault rows, CSV, errors."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from typing import Any

import pytest

from extract.sandbox import SandboxConfig, SandboxServer
from extract.sandbox.socrata import DATASET_IDS, FIELD_NAMES, dataset_id, generate_year

Y2023, Y2024 = dataset_id(2023), dataset_id(2024)


def fetch(server, path, headers=None, **params):
    url = server.url + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def rows(server, dataset, fmt="json", **params) -> Any:
    status, _, body = fetch(server, f"/resource/{dataset}.{fmt}", **params)
    assert status == 200, body
    return json.loads(body) if fmt == "json" else body.decode()


def soql(**params: Any) -> dict[str, Any]:
    return {f"${k}": v for k, v in params.items()}


def everything(server, dataset) -> list[dict[str, str]]:
    return rows(server, dataset, **soql(order=":id", limit=50000))


@pytest.fixture(scope="module")
def server():
    with SandboxServer(SandboxConfig(socrata_rows_per_year=2500)) as s:
        yield s


def test_ids_are_la311s_own():
    assert dataset_id(2019) == "pvft-t768" and dataset_id(2024) == "b7dx-7gc3"
    assert len(DATASET_IDS) == 11 and min(DATASET_IDS) == 2015 and max(DATASET_IDS) == 2025
    with pytest.raises(ValueError):
        dataset_id(2014)


def test_same_seed_same_bytes_other_seed_other_rows():
    query = soql(order=":id", limit=300, offset=100)
    answers = []
    for seed in (42, 42, 7):
        with SandboxServer(SandboxConfig(seed=seed)) as s:
            answers.append(fetch(s, f"/resource/{Y2024}.json", **query)[2])
    assert answers[0] == answers[1] != answers[2]


def test_shape_and_distributions():
    with SandboxServer(SandboxConfig(socrata_rows_per_year=20000)) as s:
        data = everything(s, Y2023)
        other = everything(s, Y2024)
    assert len(data) == 20000
    ids = [r["srnumber"] for r in data + other]
    assert len(set(ids)) == 40000 and all(i.startswith("1-") for i in ids)
    assert all(set(r) <= set(FIELD_NAMES) for r in data)
    assert all(isinstance(v, str) for r in data for v in r.values())
    types = Counter(r["requesttype"] for r in data)
    assert types.most_common(1)[0][0] == "Bulky Items"
    assert 0.42 < types["Bulky Items"] / 20000 < 0.52
    assert len(types) >= 10
    statuses = Counter(r["status"] for r in data)
    assert statuses["Closed"] / 20000 > 0.9 and statuses["Cancelled"] > 0
    unplaced = [r for r in data if "latitude" not in r]
    assert 0.015 < len(unplaced) / 20000 < 0.05
    assert all("longitude" not in r and "address" in r for r in unplaced)
    for r in data:
        assert ("closeddate" in r) == (r["status"] == "Closed")
        assert ("mobileos" in r) == (r["requestsource"] == "Mobile App")
        assert r["createddate"].startswith("2023-") and r["createddate"].endswith(".000")
        assert r["updateddate"] >= r["createddate"]
        if "closeddate" in r:
            assert r["createddate"] <= r["closeddate"] <= r["updateddate"]
        if "servicedate" in r:
            assert r["servicedate"].endswith("T00:00:00.000")
        if "latitude" in r:
            assert 33.7 <= float(r["latitude"]) <= 34.35
            assert -118.67 <= float(r["longitude"]) <= -118.15
        assert 1 <= int(r["cd"]) <= 15 and r["ncname"].endswith(("NC", "90037"))
        assert r["address"].endswith(", " + r["zipcode"])
    owners = {(r["requesttype"], r.get("owner")) for r in data}
    assert ("Graffiti Removal", "OCB") in owners and ("Bulky Items", "BOS") in owners
    assert all(o is None for t, o in owners if t in ("Other", "Feedback"))
    assert all(o == "BSL" for t, o in owners if "Streetlight" in t)
    assert max(r["updateddate"] for r in data + other) < "2025-06-01T00:00:00.000"


def test_paging_by_id_returns_every_row_once(server):
    whole = everything(server, Y2023)
    paged: list[dict[str, str]] = []
    while True:
        page = rows(server, Y2023, **soql(order=":id", limit=700, offset=len(paged)))
        paged += page
        if len(page) < 700:
            break
    assert paged == whole and len(paged) == 2500
    assert len({r["srnumber"] for r in paged}) == 2500
    # default: $limit 1000 in :id order
    assert rows(server, Y2023) == whole[:1000]


def test_where_filters_on_timestamps(server):
    whole = everything(server, Y2023)
    mark = sorted(r["updateddate"] for r in whole)[1800]
    for literal in (mark, mark.removesuffix(".000")):
        after = rows(server, Y2023, **soql(where=f"updateddate > '{literal}'", limit=50000))
        assert after == [r for r in whole if r["updateddate"] > mark]
    at_or_after = rows(server, Y2023, **soql(where=f"UpdatedDate >= '{mark}'", limit=50000))
    assert at_or_after == [r for r in whole if r["updateddate"] >= mark]
    where = "createddate between '2023-03-01T00:00:00' and '2023-03-31T23:59:59.000' AND " \
        "updateddate > '2023-03-10'"  # fmt: skip
    march = rows(server, Y2023, **soql(where=where, limit=50000))
    assert march == [
        r for r in whole
        if "2023-03-01" <= r["createddate"] < "2023-04" and r["updateddate"] > "2023-03-10"
    ]  # fmt: skip
    assert 0 < len(march) < 400


def test_order_and_select(server):
    newest = rows(server, Y2024, **soql(order="updateddate DESC", limit=50000))
    stamps = [r["updateddate"] for r in newest]
    assert stamps == sorted(stamps, reverse=True) and len(stamps) == 2500
    by_id = rows(server, Y2024, **soql(order="srnumber desc", limit=5))
    assert [r["srnumber"] for r in by_id] == [
        f"1-{2_400_000_000 + i}" for i in range(2500, 2495, -1)
    ]
    status, headers, body = fetch(
        server, f"/resource/{Y2024}.json", **soql(select="SRNumber, CreatedDate", limit=10)
    )
    assert status == 200
    assert all(set(r) == {"srnumber", "createddate"} for r in json.loads(body))
    assert json.loads(headers["X-SODA2-Fields"]) == ["srnumber", "createddate"]
    assert json.loads(headers["X-SODA2-Types"]) == ["text", "floating_timestamp"]
    assert headers["Content-Type"].startswith("application/json")


def test_changes_and_new_rows_after_changed_at():
    base_cfg = SandboxConfig(socrata_rows_per_year=3000)
    with SandboxServer(base_cfg) as s:
        base = {y: everything(s, dataset_id(y)) for y in (2023, 2024)}
    mark = max(r["updateddate"] for rs in base.values() for r in rs)
    cfg = SandboxConfig(socrata_rows_per_year=3000, socrata_changed_fraction=0.01,
                        socrata_new_rows=25, socrata_app_token=None)  # fmt: skip
    with SandboxServer(cfg) as s:
        after = {y: everything(s, dataset_id(y)) for y in (2023, 2024)}
        since = {
            y: rows(s, dataset_id(y), **soql(where=f"updateddate > '{mark}'", limit=50000))
            for y in (2023, 2024)
        }
    for year in (2023, 2024):
        old = {r["srnumber"]: r for r in base[year]}
        new = {r["srnumber"]: r for r in after[year]}
        changed = {k for k in old if new[k] != old[k]}
        assert len(changed) == 30  # 1% of 3000
        assert {k for k in old if new[k]["updateddate"] > mark} == changed
        for k in changed:
            assert new[k]["updateddate"] > "2025-06-01T00:00:00.000"
            assert new[k]["status"] != old[k]["status"] or new[k]["actiontaken"] == "SR Updated"
            assert new[k]["createddate"] == old[k]["createddate"]
        added = set(new) - set(old)
        assert len(added) == (25 if year == 2024 else 0)
        assert all(new[k]["createddate"] >= "2025-06-01T00:00:00.000" for k in added)
        assert {r["srnumber"] for r in since[year]} == changed | added
    assert after[2024][-25:] == [r for r in after[2024] if r["srnumber"] not in
                                 {b["srnumber"] for b in base[2024]}]  # fmt: skip


def test_null_srnumber_and_backwards_rows():
    cfg = SandboxConfig(
        socrata_rows_per_year=3000, socrata_null_srnumber_every=400, socrata_backwards_every=700
    )
    with SandboxServer(cfg) as s:
        data = everything(s, Y2023)
    missing = [i + 1 for i, r in enumerate(data) if "srnumber" not in r]
    backwards = [i + 1 for i, r in enumerate(data) if r["updateddate"] < r["createddate"]]
    assert missing == list(range(400, 3001, 400))
    assert backwards == [700, 1400, 2100, 2800]
    with SandboxServer(SandboxConfig(socrata_rows_per_year=3000)) as s:
        clean = everything(s, Y2023)
    for i, (row, plain) in enumerate(zip(data, clean, strict=True), start=1):
        if i % 400 and i % 700:
            assert row == plain


def test_csv_matches_json(server):
    query = soql(order="createddate", limit=1500, offset=300)
    status, headers, body = fetch(server, f"/resource/{Y2023}.csv", **query)
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    assert json.loads(headers["X-SODA2-Fields"]) == list(FIELD_NAMES)
    text = body.decode()
    assert text.splitlines()[0] == ",".join(f'"{f}"' for f in FIELD_NAMES)
    parsed = list(csv.DictReader(io.StringIO(text)))
    from_json = rows(server, Y2023, **query)
    assert len(parsed) == len(from_json) == 1500
    assert [{k: v for k, v in r.items() if v != ""} for r in parsed] == from_json
    # nulls are empty and unquoted, values quoted
    assert ',,"' in text and '""' not in text
    small = rows(server, Y2023, "csv", **soql(select="srnumber,MobileOS", limit=3))
    assert small.splitlines()[0] == '"srnumber","mobileos"' and len(small.splitlines()) == 4
    empty = rows(server, Y2023, "csv", **soql(where="createddate > '2030-01-01'"))
    assert empty.strip() == ",".join(f'"{f}"' for f in FIELD_NAMES)
    assert rows(server, Y2023, **soql(where="createddate > '2030-01-01'")) == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"$where": "updateddate > 2024-01-01"}, "query.compiler.malformed"),
        ({"$where": "status = 'Open'"}, "query.compiler.malformed"),
        ({"$where": "updateddate > '2024-01-01' or createddate > '2024-01-01'"},
         "query.compiler.malformed"),
        ({"$limit": "50001"}, "query.compiler.malformed"),
        ({"$limit": "-1"}, "query.compiler.malformed"),
        ({"$order": "ncname"}, "query.compiler.malformed"),
        ({"$group": "status"}, "query.compiler.malformed"),
        ({"$select": "srnumber,nosuchthing"}, "query.soql.no-such-column"),
    ],
)  # fmt: skip
def test_bad_queries_answer_400_in_socratas_shape(server, params, code):
    status, headers, body = fetch(server, f"/resource/{Y2023}.json", **params)
    assert status == 400 and headers["Content-Type"].startswith("application/json")
    answer = json.loads(body)
    assert answer["code"] == code and answer["error"] is True and answer["message"]
    if code == "query.compiler.malformed":
        assert answer["message"].startswith("Could not parse SoQL query")


def test_unknown_and_unserved_datasets_are_404(server):
    for path in ("/resource/abcd-1234.json", f"/resource/{dataset_id(2019)}.csv",
                 "/api/views/abcd-1234.json"):  # fmt: skip
        status, _, body = fetch(server, path)
        assert status == 404
        answer = json.loads(body)
        assert answer["code"] == "not_found" and answer["error"] is True and answer["message"]


def test_metadata(server):
    status, _, body = fetch(server, f"/api/views/{Y2024}.json")
    assert status == 200
    meta = json.loads(body)
    assert meta["id"] == Y2024 and meta["name"] == "MyLA311 Service Request Data 2024"
    assert [c["fieldName"] for c in meta["columns"]] == list(FIELD_NAMES)
    types = {c["fieldName"]: c["dataTypeName"] for c in meta["columns"]}
    assert types["createddate"] == "floating_timestamp" and types["latitude"] == "number"


def test_app_token_when_configured():
    with SandboxServer(SandboxConfig(socrata_app_token="tok-123")) as s:
        path = f"/resource/{Y2023}.json"
        status, _, body = fetch(s, path)
        assert status == 403 and json.loads(body)["error"] is True
        assert fetch(s, path, headers={"X-App-Token": "wrong"})[0] == 403
        assert fetch(s, path, headers={"X-App-Token": "tok-123"})[0] == 200
        assert fetch(s, path, **{"$$app_token": "tok-123", "$limit": 5})[0] == 200
        assert fetch(s, f"/api/views/{Y2023}.json")[0] == 403


def test_faults_apply_to_socrata_too():
    with SandboxServer(SandboxConfig(fail_pattern="/resource/")) as s:
        assert fetch(s, f"/resource/{Y2023}.json")[0] == 500
        assert fetch(s, f"/api/views/{Y2023}.json")[0] == 200
    with SandboxServer(SandboxConfig(rate_limit_every=2)) as s:
        codes = [fetch(s, f"/resource/{Y2023}.csv", **soql(limit=1))[0] for _ in range(4)]
    assert codes == [200, 429, 200, 429]


def test_knobs_parse_from_strings_and_round_trip():
    cfg = SandboxConfig.from_mapping({
        "socrata-years": "2022,2023", "socrata_changed_fraction": "0.01",
        "socrata-new-rows": "40", "socrata-app-token": "t", "socrata-changed-at":
        "2025-07-01T00:00:00",
    })  # fmt: skip
    assert cfg.socrata_changed_fraction == 0.01 and cfg.socrata_new_rows == 40
    assert (
        SandboxConfig.from_mapping(
            {f.lstrip("-"): v for f, v in zip(cfg.to_args()[::2], cfg.to_args()[1::2], strict=True)}
        )
        == cfg
    )
    with pytest.raises(ValueError):
        SandboxConfig(socrata_years="2023,soon")
    with pytest.raises(ValueError):
        SandboxConfig(socrata_changed_at="2025-06-01T00:00:00+00:00")


def test_a_million_row_year_generates():
    data = generate_year(SandboxConfig(socrata_rows_per_year=1_000_000), 2024)
    assert len(data) == 1_000_000
    assert data.columns["created"].dtype.kind == "i"
