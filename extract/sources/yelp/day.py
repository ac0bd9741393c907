"""One survey day's pulls: the businesses of every search location (limit/offset paging to the
1,000 cap), their categories and transactions, their reviews (one request per business), and the
events of every location. Each endpoint is fetched at most once, when a resource first needs it;
paging and retries are the shared ones (extract/sources/rest.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import OffsetPaginator

from extract.sources.accounting import BatchLedger, Rejected
from extract.sources.rest import HttpPolicy, get_json, paginate_json, rest_client
from extract.sources.yelp.parse import parse_business, parse_event, parse_review

PAGE_SIZE = 50
MAX_RESULTS = 1000  # Yelp refuses limit + offset > 1000


class YelpDay:
    """Pulls one survey day; each endpoint is fetched at most once, when first needed."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        surveyed_on: date,
        locations: Sequence[str],
        *,
        send_day: bool,
        concurrency: int,
        http: HttpPolicy,
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.concurrency = concurrency
        self.http = http
        self.surveyed_on = surveyed_on
        self.locations = list(locations)
        self.day_params = {"day": surveyed_on.isoformat()} if send_day else {}
        self.extracted_at = datetime.now(UTC)
        self.batch = surveyed_on.isoformat()

    @cached_property
    def client(self) -> RESTClient:
        return rest_client(self.base_url, http=self.http, token=self.api_key)

    def _pages(self, path: str, location: str, selector: str) -> Iterator[list[Any]]:
        paginator = OffsetPaginator(
            limit=PAGE_SIZE,
            offset=0,
            total_path="total",
            maximum_offset=MAX_RESULTS,
            stop_after_empty_page=True,
        )
        params = {"location": location, **self.day_params}
        yield from paginate_json(self.client, path, params, "yelp", paginator, selector)

    @cached_property
    def businesses(self) -> tuple[list[dict], BatchLedger]:
        ledger = BatchLedger("businesses", self.batch, self.extracted_at)
        rows: dict[str, dict] = {}
        for location in self.locations:
            for page in self._pages("/businesses/search", location, "businesses"):
                for raw in page:
                    try:
                        row = parse_business(raw, self.surveyed_on, location, self.extracted_at)
                    except Rejected as exc:
                        ledger.reject(raw, str(exc), context=f"search location={location}")
                        continue
                    if row["id"] in rows:
                        # Neighbouring counties can list the same business; one snapshot a day.
                        ledger.reject(
                            raw,
                            "duplicate of a business already seen this day",
                            context=f"search location={location}",
                        )
                        continue
                    ledger.accept()
                    rows[row["id"]] = row
        return list(rows.values()), ledger

    def _children(self, resource: str, field: str) -> tuple[list[dict], BatchLedger]:
        """Rows of a list field of the day's businesses, keyed by business and day."""
        businesses, _ = self.businesses
        ledger = BatchLedger(resource, self.batch, self.extracted_at)
        rows = []
        for business in businesses:
            for item in business[field]:
                ledger.accept()
                row = {"business_id": business["id"], "surveyed_on": self.surveyed_on}
                row.update(item if isinstance(item, dict) else {"transaction_type": item})
                rows.append(row)
        return rows, ledger

    @cached_property
    def categories(self) -> tuple[list[dict], BatchLedger]:
        return self._children("businesses__categories", "categories")

    @cached_property
    def transactions(self) -> tuple[list[dict], BatchLedger]:
        return self._children("businesses__transactions", "transactions")

    @cached_property
    def reviews(self) -> tuple[list[dict], BatchLedger]:
        businesses, _ = self.businesses
        ledger = BatchLedger("reviews", self.batch, self.extracted_at)
        rows: dict[str, dict] = {}
        # one request per business, a few in flight at once (each thread its own session);
        # the answers are taken in the businesses' order, so the rows come out the same
        clients = threading.local()

        def fetch(business_id: str) -> Any:
            if not hasattr(clients, "client"):
                clients.client = rest_client(self.base_url, http=self.http, token=self.api_key)
            return get_json(
                clients.client, f"/businesses/{business_id}/reviews", self.day_params, "yelp"
            )

        with ThreadPoolExecutor(self.concurrency) as pool:
            answers = pool.map(fetch, [b["id"] for b in businesses])
            for business, data in zip(businesses, answers, strict=True):
                for raw in data.get("reviews") or []:
                    try:
                        row = parse_review(raw, business["id"], self.surveyed_on, self.extracted_at)
                    except Rejected as exc:
                        ledger.reject(raw, str(exc), context=f"business={business['id']}")
                        continue
                    ledger.accept()
                    rows[row["id"]] = row
        return list(rows.values()), ledger

    @cached_property
    def events(self) -> tuple[list[dict], BatchLedger]:
        ledger = BatchLedger("events", self.batch, self.extracted_at)
        rows: dict[str, dict] = {}
        for location in self.locations:
            for page in self._pages("/events", location, "events"):
                for raw in page:
                    try:
                        row = parse_event(raw, location, self.surveyed_on, self.extracted_at)
                    except Rejected as exc:
                        ledger.reject(raw, str(exc), context=f"events location={location}")
                        continue
                    ledger.accept()
                    rows[row["id"]] = row
        return list(rows.values()), ledger
