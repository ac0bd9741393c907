"""The HR ingest API (`gourmand serve`): the real app under uvicorn on 127.0.0.1, over HTTP,
into a real Postgres."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from extract.serve.hr_api import create_app
from extract.sources.hr.ingest import ingest_file
from tests.support import HR_SEED, free_port, fuzz_api, pg_rows

pytestmark = pytest.mark.integration

SEED = HR_SEED
TOKEN = "test-token-0123456789"
# the state every refused request must leave as it was
STATE = (
    "SELECT (SELECT count(*) FROM raw_hr.employees), (SELECT count(*) FROM raw_hr._rejects), "
    "(SELECT count(*) FROM raw_hr._loads)"
)


@pytest.fixture
def settings(make_settings):
    if not (SEED / "departments.csv").is_file():
        pytest.skip(f"HR seed data not found at {SEED} (departments.csv, jobs.csv)")
    settings = make_settings()
    assert ingest_file(settings, "departments", SEED / "departments.csv").inserted == 12
    assert ingest_file(settings, "jobs", SEED / "jobs.csv").inserted == 183
    return settings


@pytest.fixture
def server(settings) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, TOKEN), host="127.0.0.1", port=port, log_level="warning"
    )
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).json() == {"status": "ok"}:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the API did not come up"
        assert thread.is_alive(), "the API server thread died"
        time.sleep(0.02)
    yield url
    served.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(server) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    ) as c:
        yield c


def state(settings) -> tuple:
    return pg_rows(settings, STATE)[0]


def employee(i: int, **changes) -> dict:
    row = {
        "employee_id": i,
        "employee_name": f"Employee {i}",
        "hiring_date": "2021-07-27T16:02:08Z",
        "department_id": i % 12 + 1,
        "job_id": i % 183 + 1,
    }
    row.update(changes)
    return row


def test_one_row_is_accepted_and_can_be_read_back(settings, client):
    response = client.post("/ingest/employees", json=[employee(5001, employee_name="Ada")])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["batch"].startswith("api:")
    assert {k: body[k] for k in ("table", "received", "accepted", "rejected", "inserted")} == {
        "table": "employees",
        "received": 1,
        "accepted": 1,
        "rejected": 0,
        "inserted": 1,
    }
    assert body["rows"] == [{"line": 1, "id": 5001, "status": "accepted", "reasons": []}]

    record = client.get("/records/employees/5001")
    assert record.status_code == 200
    assert record.json() == {
        "employee_id": 5001,
        "employee_name": "Ada",
        "hiring_date": "2021-07-27T16:02:08Z",
        "department_id": 5001 % 12 + 1,
        "job_id": 5001 % 183 + 1,
    }
    assert client.get("/records/departments/3").json() == {
        "department_id": 3,
        "department_name": "Research and Development",
    }
    assert client.get("/records/employees/5002").status_code == 404
    assert pg_rows(settings, "SELECT context FROM raw_hr._loads WHERE resource = 'employees'") == [
        ("api",)
    ]


def test_a_batch_of_1000_rows_is_accepted(settings, client):
    response = client.post("/ingest/employees", json=[employee(i) for i in range(1, 1001)])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["received"], body["accepted"], body["inserted"], body["rejected"]) == (
        1000,
        1000,
        1000,
        0,
    )
    assert [r["id"] for r in body["rows"]] == list(range(1, 1001))
    assert {r["status"] for r in body["rows"]} == {"accepted"}
    assert state(settings) == (1000, 0, 3)


def test_a_batch_of_1001_rows_is_refused_whole(settings, client):
    before = state(settings)
    response = client.post("/ingest/employees", json=[employee(i) for i in range(1, 1002)])
    assert response.status_code == 413
    assert "at most 1,000 rows, got 1,001; nothing ingested" in response.json()["detail"]
    csv_body = "".join(
        f"{i},E {i},2021-07-27T16:02:08Z,1,1\n" for i in range(1, 1002)
    )  # same limit for CSV
    response = client.post(
        "/ingest/employees", content=csv_body, headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 413
    assert state(settings) == before == (0, 0, 2)


def test_an_empty_batch_is_refused(settings, client):
    before = state(settings)
    response = client.post("/ingest/employees", json=[])
    assert response.status_code == 422
    assert "got none" in response.json()["detail"]
    response = client.post(
        "/ingest/employees", content="\n\n", headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 422
    assert state(settings) == before


def test_a_mixed_batch_reports_every_row(settings, client):
    rows = [
        employee(1),
        employee(2, employee_name=None),
        employee(3, department_id=99),
        employee(4, hiring_date="2027-08-29T00:0:1Z"),
        employee(1, employee_name="Again"),
        employee(6, salary=10),
        "not an object",
        employee(8, job_id=0, department_id=999),
        employee(9),
    ]
    response = client.post("/ingest/employees", json=rows)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["received"], body["accepted"], body["rejected"], body["inserted"]) == (9, 2, 7, 2)
    got = [(r["line"], r["id"], r["status"], r["reasons"]) for r in body["rows"]]
    bad_date = (
        "bad timestamp hiring_date: '2027-08-29T00:0:1Z' "
        "(want ISO 8601 UTC like 2021-07-27T16:02:08Z)"
    )
    assert got == [
        (1, 1, "accepted", []),
        (2, 2, "rejected", ["missing employee_name"]),
        (3, 3, "rejected", ["unknown department_id 99"]),
        (4, 4, "rejected", [bad_date]),
        (5, 1, "rejected", ["duplicate employee_id 1 (line 1 has it)"]),
        (6, 6, "rejected", ["unknown field(s): salary"]),
        (7, None, "rejected", ["not a JSON object"]),
        (
            8,
            8,
            "rejected",
            ["job_id out of range (1..2147483647): 0", "unknown department_id 999"],
        ),
        (9, 9, "accepted", []),
    ]
    assert pg_rows(
        settings, "SELECT employee_id, employee_name FROM raw_hr.employees ORDER BY 1"
    ) == [
        (1, "Employee 1"),
        (9, "Employee 9"),
    ]
    stored = pg_rows(
        settings,
        "SELECT line_number, reason, payload, context FROM raw_hr._rejects "
        "WHERE resource = 'employees' AND batch = %s ORDER BY 1",
        body["batch"],
    )
    assert [(n, r.split("; ")) for n, r, _, _ in stored] == [
        (line, reasons) for line, _, status, reasons in got if status == "rejected"
    ]
    assert {context for *_, context in stored} == {"api"}
    # the payload is the row as sent (keys sorted), ready to fix and re-send
    assert json.loads(stored[0][2]) == employee(2, employee_name=None)
    assert stored[5][2] == '"not an object"'


def test_wrong_or_missing_token_is_refused(settings, server):
    before = state(settings)
    rows = [employee(1)]
    bare = {"Authorization": TOKEN}  # the token without its scheme
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN + "x"}, bare):
        response = httpx.post(f"{server}/ingest/employees", json=rows, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"] == "Bearer"
        response = httpx.get(f"{server}/records/departments/1", headers=headers)
        assert response.status_code == 401
    assert state(settings) == before
    # the same request with the token goes through (the refusal was the token's)
    response = httpx.post(
        f"{server}/ingest/employees", json=rows, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200


def test_malformed_json_is_refused(settings, client):
    before = state(settings)
    for body in (b'[{"employee_id": 1,', b'{"employee_id": 1}', b"\xff\xfe"):
        response = client.post(
            "/ingest/employees", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, body
    assert (
        "malformed JSON"
        in client.post(
            "/ingest/employees", content=b"[", headers={"Content-Type": "application/json"}
        ).json()["detail"]
    )
    response = client.post(
        "/ingest/employees", content=b"<rows/>", headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 415
    assert state(settings) == before


def test_a_csv_body_is_ingested_like_a_file(settings, client):
    body = (
        "1,Ada,2021-07-27T16:02:08Z,1,1\r\n"
        '2,"King, Ada",2021-07-28T00:00:00.25Z,2,2\r\n'
        "3,Bad,2021-02-30T00:00:00Z,1,1\r\n"
        "4,Short\r\n"
    )
    response = client.post(
        "/ingest/employees", content=body, headers={"Content-Type": "text/csv; charset=utf-8"}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["received"], result["accepted"], result["rejected"]) == (4, 2, 2)
    assert [(r["line"], r["status"]) for r in result["rows"]] == [
        (1, "accepted"),
        (2, "accepted"),
        (3, "rejected"),
        (4, "rejected"),
    ]
    assert result["rows"][2]["reasons"][0].startswith("bad timestamp hiring_date")
    assert result["rows"][3]["reasons"] == [
        "expected 5 fields, got 2",
        "missing hiring_date",
        "missing department_id",
        "missing job_id",
    ]
    assert client.get("/records/employees/2").json()["employee_name"] == "King, Ada"
    assert client.get("/records/employees/2").json()["hiring_date"] == "2021-07-28T00:00:00.250000Z"
    assert pg_rows(settings, "SELECT payload FROM raw_hr._rejects WHERE line_number = 4") == [
        ("4,Short",)
    ]


def test_resending_a_batch_is_idempotent_and_new_content_updates(settings, client):
    rows = [employee(i) for i in range(1, 11)] + [employee(11, department_id=None)]
    first = client.post("/ingest/employees", json=rows).json()
    assert (first["inserted"], first["updated"], first["unchanged"], first["rejected"]) == (
        10,
        0,
        0,
        1,
    )
    loaded_at = pg_rows(settings, "SELECT employee_id, _loaded_at FROM raw_hr.employees ORDER BY 1")
    again = client.post("/ingest/employees", json=rows).json()
    assert again["batch"] == first["batch"]
    assert (again["inserted"], again["updated"], again["unchanged"], again["rejected"]) == (
        0,
        0,
        10,
        1,
    )
    assert pg_rows(settings, "SELECT employee_id, _loaded_at FROM raw_hr.employees ORDER BY 1") == (
        loaded_at
    )
    assert state(settings) == (10, 1, 3)  # one reject, one _loads row for the batch

    changed = client.post("/ingest/employees", json=[employee(3, employee_name="Renamed")]).json()
    assert (changed["inserted"], changed["updated"], changed["unchanged"]) == (0, 1, 0)
    assert client.get("/records/employees/3").json()["employee_name"] == "Renamed"
    (new_loaded_at,) = pg_rows(
        settings, "SELECT _loaded_at FROM raw_hr.employees WHERE employee_id = 3"
    )[0]
    assert new_loaded_at > dict(loaded_at)[3]
    assert state(settings) == (10, 1, 4)


def test_unknown_table_is_404(settings, client):
    before = state(settings)
    response = client.post("/ingest/salaries", json=[{"salary_id": 1}])
    assert response.status_code == 404
    assert "unknown table 'salaries'" in response.json()["detail"]
    assert client.get("/records/salaries/1").status_code == 404
    assert state(settings) == before


def test_docs_and_openapi(server):
    docs = httpx.get(f"{server}/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "swagger" in docs.text.lower()
    spec = httpx.get(f"{server}/openapi.json").json()
    assert spec["info"]["title"] == "Gourmand HR ingest"
    ingest = spec["paths"]["/ingest/{table}"]["post"]
    assert {"200", "400", "401", "404", "413", "415", "422"} <= set(ingest["responses"])
    records = spec["paths"]["/records/{table}/{record_id}"]["get"]
    assert {"200", "401", "404"} <= set(records["responses"])


def test_a_nul_character_gets_the_same_reason_through_json_csv_and_a_file(
    settings, client, tmp_path
):
    """The ingest API answered a JSON row with a NUL with a 500; now every path rejects it with
    the file path's reason, keeps the other rows, and stores the payload escaped."""
    json_answer = client.post(
        "/ingest/employees",
        json=[employee(7001, employee_name="Robert\u0000Tables"), employee(7002)],
    )
    assert json_answer.status_code == 200, json_answer.text
    csv_answer = client.post(
        "/ingest/employees",
        content="7003,Robert\x00Tables,2021-07-27T16:02:08Z,1,1\n",
        headers={"Content-Type": "text/csv"},
    )
    assert csv_answer.status_code == 200, csv_answer.text
    dropped = tmp_path / "employees.csv"
    dropped.write_bytes(b"7004,Robert\x00Tables,2021-07-27T16:02:08Z,1,1\n")
    from_file = ingest_file(settings, "employees", dropped)
    assert json_answer.json()["rows"][0]["reasons"] == ["contains a NUL character"]
    assert json_answer.json()["rows"][1]["status"] == "accepted"
    assert csv_answer.json()["rows"][0]["reasons"] == ["contains a NUL character"]
    assert dict(from_file.rejects) == {1: "contains a NUL character"}
    stored = pg_rows(settings, "SELECT reason FROM raw_hr._rejects ORDER BY batch")
    assert stored == [("contains a NUL character",)] * 3
    assert pg_rows(settings, "SELECT count(*) FROM raw_hr.employees") == [(1,)]


