"""Backup of Postgres tables to Avro in the lake and their restore (extract.lake.backup,
`gourmand backup` / `gourmand restore`), on a real Postgres, a lake folder and a local S3."""

from __future__ import annotations

import os
import posixpath
import signal
import subprocess
import time
from pathlib import Path

import fastavro
import psycopg2
import pytest
from click.testing import CliRunner

from extract.lake.backup import BackupError, backup, list_backups, restore
from extract.runtime.postgres import connect
from tests.support import GOURMAND, pg_rows

pytestmark = pytest.mark.integration


KINDS = """
CREATE SCHEMA app;
CREATE TABLE app.kinds (
    id integer PRIMARY KEY,
    i2 smallint, i4 integer NOT NULL DEFAULT 0, i8 bigint,
    f4 real, f8 double precision,
    flag boolean, blob bytea,
    body text, short varchar(5), code char(4),
    money numeric(10,2), exact numeric,
    day date, at timestamptz, local timestamp, clock time, zclock timetz,
    key uuid, doc jsonb, span interval, ints integer[],
    -- values no native Avro type carries: these columns travel as text
    open_day date, open_at timestamptz, midnight time, unknown numeric(6,1),
    doubled integer GENERATED ALWAYS AS (id * 2) STORED
);
INSERT INTO app.kinds VALUES
 (1, -32768, 2147483647, 9223372036854775807, 1.1, 0.1, true, '\\x00ff5c0a',
  E'tab\\there\\nnew line\\\\back\\\\slash\\r\\n end', 'abcde', 'ab', 12345678.91,
  3.14159265358979323846264338327950288419716939937510582097494459230781640628620899,
  '2021-02-28', '2021-07-27 16:02:08.123456+02', '2021-07-27 16:02:08.5', '23:59:59.999999',
  '10:00:00+05:30', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{"a": [1, "x\\ty"], "b": null, "c": "é"}', '1 year 2 mons 3 days 04:05:06.7', '{1,NULL,3}',
  'infinity', '-infinity', '24:00', 'NaN'),
 (2, 32767, -2147483648, -9223372036854775808, 'NaN', 'Infinity', false, '', '', '', '',
  -0.01, 'NaN', '0001-01-01', '1970-01-01 00:00:00+00', '0001-01-01 00:00:00', '00:00',
  '00:00+00', '00000000-0000-0000-0000-000000000000', '[]', '-1 day', '{}',
  '4713-01-01 BC', '10000-01-01 00:00:00+00', '12:00', 5.5),
 (3, NULL, 0, NULL, '-Infinity', '-Infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 1, 1, 1, 3.4028235e38, 1e-300, true, '\\x5c', 'ü € 𝄞 \\N', 'x', 'abcd', 99999999.99,
  '-1e-20', '9999-12-31', '9999-12-31 23:59:59.999999+00', '1900-01-01 00:00:00.000001',
  '12:34:56', '23:59:59-12', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '"just a string"',
  '0', '{{1,2},{3,4}}', '2021-01-01', '2021-01-01 00:00:00+00', '00:00:00', -12345.6);
"""
TYPES = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_attribute AS a
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
"""


def run(settings, sql: str, *params) -> None:
    conn = connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params or None)
        conn.commit()
    finally:
        conn.close()


def rows(settings, table: str) -> list[tuple]:
    return pg_rows(settings, f"SELECT t::text FROM {table} AS t ORDER BY id")


def types(settings, table: str) -> list[tuple]:
    return pg_rows(settings, TYPES, table)


def digest(settings, table: str) -> tuple:
    """A cheap fingerprint of a big table's every row."""
    return pg_rows(
        settings, f"SELECT count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM {table} AS t"
    )[0]


@pytest.fixture
def settings(make_settings):
    return make_settings()


@pytest.fixture
def kinds(settings):
    run(settings, KINDS)
    return settings


