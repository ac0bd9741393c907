"""HTTP conventions every source shares: one REST client factory, one retry policy, one error.

Sources never build their own sessions or retry loops. Retries cover 429 and 5xx, honour
Retry-After, back off exponentially and give up after `HttpPolicy.max_attempts`, at which point
the caller gets a `SourceUnavailable` that names the endpoint and the last status. The policy is
a plain value each source takes as a parameter; the registry (extract/sources/registry.py) makes
it from the settings (`GOURMAND_HTTP_*`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sized
from dataclasses import dataclass
from typing import Any, TypeVar

from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import AuthConfigBase, BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import (
    BasePaginator,
    OffsetPaginator,
    SinglePagePaginator,
)
from requests import Request, Response
from requests.exceptions import HTTPError, RequestException


class SourceUnavailable(RuntimeError):
    """The service did not answer usefully after every retry; the load of this batch stops."""


@dataclass(frozen=True)
class HttpPolicy:
    """How long a request may take and how it is retried: seconds per request, attempts in
    all, the exponential back-off's factor and the longest wait between two attempts."""

    timeout: float
    max_attempts: int
    backoff: float
    max_delay: float


def http_client(http: HttpPolicy) -> Client:
    """A requests client with the project's timeout and retry policy."""
    return Client(
        request_timeout=http.timeout,
        request_max_attempts=http.max_attempts,
        request_backoff_factor=http.backoff,
        request_max_retry_delay=http.max_delay,
        respect_retry_after_header=True,
        raise_for_status=False,
    )


def rest_client(
    base_url: str,
    *,
    http: HttpPolicy,
    token: str | None = None,
    headers: Mapping[str, str] | None = None,
    paginator: BasePaginator | None = None,
) -> RESTClient:
    """dlt's RESTClient on our retrying session, with bearer auth when a token is given."""
    auth: AuthConfigBase | None = BearerTokenAuth(token=token) if token else None
    return RESTClient(
        base_url=base_url.rstrip("/"),
        headers=dict(headers or {}),
        auth=auth,
        paginator=paginator or SinglePagePaginator(),
        session=http_client(http).session,
    )


SECRET_PARAMS = frozenset({"key", "api_key", "apikey", "token", "access_token"})


def redact(url: str | None) -> str:
    """The URL with secret query parameters (the Census API's `key`, say) masked, for errors
    and logs."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    if not url:
        return ""
    parts = urlsplit(url)
    query = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*:,")))


def _describe(response: Response) -> str:
    body = response.text[:300].replace("\n", " ")
    url = redact(response.url)
    return f"HTTP {response.status_code} from {response.request.method} {url}: {body}"


def raise_for_status(response: Response, source: str) -> None:
    """Turn a final (post-retry) error response into SourceUnavailable with the evidence."""
    if response.status_code >= 400:
        raise SourceUnavailable(f"{source}: {_describe(response)}")


def get_response(client: RESTClient, path: str, params: Mapping[str, Any], source: str) -> Response:
    """One GET that must succeed; retries are the session's."""
    try:
        response = client.get(path, params=dict(params))
    except RequestException as exc:
        raise SourceUnavailable(f"{source}: GET {path} failed: {exc}") from exc
    raise_for_status(response, source)
    return response


def get_json(client: RESTClient, path: str, params: Mapping[str, Any], source: str) -> Any:
    """One GET that must succeed, answered with JSON."""
    response = get_response(client, path, params, source)
    try:
        return response.json()
    except ValueError as exc:
        raise SourceUnavailable(
            f"{source}: GET {redact(response.url)} answered {response.headers.get('content-type')} "
            "that is not JSON (an invalid API key often looks like this)"
        ) from exc


def paginate_json(
    client: RESTClient,
    path: str,
    params: Mapping[str, Any],
    source: str,
    paginator: BasePaginator,
    data_selector: str,
) -> Iterator[list[Any]]:
    """Yield each page's records; any page that fails after retries fails the whole pull.

    RESTClient's own response hook raises HTTPError for 4xx/5xx inside the retrying send, so
    429/5xx pages are retried there; what still fails arrives here as HTTPError.
    """
    try:
        yield from client.paginate(
            path,
            params=dict(params),
            paginator=paginator,
            data_selector=data_selector,
        )
    except HTTPError as exc:
        raise SourceUnavailable(f"{source}: {_describe(exc.response)}") from exc
    except RequestException as exc:
        raise SourceUnavailable(f"{source}: GET {path} failed: {exc}") from exc


class OffsetUntilShortPage(OffsetPaginator):
    """limit/offset paging for APIs that give no total (Socrata): a page shorter than the
    limit is the last, which saves the empty page a plain OffsetPaginator would ask for."""

    def __init__(self, limit: int, offset_param: str = "offset", limit_param: str = "limit"):
        super().__init__(
            limit=limit, offset_param=offset_param, limit_param=limit_param, total_path=None
        )

    def _stop_after_this_page(self, data: Any = None) -> bool:
        return not data or len(data) < self.limit


T = TypeVar("T", bound=Sized)


def paginate_raw(
    client: RESTClient,
    path: str,
    params: Mapping[str, Any],
    source: str,
    paginator: BasePaginator,
    parse: Callable[[Response], T],
) -> Iterator[T]:
    """Pages that are not JSON (CSV, say): each answer goes through `parse`, and what it
    returns (anything with a length: rows, an Arrow table) drives the paginator. Same
    retrying session and errors as `paginate_json`."""
    request = Request("GET", path, params=dict(params))
    paginator.init_request(request)
    while True:
        response = get_response(client, path, request.params, source)
        page = parse(response)
        yield page
        paginator.update_state(response, page)  # type: ignore[arg-type]
        if not paginator.has_next_page:
            return
        paginator.update_request(request)


def prefetched(pages: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Iterate `pages` in a background thread, up to `depth` pages ahead: the next page
    downloads (and parses, when `parse` releases the GIL as pyarrow does) while the caller
    processes this one. Errors are raised in the caller, in order."""
    import queue
    import threading

    buffer: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        buffer.put(("page", page), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            buffer.put(("error", exc))

    worker = threading.Thread(target=produce, name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = buffer.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()  # the consumer stopped early (an error downstream): let the thread end
