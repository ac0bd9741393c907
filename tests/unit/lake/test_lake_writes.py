"""The lake's local writes: whole files or none, under the final name only once complete."""

from __future__ import annotations

import os
from pathlib import Path

import fsspec
import pytest

from extract.lake.files import PARTIAL_SUFFIX, Lake, remove_partials, use_atomic_local_writes


def test_put_file_writes_beside_then_renames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    use_atomic_local_writes()
    fs = fsspec.filesystem("file")
    source = tmp_path / "load.parquet"
    source.write_bytes(b"PAR1" + b"x" * 1000 + b"PAR1")
    final = tmp_path / "lake" / "state" / "1.abc.parquet"
    final.parent.mkdir(parents=True)
    renames: list[tuple[str, str]] = []
    real_replace = os.replace

    def seen_replace(src: str, dst: str) -> None:
        # at the moment of the rename the final name does not exist yet: a reader never saw a
        # partial file under it
        assert not final.exists()
        renames.append((src, dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", seen_replace)
    fs.put_file(str(source), str(final))
    assert final.read_bytes() == source.read_bytes()
    assert len(renames) == 1 and renames[0][0].endswith(PARTIAL_SUFFIX)
    assert not list(final.parent.glob(f"*{PARTIAL_SUFFIX}"))


def test_partials_of_a_killed_write_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "oltp" / "state"
    folder.mkdir(parents=True)
    (folder / ".1.abc.parquet.123.partial").write_bytes(b"PAR1")
    (folder / "1.abc.parquet").write_bytes(b"PAR1")
    lake = Lake(fs=fsspec.filesystem("file"), root=str(tmp_path), url=tmp_path.as_uri())
    assert [Path(p).name for p in remove_partials(lake, "oltp")] == [".1.abc.parquet.123.partial"]
    assert [p.name for p in folder.iterdir()] == ["1.abc.parquet"]