@pytest.mark.parametrize(
    ("hiring_date", "accepted"),
    [
        ("0001-01-01T00:00:00Z", False),
        ("9999-12-31T23:59:59Z", False),
        ("1899-12-31T23:59:59Z", False),
        ("1900-01-01T00:00:00Z", True),
        ("2021-07-27T16:02:08Z", True),
    ],
)
def test_hiring_dates_outside_the_plausible_range_are_rejected(client, hiring_date, accepted):
    answer = client.post("/ingest/employees", json=[employee(7100, hiring_date=hiring_date)])
    assert answer.status_code == 200, answer.text
    [row] = answer.json()["rows"]
    assert (row["status"] == "accepted") is accepted, row
    if not accepted:
        assert row["reasons"] == [
            f"hiring_date out of the plausible range (1900-01-01 to a year after the load): "
            f"{hiring_date!r}"
        ]


# a batch's rows are judged one by one: a body of bad rows is a 200 listing every row's
# reasons, by design, so "schema-violating request accepted" does not apply
INGEST_FUZZ_OPTIONS = ("--exclude-checks", "negative_data_rejection")


def test_fuzzing_from_the_openapi_finds_no_500_and_no_undocumented_status(server, tmp_path):
    """Schemathesis, driven by the API's own OpenAPI, over every operation of the live server:
    no server error, every status and body as documented. Bounded: a fixed seed and at most
    50 examples per operation (`make fuzz` runs thousands)."""
    run, _ = fuzz_api(server, TOKEN, tmp_path, examples=50, seed=14, options=INGEST_FUZZ_OPTIONS)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "Tested: 3" in run.stdout and "No issues found" in run.stdout, run.stdout[-3000:]


