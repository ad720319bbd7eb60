"""db_save / db_restore on real databases (SPEC §8).

These tests take a ``db_settings`` fixture: here a fresh SQLite file; ``tests/backends``
runs the very same tests with ``db_settings`` bound to a fresh MariaDB database.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import threading
import time
from pathlib import Path

import pytest
from prototype_db import write_prototype_database

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.errors import BackupError, EasError
from plato_eas.settings import Settings

TRICKY = [
    "plain", "quote ' double \" backslash \\ percent % question ?", "line\nbreak\ttab",
    "unicode: Ω≈ç√ ✓ 🚀 日本", "", "-- not a comment; DROP TABLE eas_task;", "x" * 5000,
]
SELECT_ALL = "SELECT * FROM {}"
FLOATS = [1764012345.123456789, 1 / 3, -0.0, 1e-300, 6.02214076e23, math.pi, 0.1 + 0.2]


@pytest.fixture
def db_settings(tmp_path) -> Settings:
    return Settings(db_path=str(tmp_path / "eas.sqlite"), data_dir=str(tmp_path / "data"))


def other_database(settings: Settings, tmp_path: Path, request) -> Settings:
    """A second, empty database on the same engine/server."""
    if settings.db_engine == "sqlite":
        return settings.replace(db_path=str(tmp_path / "restored.sqlite"))
    mariadb = request.getfixturevalue("mariadb")
    name = settings.db_name + "_r"
    mariadb.create_database(name)
    request.addfinalizer(lambda: mariadb.drop_database(name))
    return settings.replace(db_name=name)


def checksums(settings: Settings) -> dict[str, tuple[int, str]]:
    """{table: (rows, sha256 of every row, in a canonical order)} for every table."""

    def unit(tx):
        out = {}
        for name in sorted(tx.dialect.table_names(tx)):
            rows = tx.tuples(SELECT_ALL.format(name))  # a name from the catalogue
            canon = sorted(repr(tuple(_canon(v) for v in row)) for row in rows)
            out[name] = (len(rows), hashlib.sha256("\n".join(canon).encode()).hexdigest())
        return out

    with Database(settings) as db:
        return db.read(unit)


def _canon(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, float):
        return value.hex()  # exact: a restore must not lose a single bit
    return value


def populate(settings: Settings) -> None:
    actions.init_schema(settings)

    def unit(tx):
        type_id = tx.scalar("SELECT taskTypeId FROM eas_task_types WHERE taskTypeName = 'null'")
        host = tx.insert("INSERT INTO eas_worker_host (hostname) VALUES (?)", ("node-1/42",))
        key = tx.insert("INSERT INTO eas_metadata_keys (name) VALUES (?)", ("k",))
        sem = tx.insert("INSERT INTO eas_semantic_type (name) VALUES (?)", ("lightcurve",))
        parent = None
        for i, text in enumerate(TRICKY):
            task = tx.insert(
                "INSERT INTO eas_task (parentTask, createdTime, isFullyConfigured, taskTypeId, "
                "jobName, taskName, workingDirectory) VALUES (?, ?, 1, ?, ?, ?, ?)",
                (parent, FLOATS[i % len(FLOATS)], type_id, f"job {i}", text[:200], f"wd/{i}"))
            parent = parent or task
            attempt = tx.insert(
                "INSERT INTO eas_scheduling_attempt (taskId, queuedTime, isQueued, isRunning, "
                "isFinished, hostId, startTime, latestHeartbeat, endTime, allProductsPassedQc, "
                "errorFail, errorText, runTimeWallClock, runTimeCpu, runTimeCpuIncChildren) "
                "VALUES (?, ?, 0, 0, 1, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
                (task, FLOATS[i % 7], host, FLOATS[(i + 1) % 7], None, FLOATS[(i + 2) % 7],
                 i % 2, text if i % 2 else None, 1 / (i + 1), 2 / (i + 3), 1e-9 * i))
            tx.execute("INSERT INTO eas_log_messages (generatedByTaskExecution, timestamp, "
                       "severity, message) VALUES (?, ?, ?, ?)", (attempt, FLOATS[i % 7], 40, text))
            tx.execute("INSERT INTO eas_metadata_item (taskId, setAtTime, metadataKey, "
                       "valueFloat, valueString) VALUES (?, ?, ?, ?, ?)",
                       (task, 1.5, key, FLOATS[i % 7] if i % 2 else None,
                        None if i % 2 else text))
            product = tx.insert(
                "INSERT INTO eas_product (generatorTask, plannedTime, directoryName, filename, "
                "semanticType, mimeType) VALUES (?, ?, ?, ?, ?, ?)",
                (task, 2.5, f"wd/{i}", f"f{i}.lc", sem, None))
            tx.execute(
                "INSERT INTO eas_product_version (productId, generatedByTaskExecution, "
                "repositoryId, createdTime, modifiedTime, fileMD5, fileSize, passedQc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (product, attempt, f"repo-{i}", 3.25, FLOATS[i % 7], "0" * 32, 2**40 + i, 1))

    with Database(settings) as db:
        db.run(unit)


# -- round trip ---------------------------------------------------------------------------
def test_save_restore_is_identical(db_settings, tmp_path, request):
    populate(db_settings)
    before = checksums(db_settings)
    saved = actions.db_save(db_settings, dest=str(tmp_path / "dump.sql.gz"))
    assert saved["changed"] and saved["size"] == Path(saved["path"]).stat().st_size > 0
    assert saved["sha256"] == hashlib.sha256(Path(saved["path"]).read_bytes()).hexdigest()
    assert oct(os.stat(saved["path"]).st_mode & 0o777) == "0o600"

    target = other_database(db_settings, tmp_path, request)
    restored = actions.db_restore(target, src=saved["path"])
    assert restored["changed"] and restored["engine"] == db_settings.db_engine
    assert restored["tables"] == {name: rows for name, (rows, _) in before.items()}
    assert checksums(target) == before
    # Auto-increment counters come back too: the next task does not reuse an id.
    with Database(target) as db:
        top = db.read(lambda tx: tx.scalar("SELECT MAX(taskId) FROM eas_task"))
        new = db.run(lambda tx: tx.insert(
            "INSERT INTO eas_task (createdTime, isFullyConfigured, taskTypeId, "
            "workingDirectory) VALUES (1, 1, 1, 'x')"))
    assert new > top


def test_default_dest_is_timestamped(db_settings):
    actions.init_schema(db_settings)
    saved = actions.db_save(db_settings)
    path = Path(saved["path"])
    assert path.name.startswith("eas-") and path.name.endswith(".sql.gz") and path.exists()
    with gzip.open(path, "rt") as fh:
        lines = fh.read().splitlines()
    assert lines[0].startswith(f"-- plato_eas db_save engine={db_settings.db_engine} "
                               "schema_version=1 ")
    assert lines[-1] == "-- plato_eas db_save end"


def test_check_mode_writes_nothing(db_settings, tmp_path):
    populate(db_settings)
    dest = tmp_path / "never.sql.gz"
    result = actions.db_save(db_settings, dest=str(dest), check_mode=True)
    assert result["changed"] and result["sha256"] is None and not dest.exists()
    saved = actions.db_save(db_settings, dest=str(dest))
    before = checksums(db_settings)
    planned = actions.db_restore(db_settings, src=saved["path"], force=True, check_mode=True)
    assert planned["changed"] and planned["tables"] == {}
    assert checksums(db_settings) == before


# -- refusing -----------------------------------------------------------------------------
def test_refuses_non_empty_database_without_force(db_settings, tmp_path, request):
    populate(db_settings)
    saved = actions.db_save(db_settings, dest=str(tmp_path / "a.sql.gz"))
    before = checksums(db_settings)

    target = other_database(db_settings, tmp_path, request)
    actions.init_schema(target)  # the registry alone does not count as data
    populate_more = checksums(target)
    assert populate_more["eas_task_types"][0] > 0
    actions.db_restore(target, src=saved["path"])
    assert checksums(target) == before

    with pytest.raises(BackupError, match="not empty.*force") as err:
        actions.db_restore(target, src=saved["path"])
    assert "\n" not in str(err.value)
    # force overwrites, including tables the dump does not have
    with Database(target) as db:
        db.run(lambda tx: tx.execute("CREATE TABLE extra_table (x INTEGER)"))
        db.run(lambda tx: tx.execute("INSERT INTO extra_table (x) VALUES (1)"))
    result = actions.db_restore(target, src=saved["path"], force=True)
    assert "extra_table" in result["overwritten"]
    assert checksums(target) == before


@pytest.mark.parametrize("damage", ["missing", "garbage", "truncated", "no_trailer",
                                    "bad_crc", "not_a_dump"])
def test_bad_dump_fails_before_changing_anything(db_settings, tmp_path, damage):
    populate(db_settings)
    good = Path(actions.db_save(db_settings, dest=str(tmp_path / "good.sql.gz"))["path"])
    bad = tmp_path / "bad.sql.gz"
    data = good.read_bytes()
    text = gzip.decompress(data)
    if damage == "garbage":
        bad.write_bytes(os.urandom(2000))
    elif damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "no_trailer":
        bad.write_bytes(gzip.compress(text[: len(text) // 2]))
    elif damage == "bad_crc":
        bad.write_bytes(data[:-8] + bytes(8))
    elif damage == "not_a_dump":
        bad.write_bytes(gzip.compress(b"SELECT 1;\n"))
    before = checksums(db_settings)
    with pytest.raises(BackupError) as err:
        actions.db_restore(db_settings, src=str(bad), force=True)
    message = str(err.value)
    assert "\n" not in message and str(bad) in message
    assert checksums(db_settings) == before


def test_dump_of_other_engine_is_refused(db_settings, tmp_path):
    other = "mysql" if db_settings.db_engine == "sqlite" else "sqlite"
    dump = tmp_path / "other.sql.gz"
    dump.write_bytes(gzip.compress(
        f"-- plato_eas db_save engine={other} schema_version=1 created=x\nSELECT 1;\n"
        "-- plato_eas db_save end\n".encode()))
    with pytest.raises(BackupError, match=f"made from a {other} database"):
        actions.db_restore(db_settings, src=str(dump))


def test_prototype_database_restores_and_reports(db_settings, tmp_path, request):
    write_prototype_database(db_settings)
    before = checksums(db_settings)
    assert "eas_schema_version" not in before
    saved = actions.db_save(db_settings, dest=str(tmp_path / "proto.sql.gz"))
    with gzip.open(saved["path"], "rt") as fh:
        assert " schema_version=0 " in fh.readline()

    target = other_database(db_settings, tmp_path, request)
    restored = actions.db_restore(target, src=saved["path"])
    assert restored["schema_version"] == 0
    assert checksums(target) == before  # restored as written: no column added or lost

    progress = actions.report(target, "progress")
    rows = {r["task_type"]: r for r in progress["rows"]}
    for name in ("synthesis_psls", "transit_search_bls"):
        row = rows[name]
        assert (row["waiting"], row["queued"], row["running"], row["done"]) == (1, 1, 1, 1)
    assert rows["execution_chain"]["done"] == 1
    assert progress["changed"] is False and "synthesis_psls" in progress["table"]


# -- secrets ------------------------------------------------------------------------------
def _cmdlines() -> list[str]:
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                out.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                           .decode("utf-8", "replace"))
            except OSError:
                pass
    return out


def test_password_never_on_a_command_line(db_settings, tmp_path):
    """Watches every process's command line while db_save and db_restore run."""
    populate(db_settings)
    secret = db_settings.db_password or "no-password-for-sqlite"
    seen: list[str] = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            seen.extend(c for c in _cmdlines() if "dump" in c or "mysql" in c
                        or "mariadb" in c or secret in c)
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        saved = actions.db_save(db_settings, dest=str(tmp_path / "s.sql.gz"))
        result = actions.db_restore(db_settings, src=saved["path"], force=True)
    finally:
        stop.set()
        watcher.join()
    assert not [c for c in seen if secret in c]
    assert secret not in repr(saved) and secret not in repr(result)
    if db_settings.db_engine == "mysql":
        assert any("--defaults-extra-file=" in c for c in seen)  # the watcher did see them
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("eas-my-*.cnf"))


def test_unreachable_database_is_one_line(db_settings, tmp_path):
    if db_settings.db_engine == "sqlite":
        bad = db_settings.replace(db_path="/proc/no/such/dir/eas.sqlite")
    else:
        bad = db_settings.replace(db_host="127.0.0.1", db_port=1)
    with pytest.raises(EasError) as err:
        actions.db_save(bad, dest=str(tmp_path / "x.sql.gz"))
    assert "\n" not in str(err.value)
    assert not (tmp_path / "x.sql.gz").exists()
