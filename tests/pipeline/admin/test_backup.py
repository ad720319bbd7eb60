"""db_save / db_restore on real databases (SPEC §8).

These tests take a ``db_settings`` fixture: here a fresh SQLite file; ``tests/backends``
runs the very same tests with ``db_settings`` bound to a fresh MariaDB database.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
import time
from pathlib import Path

import pytest
from backup_helpers import add_foreign_table, checksums, other_database, populate
from prototype_db import write_prototype_database

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.errors import BackupError, EasError
from plato_eas.model.schema import SCHEMA_VERSION
from plato_eas.settings import Settings


@pytest.fixture
def db_settings(tmp_path) -> Settings:
    return Settings(db_path=str(tmp_path / "eas.sqlite"), data_dir=str(tmp_path / "data"))


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
                               f"schema_version={SCHEMA_VERSION} ")
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
    # force overwrites plato_eas's tables, and never touches a table that is not ours
    add_foreign_table(target, "extra_table")
    kept = checksums(target)["extra_table"]
    result = actions.db_restore(target, src=saved["path"], force=True)
    assert "extra_table" not in result["overwritten"] and "extra_table" not in result["tables"]
    assert checksums(target) == {**before, "extra_table": kept}


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
        # the watcher did see the tools, reading our option file and no other
        assert any("--defaults-file=" in c for c in seen)
        assert not any("--defaults-extra-file" in c for c in seen)
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