def test_a_carriage_return_inside_a_value_is_stored_not_a_500(settings, client, tmp_path):
    """Found by the fuzz run: a lone \r inside a name broke the COPY into the batch table."""
    answer = client.post("/ingest/employees", json=[employee(7201, employee_name="Ada\rKing")])
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1
    dropped = tmp_path / "employees.csv"
    dropped.write_bytes(b'7202,"Bob\rStone",2021-07-27T16:02:08Z,1,1\n')
    assert ingest_file(settings, "employees", dropped).loaded == 1
    assert pg_rows(
        settings, "SELECT employee_name FROM raw_hr.employees WHERE employee_id > 7200 ORDER BY 1"
    ) == [("Ada\rKing",), ("Bob\rStone",)]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'[{"employee_id": 1, "employee_name": "\\ud800", "hiring_date": "2021-07-27T16:02:08Z",'
         b' "department_id": 1, "job_id": 1}]', "lone surrogate"),
        (b"[" * 100_000, "nested too deeply"),
    ],
    ids=["lone-surrogate", "deep-nesting"],
)  # fmt: skip
def test_json_no_database_can_store_is_a_400_that_says_why(settings, client, body, why):
    """Before: both were 500s (UnicodeEncodeError on the way to Postgres, RecursionError)."""
    before = state(settings)
    response = client.post(
        "/ingest/employees", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text[:300]
    assert why in response.json()["detail"]
    assert state(settings) == before


def test_the_content_type_is_matched_as_a_media_type(settings, client):
    """Before: `application/jsonfoo` passed as JSON (a prefix match)."""
    rows = json.dumps([employee(1)]).encode()
    for content_type in ("application/jsonfoo", "application/json-seq", "text/csvx"):
        response = client.post(
            "/ingest/employees", content=rows, headers={"Content-Type": content_type}
        )
        assert response.status_code == 415, content_type
    for content_type in ("application/json", "Application/JSON; charset=utf-8"):
        response = client.post(
            "/ingest/employees", content=rows, headers={"Content-Type": content_type}
        )
        assert response.status_code == 200, (content_type, response.text[:300])


def test_a_body_over_the_cap_is_refused_while_it_streams(settings, server):
    """Before: the whole body was read before the 4 MB cap was checked (a 256 MB chunked body
    took the server from 260 MB to 725 MB before its 413). Now the 413 comes once the cap is
    passed, and the rest is never read; a declared Content-Length over it is refused unread."""
    from extract.serve.hr_api import MAX_BODY_BYTES

    before = state(settings)
    host, port = server.removeprefix("http://").split(":")
    head = (
        f"POST /ingest/employees HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Type: application/json\r\n"
    ).encode()
    chunk = b"[" + b" " * ((1 << 20) - 1)  # 1 MiB
    total = 128 << 20
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
        sent = 0
        while sent < total and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        status = sock.recv(65536).split(b"\r\n", 1)[0]
    assert b" 413 " in status, status
    # what was sent before the answer: the cap, and what the sockets' buffers hold
    assert sent < 32 << 20, f"{sent:,} bytes sent before the 413"
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head + f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode())
        status = sock.recv(65536).split(b"\r\n", 1)[0]
    assert b" 413 " in status, status
    assert state(settings) == before
