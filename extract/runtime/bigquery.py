"""The BigQuery client of the settings' project, as `postgres.py` holds the Postgres connections:
the read-only door (`query.py`) and the warehouse's lake load (`extract/warehouse/bigquery.py`)
both reach BigQuery through it."""

from __future__ import annotations

from typing import Any

from extract.settings import Settings


def client(settings: Settings) -> Any:
    """A BigQuery client for the settings' project: a service-account key file, else the
    application default credentials; an endpoint (a local BigQuery API) without credentials."""
    from google.cloud import bigquery

    if settings.bq_endpoint:
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(
            project=settings.bq_project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            location=settings.bq_location,
            client_options={"api_endpoint": settings.bq_endpoint},
        )
    if settings.bq_keyfile:
        from google.oauth2 import service_account

        credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            settings.bq_keyfile
        )
        return bigquery.Client(
            project=settings.bq_project, credentials=credentials, location=settings.bq_location
        )
    return bigquery.Client(project=settings.bq_project, location=settings.bq_location)