def test_round_trip_keeps_every_value_and_type(kinds, settings):
    original, original_types = rows(settings, "app.kinds"), types(settings, "app.kinds")
    result = backup(settings, "app.kinds")
    assert result.rows == 4 and result.table == "app.kinds"

    # the file is in the lake, named by its UTC time, its schema records each Postgres type
    lake = settings.home / "lake"
    (file,) = (lake / "backups" / "app.kinds").iterdir()
    assert file.suffix == ".avro" and result.url == file.as_uri()
    with file.open("rb") as fh:
        reader = fastavro.reader(fh)
        fields = {f["name"]: f for f in reader.writer_schema["fields"]}
        assert reader.metadata["gourmand.table"] == "app.kinds"
        assert reader.metadata["gourmand.rows"] == "4"
        assert sum(1 for _ in reader) == 4
    assert "doubled" not in fields  # generated: computed again on restore
    assert fields["money"]["pg_type"] == "numeric(10,2)"
    assert fields["i4"]["type"] == "int"  # NOT NULL: no union
    assert fields["at"]["type"][1]["logicalType"] == "timestamp-micros"
    assert fields["local"]["type"][1]["logicalType"] == "local-timestamp-micros"
    assert fields["money"]["type"][1]["logicalType"] == "decimal"
    for name in ("exact", "doc", "span", "ints", "zclock", "open_day", "open_at", "midnight"):
        assert fields[name]["type"] == ["null", "string"], name
    assert fields["unknown"]["type"] == ["null", "string"]  # it holds a NaN

    run(
        settings,
        "UPDATE app.kinds SET body = 'changed', open_at = now(), f4 = 0 WHERE id = 1;"
        "UPDATE app.kinds SET money = NULL, blob = '\\xdead' WHERE id = 2;"
        "DELETE FROM app.kinds WHERE id = 4;"
        "INSERT INTO app.kinds (id, body) VALUES (5, 'new');",
    )
    assert rows(settings, "app.kinds") != original
    restored = restore(settings, "app.kinds")
    assert restored.rows == 4 and restored.url == result.url
    assert rows(settings, "app.kinds") == original
    assert types(settings, "app.kinds") == original_types
    # the text form compares the rendering; compare the binary-exact values too
    assert pg_rows(
        settings, "SELECT f4 = 1.1::real, f8 = 0.1::float8, body FROM app.kinds WHERE id = 1"
    ) == [(True, True, "tab\there\nnew line\\back\\slash\r\n end")]
    assert pg_rows(
        settings, "SELECT body = '', short IS NULL FROM app.kinds WHERE id IN (2, 3)"
    ) == [
        (True, False),
        (None, True),
    ]


def test_a_second_backup_keeps_the_first_and_the_older_one_restores(settings):
    run(settings, "CREATE SCHEMA app; CREATE TABLE app.t (id int, v text)")
    run(settings, "INSERT INTO app.t VALUES (1, 'one'), (2, 'two')")
    first_rows = rows(settings, "app.t")
    first = backup(settings, "app.t")
    run(settings, "INSERT INTO app.t VALUES (3, 'three'); UPDATE app.t SET v = 'uno' WHERE id = 1")
    second_rows = rows(settings, "app.t")
    second = backup(settings, "app.t")
    assert (first.rows, second.rows) == (2, 3)

    found = list_backups(settings, "app.t")
    assert len(found) == 2
    assert [posixpath.basename(p) for p in found] == [
        posixpath.basename(first.url),
        posixpath.basename(second.url),
    ]
    assert all(p.startswith(str(settings.home / "lake" / "backups" / "app.t") + "/") for p in found)

    run(settings, "DELETE FROM app.t")
    assert restore(settings, "app.t", found[0]).rows == 2  # a path
    assert rows(settings, "app.t") == first_rows
    assert restore(settings, "app.t").rows == 3  # the latest
    assert rows(settings, "app.t") == second_rows
    assert restore(settings, "app.t", first.url).rows == 2  # a file:// URL
    assert rows(settings, "app.t") == first_rows
    assert list_backups(settings, "app.t") == found  # restores add no files


@pytest.fixture
def cli(settings, monkeypatch):
    from extract.cli import main
    from extract.settings import get_settings

    monkeypatch.setenv("GOURMAND_HOME", str(settings.home))
    monkeypatch.setenv("GOURMAND_OLTP_DSN", settings.oltp_dsn)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(main, list(args))
    get_settings.cache_clear()


def test_cli_backup_and_restore(settings, cli):
    run(settings, "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, v text)")
    run(settings, "INSERT INTO app.t SELECT g, 'v' || g FROM generate_series(1, 1500) g")
    before = rows(settings, "app.t")
    result = cli("backup", "app.t")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("app.t: 1,500 rows -> file://")
    (older,) = list_backups(settings, "app.t")
    run(settings, "DELETE FROM app.t WHERE id > 10")
    assert cli("backup", "app.t").exit_code == 0
    run(settings, "TRUNCATE app.t")
    result = cli("restore", "app.t", "--file", older)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"app.t: 1,500 rows restored from {older} in ")
    assert rows(settings, "app.t") == before
    result = cli("restore", "app.t")
    assert result.exit_code == 0 and rows(settings, "app.t") == before[:10]

    result = cli("backup", "app.nope")
    assert result.exit_code == 2 and "error: no table app.nope" in result.stderr
    result = cli("restore", "app.t", "--file", str(settings.home / "missing.avro"))
    assert result.exit_code == 2 and "error: no backup file" in result.stderr
    assert rows(settings, "app.t") == before[:10]


