"""The HR drop folder: the HR system writes `departments*.csv`, `jobs*.csv` and `employees*.csv`
there; each new or changed file is ingested once, departments before jobs before employees
(an employee's department and job must exist first). The order in which files arrive, or are
ingested within a run, does not decide which export wins: each file is stamped with what it
says of its own time (extract.sources.hr.stamps) and a newer export's rows are never replaced
by an older one's (extract.sources.hr.ingest).

`raw_hr._files` remembers what was ingested by (name, size, modification time), so a run
ingests only what is new, and files are left where the HR system put them. A file that fails
as a whole (unreadable, wrong table) is not remembered: it is tried again on the next run
until it is fixed or removed, and the run fails meanwhile, which is what alerts someone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from extract.runtime.postgres import connect
from extract.settings import Settings
from extract.sources.hr.ingest import FILES, IngestError, IngestResult, ensure_tables, ingest_file
from extract.sources.hr.rules import LOAD_ORDER

_NAME = re.compile(rf"^({'|'.join(LOAD_ORDER)})([_\-.][^/]*)?\.csv$", re.IGNORECASE)


@dataclass(frozen=True)
class DropFile:
    table: str
    path: Path
    size: int
    mtime_ns: int


def table_of(name: str) -> str | None:
    """`employees_2021-07.csv` -> employees; None for files that are not HR drops."""
    match = _NAME.match(name)
    return match.group(1).lower() if match else None


def list_drops(folder: Path) -> list[DropFile]:
    """The HR files in the folder, in load order (then by name)."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        table = table_of(path.name)
        if table and path.is_file():
            stat = path.stat()
            found.append(DropFile(table, path, stat.st_size, stat.st_mtime_ns))
    return sorted(found, key=lambda f: (LOAD_ORDER.index(f.table), f.path.name))


def _remembered(settings: Settings) -> set[tuple[str, int, int]]:
    conn = connect(settings)
    try:
        with conn.cursor() as cur:
            ensure_tables(cur)
            cur.execute(f"SELECT name, size, mtime_ns FROM {FILES}")
            seen = {(str(n), int(s), int(m)) for n, s, m in cur.fetchall()}
        conn.commit()
    finally:
        conn.close()
    return seen


def pending(settings: Settings) -> list[DropFile]:
    """Files in the drop folder not ingested yet (new, or changed since)."""
    seen = _remembered(settings)
    return [
        f for f in list_drops(settings.hr_drops) if (f.path.name, f.size, f.mtime_ns) not in seen
    ]


def _remember(settings: Settings, drop: DropFile, result: IngestResult) -> None:
    conn = connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {FILES} (name, size, mtime_ns, resource, batch) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (drop.path.name, drop.size, drop.mtime_ns, drop.table, result.batch),
            )
        conn.commit()
    finally:
        conn.close()


@dataclass
class DropRun:
    results: list[IngestResult]
    failed: list[tuple[str, str]]  # (file name, error)


def ingest_drops(settings: Settings) -> DropRun:
    """Ingest every pending file; file-level failures are collected, not raised, so one bad
    file does not hold back the others."""
    run = DropRun([], [])
    for drop in pending(settings):
        try:
            result = ingest_file(settings, drop.table, drop.path)
        except IngestError as exc:
            run.failed.append((drop.path.name, str(exc)))
            continue
        _remember(settings, drop, result)
        run.results.append(result)
    return run


def fetch_sandbox_drop(settings: Settings, base_url: str) -> list[Path]:
    """Put the sandbox's HR export (`/hr/<table>.csv`) into the drop folder, as the HR system
    would: the demo's HR data. A file whose content did not change is left untouched (same
    size and mtime: not ingested again)."""
    from extract.sources.registry import http_policy
    from extract.sources.rest import get_response, rest_client

    folder = settings.hr_drops
    folder.mkdir(parents=True, exist_ok=True)
    client = rest_client(base_url, http=http_policy(settings))
    written = []
    for table in LOAD_ORDER:
        body = get_response(client, f"/hr/{table}.csv", {}, "hr sandbox").content
        final = folder / f"{table}.csv"
        if final.exists() and final.read_bytes() == body:
            continue
        # a dot-name the sensor ignores until the rename makes the whole file appear at once
        partial = folder / f".{table}.csv.part"
        partial.write_bytes(body)
        partial.replace(final)
        written.append(final)
    return written
