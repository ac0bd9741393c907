"""`gourmand serve`: one FastAPI app for the read API (/v1, scope `read`) and the HR ingest API
(/ingest, /records, scope `ingest`); `/docs` is served from the package, no CDN."""

from __future__ import annotations

from fastapi import FastAPI

from extract.serve.auth import Tokens
from extract.serve.hr_api import ingest_router
from extract.serve.read_api import ReadAPI
from extract.settings import Settings
from extract.warehouse.catalog import Resource, load_catalog


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
    _mount_site(app, settings, "read" in tokens.anonymous)
    return app


def _mount_site(app: FastAPI, settings: Settings, public: bool) -> None:
    """The dashboards at `/`: their figures are the marts', so they are served only where
    anyone may read the marts (GOURMAND_API_ANONYMOUS_READ); otherwise `/` says where the
    site's files are."""
    from fastapi.responses import PlainTextResponse
    from fastapi.staticfiles import StaticFiles

    site = settings.home / "reports" / "site"
    if public and (site / "index.html").exists():
        app.mount("/", StaticFiles(directory=site, html=True), name="site")
        return

    @app.get("/", include_in_schema=False)
    def where() -> PlainTextResponse:
        reason = (
            "served here when GOURMAND_API_ANONYMOUS_READ=true"
            if not public
            else "not built yet (`gourmand report dashboards`)"
        )
        return PlainTextResponse(
            f"The dashboards are {reason}; their files are in reports/site of the server's "
            "home. The API: /docs",
            404,
        )
