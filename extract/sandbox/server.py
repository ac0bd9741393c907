"""The sandbox HTTP server: Yelp, Census, the states page, Socrata and the HR CSV drops on
127.0.0.1, with faults."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from collections import deque
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from extract.sandbox import census, hr, socrata, states, yelp
from extract.sandbox.config import SandboxConfig
from extract.sandbox.counties import County, counties

DAILY_LIMIT = 5000


class _Answer(Exception):
    """Raised inside a handler to send an error answer."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _yelp_error(status: int, code: str, description: str) -> _Answer:
    return _Answer(status, {"error": {"code": code, "description": description}})


class SandboxServer:
    """A seeded, deterministic stand-in for the three services, bound to loopback only."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        log_requests: bool = False,
    ) -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError(f"the sandbox binds loopback only, not {host!r}")
        self.config = config or SandboxConfig()
        self.log_requests = log_requests
        self._lock = threading.Lock()
        self._count = 0
        self.faults_served: dict[int, int] = {}  # status -> count, for tests and the log
        # (monotonic time, target, status) of the latest requests: tests check how clients
        # paced their retries; bounded, as a long-lived sandbox answers many
        self.served: deque[tuple[float, str, int]] = deque(maxlen=10_000)
        self._thread: threading.Thread | None = None
        self._fail = re.compile(self.config.fail_pattern) if self.config.fail_pattern else None
        self.httpd = ThreadingHTTPServer((host, port), self._handler())
        self.httpd.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def request_count(self) -> int:
        with self._lock:
            return self._count

    def reconfigure(self, **knobs: Any) -> None:
        """Change knobs of a running server (an outage that starts or ends, in tests); the
        request count goes on, so `error_burst_at` can be set relative to it."""
        with self._lock:
            self.config = dataclasses.replace(self.config, **knobs)
            pattern = self.config.fail_pattern
            self._fail = re.compile(pattern) if pattern else None

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- routing -------------------------------------------------------------------------

    def _next_request(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def _faults(self, n: int, target: str) -> None:
        c = self.config
        if self._fail and self._fail.search(target):
            raise _yelp_error(
                500, "INTERNAL_ERROR", "Something went wrong internally, please try again later."
            )
        if c.rate_limit_every and n % c.rate_limit_every == 0:
            raise _Answer(429, {"error": {
                "code": "TOO_MANY_REQUESTS_PER_SECOND",
                "description": "You have exceeded the queries-per-second limit for this "
                "endpoint. Try reducing the rate at which you make queries."}},
                {"Retry-After": str(c.retry_after)})  # fmt: skip
        if c.error_burst_at and c.error_burst_at <= n < c.error_burst_at + c.error_burst_len:
            raise _yelp_error(
                500, "INTERNAL_ERROR", "Something went wrong internally, please try again later."
            )
        if c.slow_every and n % c.slow_every == 0:
            time.sleep(c.slow_seconds)

    def handle(self, method: str, target: str, headers: Any) -> tuple[int, Any, dict[str, str]]:
        """Answer one request: (status, body (dict/list/str/bytes), extra headers)."""
        answer = self._answer(method, target, headers)
        self.served.append((time.monotonic(), target, answer[0]))
        return answer

    def _answer(self, method: str, target: str, headers: Any) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(target)
        path = parts.path
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if path == "/_sandbox/health":
            return 200, {"ok": True, "config": _config_json(self.config)}, {}
        n = self._next_request()
        try:
            if method != "GET":
                raise _yelp_error(405, "METHOD_NOT_ALLOWED", "Only GET is served here.")
            self._faults(n, target)
            if path.startswith("/v3/"):
                self._auth(headers)
                body = self._yelp(path, params)
                return 200, body, self._rate_headers(n)
            if path == "/data/2019/pep/population/variables.json":
                return 200, census.variables_json(), {}
            if path == "/data/2019/pep/population":
                return 200, self._census(params), {}
            if path == "/abbreviations.htm":
                return 200, states.page(), {}
            if path.startswith(("/resource/", "/api/views/")):
                return self._socrata(path, params, headers)
            if path.startswith("/hr/"):
                return self._hr(path)
            raise _yelp_error(404, "NOT_FOUND", "Resource could not be found.")
        except _Answer as answer:
            if answer.status in (429, 500):
                with self._lock:
                    self.faults_served[answer.status] = self.faults_served.get(answer.status, 0) + 1
            extra = self._rate_headers(n) if path.startswith("/v3/") else {}
            return answer.status, answer.body, {**extra, **answer.headers}

    def _rate_headers(self, n: int) -> dict[str, str]:
        return {
            "RateLimit-DailyLimit": str(DAILY_LIMIT),
            "RateLimit-Remaining": str(max(0, DAILY_LIMIT - n)),
            "RateLimit-ResetTime": (self.config.start_date + timedelta(days=1)).isoformat()
            + "T00:00:00+00:00",
        }

    def _auth(self, headers: Any) -> None:
        value = headers.get("Authorization")
        if not value:
            raise _yelp_error(
                401,
                "TOKEN_MISSING",
                "An access token must be supplied in order to use this endpoint.",
            )
        if value != f"Bearer {self.config.token}":
            raise _yelp_error(
                401,
                "UNAUTHORIZED_ACCESS_TOKEN",
                "The access token provided is not currently able to query this endpoint.",
            )

    def _day(self, params: dict[str, str]) -> tuple[int, date]:
        raw = params.get("day")
        try:
            day = date.fromisoformat(raw) if raw else self.config.start_date
        except ValueError as exc:
            raise _yelp_error(400, "VALIDATION_ERROR", f"'{raw}' is not a valid day") from exc
        if day < self.config.start_date:
            raise _yelp_error(
                400, "VALIDATION_ERROR", f"day must be on or after {self.config.start_date}"
            )
        return yelp.day_index(self.config, day), day

    def _county(self, params: dict[str, str]) -> County:
        location = params.get("location", "").strip().lower()
        if not location:
            raise _yelp_error(
                400, "VALIDATION_ERROR", "Please specify a location or a latitude and longitude"
            )
        for county in counties(self.config.counties, self.config.seed):
            if location in (county.census_name.lower(), f"{county.name}, {county.postal}".lower()):
                return county
        raise _yelp_error(
            400,
            "LOCATION_NOT_FOUND",
            "Could not execute search, try specifying a more exact location.",
        )

    @staticmethod
    def _paging(params: dict[str, str], default: int) -> tuple[int, int]:
        try:
            limit = int(params.get("limit", default))
            offset = int(params.get("offset", 0))
        except ValueError as exc:
            raise _yelp_error(400, "VALIDATION_ERROR", "limit and offset must be integers") from exc
        if limit < 1 or limit > 50:
            raise _yelp_error(400, "VALIDATION_ERROR", f"The supplied limit: {limit} is invalid.")
        if offset < 0 or limit + offset > 1000:
            raise _yelp_error(
                400, "VALIDATION_ERROR", "Too many results requested, limit+offset must be <= 1000."
            )
        return limit, offset

    def _yelp(self, path: str, params: dict[str, str]) -> Any:
        if path == "/v3/businesses/search":
            limit, offset = self._paging(params, 20)
            county = self._county(params)
            index, _ = self._day(params)
            found = yelp.search(self.config, county, index)
            return {
                "businesses": found[offset : offset + limit],
                "total": len(found),
                "region": {"center": {"latitude": county.lat, "longitude": county.lon}},
            }
        match = re.fullmatch(r"/v3/businesses/([^/]+)/reviews", path)
        if match:
            index, day = self._day(params)
            world = counties(self.config.counties, self.config.seed)
            biz = yelp.find_business(self.config, world, match.group(1), index)
            if biz is None:
                raise _yelp_error(
                    404, "BUSINESS_NOT_FOUND", "The requested business could not be found."
                )
            return yelp.reviews(self.config, biz, index, day)
        if path == "/v3/events":
            limit, offset = self._paging(params, 3)
            county = self._county(params)
            index, day = self._day(params)
            found = yelp.events(self.config, county, index, day)
            return {"total": len(found), "events": found[offset : offset + limit]}
        raise _yelp_error(404, "NOT_FOUND", "Resource could not be found.")

    def _census(self, params: dict[str, str]) -> Any:
        key = self.config.census_key
        if key is not None and params.get("key") != key:
            raise _Answer(
                302, "", {"Location": "/data/invalid_key.html", "X-DataWebAPI-KeyError": "1"}
            )
        try:
            return census.population_table(self.config, params)
        except census.CensusError as exc:
            raise _Answer(400, str(exc)) from exc

    def _socrata(
        self, path: str, params: dict[str, str], headers: Any
    ) -> tuple[int, Any, dict[str, str]]:
        try:
            socrata.check_app_token(self.config, headers, params)
            match = re.fullmatch(r"/resource/([^/.]+)\.(json|csv)", path)
            if match:
                body, extra = socrata.query(self.config, match[1], params, match[2])
                return 200, body, extra
            match = re.fullmatch(r"/api/views/([^/.]+)\.json", path)
            if match:
                return 200, socrata.metadata(self.config, match[1]), {}
            raise socrata.SocrataError(404, "not_found", f"No resource at {path}")
        except socrata.SocrataError as exc:
            raise _Answer(exc.status, exc.body()) from exc

    def _hr(self, path: str) -> tuple[int, Any, dict[str, str]]:
        """The HR drop files (an SFTP folder in real life, so no token)."""
        files = {
            "/hr/departments.csv": hr.departments_csv,
            "/hr/jobs.csv": hr.jobs_csv,
            "/hr/employees.csv": hr.employees_csv,
        }
        make = files.get(path)
        if make is None:
            raise _Answer(404, f"No such file: {path.removeprefix('/hr/')}\n")
        return 200, make(self.config).encode(), {"Content-Type": "text/csv; charset=utf-8"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, keep-alive clients wait for
            # a delayed ACK (~40 ms) on every small answer.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                status, body, headers = server.handle(self.command, self.path, self.headers)
                if isinstance(body, bytes):  # already encoded; the type comes with the headers
                    headers = dict(headers)
                    payload = body
                    ctype = headers.pop("Content-Type", "application/octet-stream")
                elif isinstance(body, str):
                    kind = "text/html" if body.startswith("<!DOCTYPE") else "text/plain"
                    payload = body.encode()
                    ctype = f"{kind}; charset=utf-8"
                else:
                    payload = json.dumps(body, separators=(",", ":")).encode()
                    ctype = "application/json; charset=utf-8"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _serve  # noqa: N815
            do_POST = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                if server.log_requests:
                    super().log_message(format, *args)

        return Handler


def _config_json(config: SandboxConfig) -> dict[str, Any]:
    import dataclasses

    out = dataclasses.asdict(config)
    out["start_date"] = config.start_date.isoformat()
    out.pop("token")
    return out
