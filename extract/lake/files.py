"""The lake: Parquet files under a `file://` folder or an `s3://bucket/prefix`.

Raw tables are mirrored from Postgres after each load, one folder per table and one partition per
batch (`raw/yelp/businesses/surveyed_on=2024-01-03/part-0.parquet`). A partition is rewritten as
a whole, so re-running a batch replaces its files instead of adding duplicates. The rows exported
are exactly those the load wrote (`_dlt_load_id`), read from Postgres as Arrow through ADBC.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fsspec import AbstractFileSystem
from fsspec.core import url_to_fs

from extract.settings import Settings

if TYPE_CHECKING:  # imported where used: the Dagster definitions import this module
    import pyarrow as pa


@dataclass(frozen=True)
class Lake:
    fs: AbstractFileSystem
    root: str  # path inside fs, no trailing slash
    url: str

    def path(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)

    def display(self, *parts: str) -> str:
        return posixpath.join(self.url.rstrip("/"), *parts)


PARTIAL_SUFFIX = ".partial"


@contextmanager
def atomic_write(lake: Lake, path: str) -> Iterator[Any]:
    """A file at `path` that appears whole or not at all: locally written under a temporary
    name in its folder and renamed when the block ends; on S3 the object itself, which appears
    only once its upload completes. If the block raises, nothing is left."""
    import os

    folder, name = posixpath.split(path)
    lake.fs.makedirs(folder, exist_ok=True)
    local = not lake.url.startswith("s3://")
    target = posixpath.join(folder, f".{name}.{os.getpid()}{PARTIAL_SUFFIX}") if local else path
    fh = lake.fs.open(target, "wb")
    try:
        yield fh
    except BaseException:
        if local:
            fh.close()
            lake.fs.rm(target)
        else:
            fh.discard()  # aborts the upload; the object never appears
            fh.closed = True  # or closing it at exit would try to upload what was discarded
        raise
    fh.close()
    if local:
        lake.fs.mv(target, path)


def remove_partials(lake: Lake, folder: str) -> list[str]:
    """Files a killed write left under their temporary names."""
    base = lake.path(folder)
    if not lake.fs.exists(base):
        return []
    partials = [p for p in lake.fs.find(base) if p.endswith(PARTIAL_SUFFIX)]
    for path in partials:
        lake.fs.rm(path)
    return partials


def open_lake(settings: Settings) -> Lake:
    """The lake's filesystem; S3 takes endpoint, keys and region from settings."""
    options: dict[str, Any] = {}
    if settings.lake_url.startswith("s3://"):
        options = {"client_kwargs": {"region_name": settings.lake_region}}
        if settings.lake_endpoint_url:
            options["endpoint_url"] = settings.lake_endpoint_url
        if settings.lake_key_id:
            options["key"] = settings.lake_key_id
            options["secret"] = settings.lake_secret
    fs, root = url_to_fs(settings.lake_url, **options)
    root = root.rstrip("/")
    if settings.lake_url.startswith("file://"):
        fs.makedirs(root, exist_ok=True)
    return Lake(fs=fs, root=root, url=settings.lake_url)


def write_partition(lake: Lake, folder: str, table: pa.Table) -> list[str]:
    """Replace the Parquet file of one partition folder with `table` (no file if it is empty).

    The new file is written beside the old one under a temporary name and then moved over it
    (a rename on a local disk, one whole-object copy on S3), so a reader sees the old partition
    or the new one, never none, and a killed write leaves the old file in place.
    """
    import uuid

    import pyarrow.parquet as pq

    target = lake.path(folder)
    final = posixpath.join(target, "part-0.parquet")
    if table.num_rows == 0:
        if lake.fs.exists(target):
            lake.fs.rm(target, recursive=True)
        return []
    lake.fs.makedirs(target, exist_ok=True)
    tmp = posixpath.join(target, f".part-0.{uuid.uuid4().hex}.tmp")
    with lake.fs.open(tmp, "wb") as fh:
        pq.write_table(table, fh, compression="zstd")
    lake.fs.mv(tmp, final)
    for leftover in lake.fs.ls(target, detail=False):
        if posixpath.basename(leftover) != "part-0.parquet":
            lake.fs.rm(leftover)  # a temporary file of a killed write
    return [final]


def list_files(lake: Lake, folder: str) -> list[str]:
    """Parquet files below a lake folder (for summaries and tests)."""
    base = lake.path(folder)
    if not lake.fs.exists(base):
        return []
    return sorted(p for p in lake.fs.find(base) if p.endswith(".parquet"))
