"""The Dagster home of a Gourmand home: created on first use, telemetry off."""

from __future__ import annotations

from pathlib import Path

from extract.settings import Settings


def ensure_dagster_home(settings: Settings) -> Path:
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    return settings.dagster_home
