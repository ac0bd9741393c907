"""The lake's local writes: whole files or none, under the final name only once complete."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

from extract.lake.files import PARTIAL_SUFFIX, Lake, atomic_write, remove_partials


def test_a_file_appears_under_its_name_only_once_complete(tmp_path: Path):
    lake = Lake(fs=fsspec.filesystem("file"), root=str(tmp_path), url=tmp_path.as_uri())
    final = tmp_path / "oltp" / "state" / "1.abc.parquet"
    with atomic_write(lake, str(final)) as out:
        out.write(b"PAR1")
        # while it is written, a reader sees no file under the final name
        assert not final.exists()
        assert [p.name for p in final.parent.iterdir()][0].endswith(PARTIAL_SUFFIX)
        out.write(b"PAR1")
    assert final.read_bytes() == b"PAR1PAR1"
    assert [p.name for p in final.parent.iterdir()] == ["1.abc.parquet"]


def test_a_write_that_fails_leaves_nothing(tmp_path: Path):
    lake = Lake(fs=fsspec.filesystem("file"), root=str(tmp_path), url=tmp_path.as_uri())
    final = tmp_path / "oltp" / "state" / "1.abc.parquet"
    with pytest.raises(OSError, match="disk full"), atomic_write(lake, str(final)) as out:
        out.write(b"PAR1")
        raise OSError("disk full")
    assert list(final.parent.iterdir()) == []


def test_partials_of_a_killed_write_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "oltp" / "state"
    folder.mkdir(parents=True)
    (folder / ".1.abc.parquet.123.partial").write_bytes(b"PAR1")
    (folder / "1.abc.parquet").write_bytes(b"PAR1")
    lake = Lake(fs=fsspec.filesystem("file"), root=str(tmp_path), url=tmp_path.as_uri())
    assert [Path(p).name for p in remove_partials(lake, "oltp")] == [".1.abc.parquet.123.partial"]
    assert [p.name for p in folder.iterdir()] == ["1.abc.parquet"]
