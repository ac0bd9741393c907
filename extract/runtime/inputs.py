"""Values people type (`--day`, `--start`, `--since`, partition keys) parsed into typed values
before anything uses them: an unparseable or future value is refused with one sentence, and
what reaches SQL or SoQL afterwards is formatted from the typed value, never the typed text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

# Socrata's floating timestamps are the city's local time, up to a day ahead of UTC's date
FUTURE_SLACK = timedelta(days=1)


class InputError(ValueError):
    """A value a person gave that cannot be used, and why."""


def parse_day(text: str, what: str = "--day", *, today: date | None = None) -> date:
    """A survey day, YYYY-MM-DD, not after today."""
    try:
        day = date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InputError(f"{what} must be a date as YYYY-MM-DD, got {text!r}") from None
    today = today or datetime.now(UTC).date()
    if day > today:
        raise InputError(f"{what} {day} is in the future (today is {today})")
    return day


def parse_timestamp(text: str, what: str = "--since", *, now: datetime | None = None) -> datetime:
    """An ISO 8601 date or timestamp without a zone (Socrata's floating time), not after now."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InputError(
            f"{what} must be a date or timestamp as YYYY-MM-DD[THH:MM:SS], got {text!r}"
        ) from None
    if moment.tzinfo is not None:
        # a zone given: the same instant in UTC, then floating like Socrata's values
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    now = now or datetime.now(UTC).replace(tzinfo=None)
    if moment > now + FUTURE_SLACK:
        raise InputError(f"{what} {moment.isoformat()} is in the future")
    return moment


def soql_timestamp(moment: datetime) -> str:
    """A floating timestamp literal as Socrata writes them (millisecond precision)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
