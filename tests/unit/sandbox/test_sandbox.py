"""The sandbox over real HTTP: shapes, determinism, day dynamics, paging rules and faults."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta

import pytest

from extract.sandbox import SandboxConfig, SandboxServer
from extract.sandbox.__main__ import config_from_args, main, parser
from extract.sources.states.parse import parse_tables

COOK = "Cook County, Illinois"


def fetch(server, path, token="sandbox-token", **params):
    url = server.url + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture
def server():
    with SandboxServer(SandboxConfig(counties=3, businesses_per_county=70)) as s:
        yield s


def search(server, day, offset=0, limit=50, location=COOK):
    status, _, body = fetch(
        server,
        "/v3/businesses/search",
        location=location,
        limit=limit,
        offset=offset,
        day=day.isoformat(),
    )
    assert status == 200, body
    return json.loads(body)


def all_businesses(server, day, location=COOK):
    first = search(server, day, location=location)
    found = list(first["businesses"])
    while len(found) < first["total"]:
        found += search(server, day, offset=len(found), location=location)["businesses"]
    return first["total"], found


def test_same_seed_and_day_give_identical_bytes():
    query = {"location": COOK, "limit": 50, "day": "2024-01-05"}

    def answer(**knobs):
        with SandboxServer(SandboxConfig(counties=2, **knobs)) as s:
            return fetch(s, "/v3/businesses/search", **query)[2]

    assert answer() == answer()
    assert answer(seed=7) != answer()


def test_business_shape_matches_the_api(server):
    biz = search(server, date(2024, 1, 1))["businesses"][0]
    for key in (
        "id",
        "alias",
        "name",
        "image_url",
        "is_closed",
        "url",
        "review_count",
        "categories",
        "rating",
        "coordinates",
        "transactions",
        "location",
        "phone",
        "display_phone",
        "distance",
    ):
        assert key in biz, key
    assert len(biz["id"]) == 22
    assert set(biz["location"]) >= {
        "address1",
        "address2",
        "address3",
        "city",
        "zip_code",
        "country",
        "state",
        "display_address",
    }
    assert biz["location"]["state"] == "IL" and biz["rating"] in [x / 2 for x in range(2, 11)]
    _, everyone = all_businesses(server, date(2024, 1, 1))
    assert any("price" not in b for b in everyone) and any("price" in b for b in everyone)


def test_paging_collects_every_business_once(server):
    total, found = all_businesses(server, date(2024, 1, 1))
    assert total == 70 and len(found) == total == len({b["id"] for b in found})


def test_days_drift_open_and_close():
    with SandboxServer(SandboxConfig(counties=1, businesses_per_county=80)) as s:
        loc = "Los Angeles County, California"
        days = [date(2024, 1, 1) + timedelta(days=i) for i in range(10)]
        snapshots = [{b["id"]: b for b in all_businesses(s, d, loc)[1]} for d in days]
    first, last = snapshots[0], snapshots[-1]
    assert set(last) - set(first), "some businesses opened"
    assert set(first) - set(last), "some businesses closed"
    both = set(first) & set(last)
    assert any(first[i]["rating"] != last[i]["rating"] for i in both)
    for earlier, later in zip(snapshots, snapshots[1:], strict=False):
        for ident in set(earlier) & set(later):
            assert later[ident]["review_count"] >= earlier[ident]["review_count"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 51}, "limit: 51"),
        ({"limit": 50, "offset": 990}, "limit+offset must be <= 1000"),
        ({"location": "Atlantis"}, "LOCATION_NOT_FOUND"),
        ({"day": "2023-12-31"}, "on or after"),
    ],
)
def test_validation_errors(server, params, message):
    query = {"location": COOK, "limit": 20, **params}
    status, _, body = fetch(server, "/v3/businesses/search", **query)
    assert status == 400 and message in body.decode()


def test_bearer_token_is_required(server):
    status, _, body = fetch(server, "/v3/businesses/search", token=None, location=COOK)
    assert status == 401 and json.loads(body)["error"]["code"] == "TOKEN_MISSING"
    status, _, body = fetch(server, "/v3/businesses/search", token="nope", location=COOK)
    assert status == 401 and json.loads(body)["error"]["code"] == "UNAUTHORIZED_ACCESS_TOKEN"
    status, headers, _ = fetch(server, "/v3/businesses/search", location=COOK)
    assert status == 200 and int(headers["RateLimit-Remaining"]) < 5000


def test_reviews_and_events(server):
    biz = search(server, date(2024, 1, 3))["businesses"][0]
    status, _, body = fetch(server, f"/v3/businesses/{biz['id']}/reviews", day="2024-01-03")
    data = json.loads(body)
    assert status == 200 and data["total"] == biz["review_count"] and len(data["reviews"]) <= 3
    review = data["reviews"][0]
    assert review["time_created"] <= "2024-01-03 23:59:59" and review["user"]["name"].endswith(".")
    assert fetch(server, "/v3/businesses/unknown/reviews")[0] == 404
    status, _, body = fetch(server, "/v3/events", location=COOK, limit=50)
    events = json.loads(body)
    assert status == 200 and events["total"] == len(events["events"]) > 0


def test_census_answers_array_of_string_arrays(server):
    status, _, body = fetch(
        server,
        "/data/2019/pep/population",
        token=None,
        get="NAME,POP,DATE_CODE",
        **{"for": "county:*", "in": "state:*"},
    )
    table = json.loads(body)
    assert status == 200 and table[0] == ["NAME", "POP", "DATE_CODE", "state", "county"]
    assert len(table) == 1 + 3 * 12
    assert all(isinstance(cell, str) for row in table[1:] for cell in row)
    status, _, body = fetch(
        server, "/data/2019/pep/population", token=None, get="NAME,FOO", **{"for": "county:*"}
    )
    assert status == 400 and body.decode() == "error: unknown variable 'FOO'"
    labels = json.loads(fetch(server, "/data/2019/pep/population/variables.json")[2])
    items = labels["variables"]["DATE_CODE"]["values"]["item"]
    assert items["3"] == "7/1/2010 population estimate" and len(items) == 12


def test_states_page_has_56_rows_in_two_tables(server):
    status, headers, body = fetch(server, "/abbreviations.htm", token=None)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    rows = parse_tables(body.decode())
    assert len(rows) == 56
    assert sum(kind == "state" for kind, _ in rows) == 50
    assert {cells[1] for kind, cells in rows if kind == "territory"} == {
        "DC",
        "GU",
        "MH",
        "MP",
        "PR",
        "VI",
    }


def test_faults_rate_limit_burst_outage_malformed_extra():
    cfg = SandboxConfig(
        counties=1,
        rate_limit_every=3,
        retry_after=2,
        error_burst_at=5,
        error_burst_len=2,
        fail_pattern="/events",
        malformed_every=5,
        extra_field=True,
    )
    with SandboxServer(cfg) as s:
        statuses = [
            fetch(s, "/v3/businesses/search", location="Los Angeles County, CA", limit=50)
            for _ in range(7)
        ]
        codes = [st for st, _, _ in statuses]
        assert codes == [200, 200, 429, 200, 500, 429, 200]  # every 3rd wins over the burst
        assert statuses[2][1]["Retry-After"] == "2"
        assert fetch(s, "/v3/events", location="Los Angeles County, CA")[0] == 500
        businesses = json.loads(statuses[0][2])["businesses"]
    assert any("id" not in b and isinstance(b["rating"], str) for b in businesses)
    assert all("business_hours" in b for b in businesses)


def test_cli_round_trips_the_config_and_refuses_other_hosts(capsys):
    cfg = SandboxConfig(
        seed=9,
        counties=12,
        start_date=date(2024, 3, 1),
        malformed_every=4,
        extra_field=True,
        slow_seconds=0.5,
        fail_pattern="/reviews",
    )
    assert config_from_args(parser().parse_args(cfg.to_args())) == cfg
    assert main(["--host", "0.0.0.0"]) == 2
    assert "loopback only" in capsys.readouterr().err
