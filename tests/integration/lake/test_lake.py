"""The lake writer on a local folder and on an S3 endpoint (moto server on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from extract.lake.files import list_files, open_lake, write_partition
from extract.settings import load_settings

pytestmark = pytest.mark.integration


def check_partition_replace(settings) -> None:
    lake = open_lake(settings)
    folder = "raw/yelp/businesses/surveyed_on=2024-01-01"
    write_partition(lake, folder, pa.table({"id": ["a", "b", "c"]}))
    write_partition(lake, folder, pa.table({"id": ["a", "b"]}))
    files = list_files(lake, "raw/yelp/businesses")
    assert len(files) == 1
    with lake.fs.open(files[0], "rb") as fh:
        assert pq.read_table(fh).column("id").to_pylist() == ["a", "b"]
    # an empty batch leaves no stale file behind
    write_partition(lake, folder, pa.table({"id": pa.array([], pa.string())}))
    assert list_files(lake, "raw/yelp/businesses") == []


def test_file_lake_partitions_are_replaced(tmp_path: Path):
    check_partition_replace(load_settings({"GOURMAND_HOME": str(tmp_path)}))


def test_s3_lake_partitions_are_replaced(tmp_path: Path, s3_lake):
    s3 = s3_lake.client
    settings = load_settings({"GOURMAND_HOME": str(tmp_path), **s3_lake.env})
    check_partition_replace(settings)
    write_partition(open_lake(settings), "raw/states/state_abbreviations", pa.table({"x": [1]}))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_lake.bucket)["Contents"]]
    assert keys == ["prod/raw/states/state_abbreviations/part-0.parquet"]
