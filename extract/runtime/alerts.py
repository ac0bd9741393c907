"""Failure alerts as Slack-compatible webhook messages (`{"text": ...}`, which Slack, Mattermost
and most chat incoming-webhooks accept).

The webhook URL is the credential (whoever has it can post), so it comes from settings only
(`GOURMAND_ALERT_WEBHOOK` or `alerts.webhook` in `.dlt/secrets.toml`) and never appears in a
message, a log line or an exception raised here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import requests

MAX_ERROR_CHARS = 1500  # keep a stack trace from flooding the channel


class AlertFailed(RuntimeError):
    """The webhook did not accept the message (the URL is deliberately not in the text)."""


@dataclass(frozen=True)
class StepFailure:
    step: str
    error: str


def failure_message(job: str, run_id: str, failures: Sequence[StepFailure]) -> dict[str, str]:
    """The message for a failed run: the job, each failed step and its error."""
    lines = [f":red_circle: Gourmand run failed: job `{job}` (run {run_id})"]
    if not failures:
        lines.append("no step failed: the run failed before or between steps")
    for failure in failures:
        error = failure.error.strip()
        if len(error) > MAX_ERROR_CHARS:
            error = error[:MAX_ERROR_CHARS] + " …"
        lines.append(f"step `{failure.step}`:\n```{error}```")
    return {"text": "\n".join(lines)}


def post(webhook: str, message: dict[str, str], timeout: float = 10.0) -> None:
    """POST the message as JSON; raise AlertFailed (without the URL) if it is not accepted."""
    try:
        response = requests.post(webhook, json=message, timeout=timeout)
    except requests.RequestException as exc:
        reason = type(exc).__name__
        raise AlertFailed(f"the alert webhook could not be reached ({reason})") from None
    if response.status_code >= 300:
        raise AlertFailed(f"the alert webhook answered HTTP {response.status_code}")
