"""db_restore on SQLite runs nothing but table data, and leaves no scratch file behind; the
database file and its dumps are private to their owner."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from backup_helpers import (
    add_foreign_table,
    checksums,
    finish_child,
    inject,
    populate,
    read_dump,
    run_child,
    start_child,
    write_dump,
)

from plato_eas import actions
from plato_eas.errors import BackupError
from plato_eas.settings import Settings

# Each payload is added at the end of a real dump's body. None of them may run.
HOSTILE = {
    "attach": "ATTACH DATABASE '{evil}' AS evil;\nCREATE TABLE evil.pwned (x);",
    "attach_after_insert": "INSERT INTO \"eas_worker_host\" VALUES(99,'x'); "
                           "ATTACH DATABASE '{evil}' AS evil;",
    "pragma": "PRAGMA writable_schema=ON;",
    "trigger": "CREATE TRIGGER eas_trg AFTER INSERT ON eas_task BEGIN DELETE FROM keep_me; END;",
    "view": "CREATE VIEW eas_view AS SELECT * FROM keep_me;",
    "drop": 'DROP TABLE "keep_me";',
    "drop_ours": 'DROP TABLE "eas_task";',
    "update": "UPDATE \"eas_task\" SET jobName = 'x';",
    "delete": 'DELETE FROM "keep_me";',
    "insert_select": 'INSERT INTO "eas_worker_host" SELECT hostId + 100, hostname '
                     'FROM "eas_worker_host";',
    "function": "INSERT INTO \"eas_log_messages\" VALUES(NULL,1.0,40,zeroblob(1000000000));",
    "select": "SELECT load_extension('{evil}');",
    "not_ours": "CREATE TABLE other_table (x INTEGER);",
    "insert_not_ours": 'INSERT INTO "keep_me" VALUES(2);',
    "default_expression": "CREATE TABLE eas_extra (x BLOB DEFAULT (zeroblob(1000000000)));",
    "temp_table": "CREATE TEMP TABLE eas_temp (x INTEGER);",
    "nested_transaction": "BEGIN TRANSACTION;",
    "vacuum_into": "VACUUM INTO '{evil}';",
}


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(db_path=str(tmp_path / "eas.sqlite"), data_dir=str(tmp_path / "data"))


def _dump(settings: Settings, tmp_path: Path) -> str:
    populate(settings)
    return read_dump(Path(actions.db_save(settings, dest=str(tmp_path / "src.sql.gz"))["path"]))


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_dump_runs_nothing(settings, tmp_path, name):
    evil = tmp_path / "evil.db"
    text, line = inject(_dump(settings, tmp_path), "sqlite",
                        HOSTILE[name].format(evil=evil))
    dump = write_dump(tmp_path / "hostile.sql.gz", text)
    add_foreign_table(settings)
    before = checksums(settings)

    with pytest.raises(BackupError) as err:
        actions.db_restore(settings, src=str(dump), force=True)
    print(f"{name}: {err.value}")
    assert f"{dump}, line {line}:" in str(err.value) and "\n" not in str(err.value)
    assert not evil.exists()
    assert checksums(settings) == before


def test_dump_without_commit_is_refused_and_leaves_no_scratch(settings, tmp_path):
    """Without its COMMIT the old restore waited forever in Connection.backup()."""
    text = _dump(settings, tmp_path)
    assert "\nCOMMIT;\n" in text
    dump = write_dump(tmp_path / "nocommit.sql.gz", text.replace("\nCOMMIT;\n", "\n"))
    before = checksums(settings)
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    report = run_child(settings, "db_restore", timeout=60, env={"TMPDIR": str(scratch)},
                       src=str(dump), force=True)
    left = sorted(p.name for p in scratch.iterdir())
    print({k: v for k, v in report.items() if k != "stderr"}, "left:", left)
    assert not report.get("hung"), f"restore hung; left behind: {left}"
    assert "no COMMIT" in report["error"] and str(dump) in report["error"]
    assert left == []
    assert checksums(settings) == before


def test_killed_restore_leaves_no_scratch_file(settings, tmp_path):
    """Even SIGKILL in the middle of a restore leaves nothing in the temporary folder."""
    lines = "\n".join(f"INSERT INTO \"eas_log_messages\" VALUES(NULL,{i}.0,20,'{'z' * 4000}');"
                      for i in range(40000))
    text, _ = inject(_dump(settings, tmp_path), "sqlite", lines)
    dump = write_dump(tmp_path / "big.sql.gz", text)
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    proc = start_child(settings, "db_restore", env={"TMPDIR": str(scratch)}, src=str(dump),
                       force=True)
    time.sleep(1.5)
    assert proc.poll() is None, "the restore finished too soon: make the dump larger"
    os.kill(proc.pid, signal.SIGKILL)
    finish_child(proc, timeout=30)
    left = sorted(p.name for p in scratch.iterdir())
    print("left:", left)
    assert left == []


def test_database_and_dumps_are_private(tmp_path):
    """The database (and its WAL files) and dumps hold task logs and metadata: 0600, whatever
    the umask."""
    settings = Settings(db_path=str(tmp_path / "new" / "eas.sqlite"),
                        data_dir=str(tmp_path / "data"))
    old = os.umask(0o022)
    try:
        populate(settings)
        dump = actions.db_save(settings, dest=str(tmp_path / "d.sql.gz"))["path"]
        restored = settings.replace(db_path=str(tmp_path / "restored" / "eas.sqlite"))
        actions.db_restore(restored, src=dump)
    finally:
        os.umask(old)
    files = [Path(dump), *Path(settings.db_path).parent.iterdir(),
             *Path(restored.db_path).parent.iterdir()]
    modes = {str(p.relative_to(tmp_path)): oct(p.stat().st_mode & 0o777) for p in files}
    print(modes)
    assert set(modes.values()) == {"0o600"}


def test_plain_iterdump_restores(settings, tmp_path):
    """A dump without our header (``iterdump()`` of the database, gzipped) restores too."""
    import gzip
    import sqlite3

    populate(settings)
    before = checksums(settings)
    conn = sqlite3.connect(settings.db_path)
    text = "\n".join(conn.iterdump()) + "\n"
    conn.close()
    dump = tmp_path / "plain.sql.gz"
    dump.write_bytes(gzip.compress(text.encode()))
    target = settings.replace(db_path=str(tmp_path / "target.sqlite"))
    result = actions.db_restore(target, src=str(dump))
    assert result["engine"] == "sqlite" and result["schema_version"] is None
    assert checksums(target) == before
