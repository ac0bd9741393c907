"""The read API through HTTP against a real `gourmand serve` process, over a warehouse built by
the real chain (one Yelp day, a year of 311, the HR seed): every resource, filters, paging to
the end, CSV and Parquet equal to the mart, ETags and 304, invalidation when the warehouse is
rebuilt, scopes and anonymous reading, bad inputs as 4xx, and a schemathesis run over all of
it."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import io
import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import duckdb
import httpx
import pytest

from extract.lake.export import export_oltp
from extract.pipelines import run_source
from extract.reports.extracts import write_extracts
from extract.runtime.dbt_invoke import run_dbt
from extract.runtime.publication import publish
from extract.sources.hr.ingest import ingest_file
from extract.warehouse.builds import record_build
from tests.support import GOURMAND, HR_SEED, free_port, fuzz_api, new_database, settings_for

pytestmark = pytest.mark.integration

READ, INGEST = "read-token-for-tests", "ingest-token-for-tests"


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [GOURMAND, "serve", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        assert process.poll() is None, "gourmand serve exited"
        assert time.monotonic() < deadline, "gourmand serve did not come up"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def built(base_dsn, tmp_path_factory) -> Iterator[tuple[Any, dict[str, str]]]:
    from extract.sandbox import SandboxConfig, SandboxServer

    work = tmp_path_factory.mktemp("read-api")
    server = SandboxServer(
        SandboxConfig(counties=2, businesses_per_county=25, socrata_rows_per_year=300)
    ).start()
    try:
        with new_database(base_dsn) as dsn:
            settings = settings_for(
                work / "home", dsn, server, GOURMAND_SOCRATA_BASE_URL=server.url
            )
            run_source("states", settings=settings, to_lake=False)
            run_source("census", settings=settings, to_lake=False)
            run_source("socrata", settings=settings, options={"mode": "full"}, to_lake=False)
            run_source("yelp", day=dt.date(2024, 1, 1), settings=settings, to_lake=False)
            for name in ("departments", "jobs", "employees"):
                ingest_file(settings, name, HR_SEED / f"{name}.csv")
            for project in ("dbt_oltp", "dbt_dwh"):
                if project == "dbt_dwh":
                    export_oltp(settings)
                run = run_dbt(project, ["run"], settings, target_path=work / project)
                assert run.returncode == 0, run.stdout[-3000:]
            record_build(settings, publish(settings))
            write_extracts(settings)
            env = {k: v for k, v in os.environ.items() if not k.startswith("GOURMAND_")}
            env.update({
                "GOURMAND_HOME": str(settings.home),
                "GOURMAND_OLTP_DSN": dsn,
                "GOURMAND_READ_TOKENS": READ,
                "GOURMAND_INGEST_TOKEN": INGEST,
            })  # fmt: skip
            yield settings, env
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api(built) -> Iterator[str]:
    process, url = _serve(built[1])
    yield url
    process.terminate()
    process.wait(timeout=30)


@functools.cache
def _client() -> httpx.Client:
    # one client for the module's requests: httpx.get() makes a client per call, and with it an
    # SSL context from certifi's bundle (~20 ms each, the module's hundreds of requests)
    return httpx.Client(timeout=60)


def get(url: str, path: str, token: str | None = READ, **headers: str) -> httpx.Response:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return _client().get(f"{url}{path}", headers=headers)


def warehouse(settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_mart_and_dimension_is_a_resource_with_all_its_rows(built, api):
    settings, _ = built
    listed = get(api, "/v1/resources").json()
    names = {r["name"] for r in listed}
    marts = {n for (n,) in warehouse(
        settings, "select table_name from information_schema.tables where table_schema = 'marts'"
    )}  # fmt: skip
    assert marts and marts <= names
    assert {"dim_date", "dim_business", "dim_agency"} <= names
    for resource in listed:
        schema = "marts" if resource["name"] in marts else "dwh"
        [(count,)] = warehouse(settings, f"select count(*) from {schema}.{resource['name']}")
        answer = get(api, f"/v1/{resource['name']}?limit=10000")
        assert answer.status_code == 200, (resource["name"], answer.text)
        assert len(answer.json()) == min(count, 10_000), resource["name"]
        assert ("x-next-cursor" in answer.headers) == (count > 10_000), resource["name"]
        assert all(c["description"] for c in resource["columns"]), resource["name"]


def test_paging_to_the_end_returns_each_row_once(api):
    seen: list[int] = []
    path = "/v1/dim_date?limit=1000&sort=-date_day"
    pages = 0
    while path:
        answer = get(api, path)
        assert answer.status_code == 200, answer.text
        seen += [row["date_key"] for row in answer.json()]
        cursor = answer.headers.get("x-next-cursor")
        path = f"/v1/dim_date?limit=1000&sort=-date_day&cursor={cursor}" if cursor else ""
        pages += 1
    assert len(seen) == len(set(seen)) == 13_149  # 2000-01-01 .. 2035-12-31
    assert seen == sorted(seen, reverse=True)
    assert pages == 14


def test_filters_and_sorting(built, api):
    settings, _ = built
    rows = get(api, "/v1/dim_date?date_day__gte=2024-02-27&date_day__lte=2024-03-01"
                    "&sort=date_day").json()  # fmt: skip
    assert [r["date_day"] for r in rows] == ["2024-02-27", "2024-02-28", "2024-02-29",
                                             "2024-03-01"]  # fmt: skip
    weekend = get(api, "/v1/dim_date?is_weekend=true&year_number=2024&limit=10000").json()
    assert len(weekend) == 104 and all(r["is_weekend"] for r in weekend)
    [(expected,)] = warehouse(
        settings, "select count(*) from marts.hr_hires_by_quarter where year = 2021"
    )
    assert len(get(api, "/v1/hr_hires_by_quarter?year=2021&limit=10000").json()) == expected


def test_the_hr_kpis_as_asked(built, api):
    settings, _ = built
    hires = get(api, "/v1/hr/hires-by-quarter?year=2021").json()
    assert hires and {r["year"] for r in hires} == {2021}
    assert [(r["department"], r["job"]) for r in hires] == sorted(
        (r["department"], r["job"]) for r in hires
    )
    above = get(api, "/v1/hr/departments-above-mean?year=2021").json()
    assert above == sorted(above, key=lambda r: (-r["hired"], r["department"]))
    assert [(r["department_id"], r["hired"]) for r in above] == warehouse(
        settings,
        "select department_id, hired from marts.hr_departments_above_mean where year = 2021 "
        "order by hired desc, department",
    )
    assert get(api, "/v1/hr/hires-by-quarter").status_code == 422  # the year is required


def test_csv_and_parquet_equal_the_mart(built, api):
    import csv

    import pyarrow.parquet as pq

    settings, _ = built
    expected = warehouse(settings, "select * from marts.days_to_close_by_agency order by 1")
    as_csv = get(api, "/v1/days_to_close_by_agency?format=csv&sort=agency_code")
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert len(rows) == 1 + len(expected)
    as_parquet = get(api, "/v1/days_to_close_by_agency?format=parquet&sort=agency_code")
    table = pq.read_table(io.BytesIO(as_parquet.content))
    assert [tuple(r.values()) for r in table.to_pylist()] == [
        tuple(float(v) if isinstance(v, float) else v for v in row) for row in expected
    ]
    assert [tuple(r[:2]) for r in rows[1:]] == [(str(a), str(b)) for a, b, *_ in expected]


def test_etags_304_and_invalidation_by_a_new_build(built, api):
    settings, _ = built
    given = get(api, "/v1/dim_date?limit=1").headers["x-next-cursor"]
    first = get(api, "/v1/reviews_by_payment_level")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    assert get(api, "/v1/reviews_by_payment_level", **{"If-None-Match": etag}).status_code == 304
    # a new build: the warehouse's publication records one when its audit passed
    run = run_dbt("dbt_dwh", ["run", "--select", "reviews_by_payment_level"], settings,
                  target_path=settings.home / "rebuild")  # fmt: skip
    assert run.returncode == 0
    record_build(settings, publish(settings))
    again = get(api, "/v1/reviews_by_payment_level", **{"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["etag"] != etag
    assert again.json() == first.json()
    # a cursor given out before the build
    assert get(api, f"/v1/dim_date?limit=1&cursor={given}").status_code == 410


def test_scopes_and_anonymous_reading(built, api):
    _, env = built
    assert get(api, "/v1/dim_agency", token=None).status_code == 401
    assert get(api, "/v1/dim_agency", token="wrong").status_code == 401
    assert get(api, "/v1/dim_agency", token=INGEST).status_code == 200  # ingest may read
    refused = httpx.post(f"{api}/ingest/jobs", json=[{"job_id": 1, "job": "x"}],
                         headers={"Authorization": f"Bearer {READ}"})  # fmt: skip
    assert refused.status_code == 403
    process, open_url = _serve({**env, "GOURMAND_API_ANONYMOUS_READ": "true"})
    try:
        assert get(open_url, "/v1/dim_agency", token=None).status_code == 200
        assert httpx.post(f"{open_url}/ingest/jobs", json=[]).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/no_such_thing",
        "/v1/dim_date?no_such_column=1",
        "/v1/dim_date?date_day=yesterday",
        "/v1/dim_date?year_number=two",
        "/v1/dim_date?day_name__gte=Monday",
        "/v1/dim_date?sort=nope",
        "/v1/dim_date?limit=0",
        "/v1/dim_date?limit=100001",
        "/v1/dim_date?cursor=garbage",
        "/v1/dim_date?format=xml",
        "/v1/hr/hires-by-quarter?year=2021&sort=job",
    ],
)
def test_bad_requests_are_4xx_with_a_message(api, path):
    answer = get(api, path)
    assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text)
    assert answer.json()["detail"]


def test_a_value_holding_query_syntax_is_a_request_of_its_own(api):
    """Before: the answer cache and the ETag joined the parameters unencoded, so a value holding
    `&limit=1` (or `&format=csv`) and the two parameters it spells shared one entry: anyone
    could plant an empty answer for everyone else's request."""
    planted = get(api, "/v1/dim_date?day_name=Monday%26limit%3D1")
    assert planted.status_code == 200 and planted.json() == []
    real = get(api, "/v1/dim_date?day_name=Monday&limit=1")
    assert len(real.json()) == 1
    assert real.headers["etag"] != planted.headers["etag"]
    assert get(api, "/v1/dim_date?day_name=Monday%26format%3Dcsv").json() == []
    csv = get(api, "/v1/dim_date?day_name=Monday&format=csv")
    assert csv.headers["content-type"].startswith("text/csv") and "Monday" in csv.text


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "payload",
    [b'{"o": 1e400, "b": "x"}', b'{"o": Infinity, "b": "x"}', b"[" * 5000,
     b'{"o": 100000000000000000000000, "b": "x"}', b'{"o": -1, "b": "x"}'],
    ids=["overflow", "infinity", "deep", "huge-offset", "negative"],
)  # fmt: skip
def test_a_cursor_the_api_did_not_give_out_is_a_400(api, payload):
    """Before: cursors were unsigned JSON, so these were 500s (OverflowError, RecursionError)
    or 503s (DuckDB's words on an offset of 10^23)."""
    forged = _b64(payload)
    real = get(api, "/v1/dim_date?limit=1").headers["x-next-cursor"]
    # (a MAC that is not ASCII: compare_digest on text raised TypeError, a 500)
    for cursor in (forged, f"{forged}.{real.partition('.')[2]}", f"{forged}.AAAA", f"{forged}.é"):
        answer = get(api, f"/v1/dim_date?limit=1&cursor={cursor}")
        assert answer.status_code == 400, (cursor[:80], answer.status_code, answer.text[:300])
    assert get(api, f"/v1/dim_date?limit=1&cursor={real}").status_code == 200