def test_a_damaged_backup_is_refused_and_changes_nothing(settings, tmp_path):
    run(settings, "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, v text, x float8)")
    # enough rows for several Avro blocks (one per MB of data)
    run(
        settings,
        "INSERT INTO app.t SELECT g, md5(g::text) || md5((g + 1)::text), g / 7.0 "
        "FROM generate_series(1, 40000) g",
    )
    backup(settings, "app.t")
    (path,) = list_backups(settings, "app.t")
    data = Path(path).read_bytes()
    with open(path, "rb") as fh:
        sync = fastavro.reader(fh)._header["sync"]
    markers = [i for i in range(len(data)) if data.startswith(sync, i)]
    assert len(markers) >= 3, "the backup should hold more than one block"
    middle = len(data) // 2
    damaged = {
        "cut in half": (data[:middle], "is damaged: EOFError"),
        "empty": (b"", "is not a readable backup"),
        "not Avro": (b"not an avro file\n" * 50, "is not a readable backup"),
        "a byte changed": (
            data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :],
            "is damaged",
        ),
        # cut right after a block: what is left reads as a valid, shorter Avro file
        "cut after a block": (
            data[: markers[1] + len(sync)],
            "is truncated: it holds 1",  # some thousands of rows
        ),
    }
    run(
        settings,
        "UPDATE app.t SET v = 'changed' WHERE id <= 100; DELETE FROM app.t WHERE id > 39000",
    )
    before = digest(settings, "app.t")
    for name, (content, reason) in damaged.items():
        bad = tmp_path / f"{name.replace(' ', '_')}.avro"
        bad.write_bytes(content)
        with pytest.raises(BackupError) as error:
            restore(settings, "app.t", str(bad))
        assert str(error.value).startswith(f"{bad} {reason}"), (name, str(error.value))
        assert digest(settings, "app.t") == before, name
    assert "of the 40,000 rows backed up" in str(error.value)
    # the intact file still restores
    assert restore(settings, "app.t", path).rows == 40_000
    assert digest(settings, "app.t") != before


