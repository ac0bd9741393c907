"""When an HR export was made, by what the export says of itself: the order in which exports are
applied, whatever the order they arrive in.

The HR files carry no header and no export date in their rows, so the file is what speaks:

- a date in its name: `employees_2021-09-30.csv`, `employees-20210930.csv`, `jobs_2021-09.csv`,
  optionally with a UTC time after a `T` (`employees_2021-09-30T1602.csv`,
  `employees_2021-09-30T16-02-08Z.csv`); a day stands for its midnight UTC, a month for its
  first day. A name that holds two dates, or a date that is not one (month 13) or lies ahead of
  the clock, is refused: guessing would decide which export overwrites which;
- else its modification time: when the HR system wrote it (copies that must keep their place
  keep it, `cp -p`, `rsync -t`; a plain copy of an old undated export counts as new).

An API batch is stated as of the moment it is received (`now()` in `ingest`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

# the clock skew tolerated between the HR system and this machine for a name's date
AHEAD = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# YYYY-MM[-DD] or YYYYMMDD, then an optional Thh[:-]mm[[:-]ss][Z]; not inside a longer number
_STAMP = re.compile(
    r"(?<![0-9])(?:(?P<y>\d{4})-(?P<m>\d{2})(?:-(?P<d>\d{2}))?|(?P<y8>\d{4})(?P<m8>\d{2})(?P<d8>\d{2}))"
    r"(?:T(?P<hh>\d{2})[:-]?(?P<mi>\d{2})(?:[:-]?(?P<ss>\d{2}))?Z?)?(?![0-9])",
    re.IGNORECASE,
)


class StampError(ValueError):
    """The file's name states an export date that cannot be trusted."""


def name_stamp(name: str, now: datetime | None = None) -> datetime | None:
    """The export time a file name states (UTC), or None when it states none."""
    stem = Path(name).name.rsplit(".", 1)[0]
    found = list(_STAMP.finditer(stem))
    if not found:
        return None
    if len(found) > 1:
        dates = ", ".join(m.group(0) for m in found)
        raise StampError(f"{name}: the name holds more than one date ({dates}); keep one")
    match = found[0]
    year, month, day = (
        (match["y"], match["m"], match["d"] or "1")
        if match["y"]
        else (match["y8"], match["m8"], match["d8"])
    )
    try:
        stamp = datetime(
            int(year), int(month), int(day), int(match["hh"] or 0), int(match["mi"] or 0),
            int(match["ss"] or 0), tzinfo=UTC,
        )  # fmt: skip
    except ValueError as exc:
        raise StampError(f"{name}: {match.group(0)!r} in the name is not a date ({exc})") from None
    if stamp > (now or datetime.now(UTC)) + AHEAD:
        raise StampError(
            f"{name}: the name dates the export {stamp:%Y-%m-%d %H:%M}Z, in the future"
        )
    return stamp


def modified_at(path: Path) -> datetime:
    """The file's modification time, to the microsecond (what Postgres keeps)."""
    return _EPOCH + timedelta(microseconds=path.stat().st_mtime_ns // 1000)


def export_stamp(path: Path) -> datetime:
    """When the export in `path` was made: the date its name states, else its modification
    time."""
    return name_stamp(path.name) or modified_at(path)