def test_numbers_out_of_a_columns_range_are_a_400_in_our_words(api):
    """Before: 503s carrying DuckDB's error text (`department_key__gte=2**127`, a number
    column `__lte=-1.8e38`): the caller's error, said as such."""
    # each resource's first integer and first number column (every warehouse type they hold)
    numeric = [
        (r["name"], c["name"], c["type"])
        for r in get(api, "/v1/resources").json()
        for kind in ("integer", "number")
        for c in [next((c for c in r["columns"] if c["type"] == kind), None)]
        if c is not None
    ]
    assert {t for _, _, t in numeric} == {"integer", "number"}
    for resource, column, kind in numeric:
        values = [str(2**127), str(-(2**127) - 1)] if kind == "integer" else ["Infinity", "nan"]
        for value in values:
            answer = get(api, f"/v1/{resource}?{column}__gte={value}")
            assert answer.status_code == 400, (resource, column, value, answer.text[:300])
            assert "out of the range" in answer.json()["detail"] or "finite" in answer.text
        for value in ("-1.8e38", "1e300", str(2**70)):
            answer = get(api, f"/v1/{resource}?{column}__lte={value}")
            assert answer.status_code in (200, 400), (resource, column, value, answer.text[:300])


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_the_bearer_scheme_is_case_insensitive(api, scheme):
    answer = httpx.get(f"{api}/v1/dim_agency", headers={"Authorization": f"{scheme} {READ}"})
    assert answer.status_code == 200


def test_docs_work_offline(api):
    page = get(api, "/docs", token=None).text
    assert "cdn" not in page.lower() and "/static-offline-docs/" in page
    assert get(api, "/static-offline-docs/swagger-ui-bundle.js", token=None).status_code == 200
    spec = get(api, "/openapi.json", token=None).json()
    schema = spec["components"]["schemas"]["reviews_by_payment_level_row"]["properties"]
    assert schema["businesses"]["description"]


# the ingest routes are fuzzed in test_hr_api.py, against a database made for it; a cursor is
# opaque: one the API did not give out is refused (400, or 410 after a rebuild) though it matches
# the schema's pattern
READ_FUZZ_OPTIONS = (
    "--exclude-path-regex", "^/(ingest|records)/",
    "--exclude-checks", "positive_data_acceptance",
)  # fmt: skip


def test_openapi_fuzz_finds_no_500_and_no_schema_violation(api, tmp_path):
    run, _ = fuzz_api(api, READ, tmp_path, examples=20, seed=19, options=READ_FUZZ_OPTIONS)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout, run.stdout[-3000:]