def test_a_restore_killed_midway_changes_nothing(settings):
    run(settings, "CREATE SCHEMA app; CREATE TABLE app.big (id int PRIMARY KEY, v text)")
    run(settings, "INSERT INTO app.big SELECT g, 'row ' || g FROM generate_series(1, 300000) g")
    backup(settings, "app.big")
    run(
        settings,
        "UPDATE app.big SET v = 'after' WHERE id % 10 = 0; DELETE FROM app.big WHERE id > 290000;"
        "INSERT INTO app.big VALUES (400000, 'new')",
    )
    before = digest(settings, "app.big")
    watch = connect(settings)
    watch.autocommit = True
    holding = (
        "SELECT count(*) FROM pg_stat_activity AS a JOIN pg_locks AS l ON l.pid = a.pid "
        "WHERE a.application_name = 'gourmand restore' AND a.datname = current_database() "
        "AND l.relation = 'app.big'::regclass AND l.mode = 'ExclusiveLock' AND l.granted"
    )
    present = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = 'gourmand restore' AND datname = current_database()"
    )
    env = dict(os.environ, GOURMAND_HOME=str(settings.home), GOURMAND_OLTP_DSN=settings.oltp_dsn)
    proc = subprocess.Popen(
        [GOURMAND, "restore", "app.big"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with watch.cursor() as cur:
            deadline = time.monotonic() + 30
            while True:
                cur.execute(holding)
                if cur.fetchone()[0]:
                    break
                assert proc.poll() is None, "the restore ended before it was seen at work"
                assert time.monotonic() < deadline, "the restore never took its lock"
                time.sleep(0.01)
            time.sleep(0.2)  # into the copy of its rows
            assert proc.poll() is None, "the restore finished before it could be killed"
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=10) == -signal.SIGKILL
            deadline = time.monotonic() + 30
            while True:
                cur.execute(present)
                if cur.fetchone()[0] == 0:
                    break
                assert time.monotonic() < deadline, "the killed restore's backend stayed"
                time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        watch.close()
    assert digest(settings, "app.big") == before
    assert pg_rows(
        settings, "SELECT count(*) FROM pg_locks WHERE relation = 'app.big'::regclass"
    ) == [(0,)]
    # writers are not blocked afterwards
    run(settings, "UPDATE app.big SET v = 'still writable' WHERE id = 1")


def test_restore_of_a_referenced_parent_keeps_its_children_valid(settings):
    run(
        settings,
        "CREATE SCHEMA app;"
        "CREATE TABLE app.parent (id int PRIMARY KEY, name text NOT NULL);"
        "CREATE TABLE app.child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES app.parent);"
        "INSERT INTO app.parent VALUES (1, 'one'), (2, 'two'), (3, 'three');"
        "INSERT INTO app.child VALUES (10, 1), (20, 2)",
    )
    original = rows(settings, "app.parent")
    backup(settings, "app.parent")
    run(
        settings,
        "UPDATE app.parent SET name = 'ONE' WHERE id = 1; INSERT INTO app.parent VALUES (4, 'x');"
        "DELETE FROM app.parent WHERE id = 3",
    )
    assert restore(settings, "app.parent").rows == 3
    assert rows(settings, "app.parent") == original
    assert rows(settings, "app.child") == [("(10,1)",), ("(20,2)",)]

    # a child now points at a parent the backup lacks: the restore fails, nothing changes
    run(settings, "INSERT INTO app.parent VALUES (5, 'five'); INSERT INTO app.child VALUES (50, 5)")
    before = rows(settings, "app.parent")
    with pytest.raises(BackupError, match="the table is unchanged") as failed:
        restore(settings, "app.parent")
    assert isinstance(failed.value.__cause__, psycopg2.errors.ForeignKeyViolation)
    assert rows(settings, "app.parent") == before


def test_restore_into_a_changed_table_is_refused(settings):
    run(settings, "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, v text)")
    run(settings, "INSERT INTO app.t VALUES (1, 'one')")
    backup(settings, "app.t")
    run(settings, "INSERT INTO app.t VALUES (2, 'two')")
    for change in (
        "ALTER TABLE app.t ADD COLUMN extra int",
        "ALTER TABLE app.t DROP COLUMN extra; ALTER TABLE app.t ALTER COLUMN v TYPE varchar(10)",
        "ALTER TABLE app.t ALTER COLUMN v TYPE text; ALTER TABLE app.t RENAME COLUMN v TO w",
    ):
        run(settings, change)
        before = rows(settings, "app.t")
        with pytest.raises(BackupError, match=r"does not fit app\.t: the backup has columns"):
            restore(settings, "app.t")
        assert rows(settings, "app.t") == before
        assert pg_rows(settings, "SELECT count(*) FROM app.t") == [(2,)]
    # back to the backed-up shape, it fits again
    run(settings, "ALTER TABLE app.t RENAME COLUMN w TO v")
    assert restore(settings, "app.t").rows == 1 and rows(settings, "app.t") == [("(1,one)",)]


def test_errors_name_the_problem(settings):
    with pytest.raises(BackupError, match=r"no table app\.nope"):
        backup(settings, "app.nope")
    with pytest.raises(BackupError, match="schema.table"):
        backup(settings, "nodot")
    assert list_backups(settings, "app.nope") == []
    assert not (settings.home / "lake" / "backups" / "app.nope").exists()
    run(settings, "CREATE SCHEMA app; CREATE TABLE app.t (id int)")
    with pytest.raises(BackupError, match=r"no backup of app\.t"):
        restore(settings, "app.t")
    with pytest.raises(BackupError, match="no backup file"):
        restore(settings, "app.t", str(settings.home / "nothing.avro"))
    backup(settings, "app.t")
    with pytest.raises(BackupError, match=r"no table app\.gone"):
        restore(settings, "app.gone", list_backups(settings, "app.t")[0])


def test_backup_and_restore_on_s3(make_settings, s3_lake):
    s3 = s3_lake.client
    settings = make_settings(**s3_lake.env)
    run(settings, KINDS)
    original = rows(settings, "app.kinds")
    first = backup(settings, "app.kinds")
    assert first.url.startswith(f"s3://{s3_lake.bucket}/prod/backups/app.kinds/")
    run(settings, "DELETE FROM app.kinds WHERE id > 1; UPDATE app.kinds SET body = 'changed'")
    changed = rows(settings, "app.kinds")
    second = backup(settings, "app.kinds")

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_lake.bucket)["Contents"]]
    assert sorted(keys) == [
        "prod/backups/app.kinds/" + posixpath.basename(u) for u in (first.url, second.url)
    ]
    assert len(list_backups(settings, "app.kinds")) == 2
    run(settings, "TRUNCATE app.kinds")
    assert restore(settings, "app.kinds").rows == 1
    assert rows(settings, "app.kinds") == changed
    # the older one, named by the URL the backup printed (the lake's endpoint and keys apply)
    assert restore(settings, "app.kinds", first.url).rows == 4
    assert rows(settings, "app.kinds") == original
