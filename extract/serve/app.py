"""`gourmand serve`: one FastAPI app for the read API (/v1, scope `read`) and the HR ingest API
(/ingest, /records, scope `ingest`); `/docs` is served from the package, no CDN."""

from __future__ import annotations

from fastapi import FastAPI

from extract.serve.auth import Tokens
from extract.serve.catalog import Resource, load_catalog
from extract.serve.hr_api import ingest_router
from extract.serve.read_api import ReadAPI
from extract.settings import Settings


def create_app(
    settings: Settings, tokens: Tokens, catalog: dict[str, Resource] | None = None
) -> FastAPI:
    from fastapi_offline import FastAPIOffline

    catalog = load_catalog(settings) if catalog is None else catalog
    app = FastAPIOffline(
        title="Gourmand",
        version="1",
        description="The warehouse's marts and dimensions (/v1, read-only, JSON / CSV / "
        "Parquet, cursor paging, ETags tied to the warehouse's build), and the HR ingest API.",
    )

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    read = ReadAPI(settings, catalog, tokens.require("read"))
    app.state.read_api = read
    app.include_router(read.router)
    app.include_router(ingest_router(settings, tokens.require("ingest")))
    return app
