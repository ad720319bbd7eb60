"""db_save / db_restore under hostile, oversized and interrupted conditions, on real databases.

Like ``test_backup.py``, these take ``db_settings`` (a fresh SQLite file here) and
``tests/backends/test_backup_mysql.py`` runs them again against MariaDB. Restores and saves
that must be measured or interrupted run in a child process.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from backup_helpers import (
    SIGNALS,
    add_foreign_table,
    add_log_rows,
    checksums,
    end_of_body,
    finish_child,
    inject,
    other_database,
    populate,
    read_dump,
    run_child,
    signal_when,
    start_child,
    write_dump,
)

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.errors import BackupError
from plato_eas.model.schema import SCHEMA_VERSION
from plato_eas.settings import Settings

# Peak RSS allowed to a restoring process and to the client it runs (Python, plato_eas and
# its drivers take 55-70 MiB; a statement may take 32 MiB, read and copied).
RSS_LIMIT_MIB = 256


@pytest.fixture
def db_settings(tmp_path) -> Settings:
    return Settings(db_path=str(tmp_path / "eas.sqlite"), data_dir=str(tmp_path / "data"))


def _insert(engine: str, table: str, values: str) -> str:
    quoted = f'"{table}"' if engine == "sqlite" else f"`{table}`"
    return f"INSERT INTO {quoted} VALUES ({values});"  # noqa: S608 - text of a test dump


def _saved_text(settings: Settings, tmp_path: Path) -> str:
    return read_dump(Path(actions.db_save(settings, dest=str(tmp_path / "src.sql.gz"))["path"]))


# -- schema versions ----------------------------------------------------------------------
@pytest.mark.parametrize("header", ["honest", "lying"])
def test_newer_schema_version_is_refused_before_any_change(db_settings, tmp_path, request,
                                                           header):
    """A dump written by a newer release is refused, whether its header says so or claims
    the current version: after a restore every command would fail."""
    populate(db_settings)
    source = other_database(db_settings, tmp_path, request)
    populate(source)
    newer = SCHEMA_VERSION + 1
    with Database(source) as db:
        db.run(lambda tx: tx.execute("UPDATE eas_schema_version SET version = ?", (newer,)))
    dump = Path(actions.db_save(source, dest=str(tmp_path / "newer.sql.gz"))["path"])
    if header == "lying":
        text = read_dump(dump)
        first, rest = text.split("\n", 1)
        assert f" schema_version={newer} " in first
        write_dump(dump, first.replace(f"={newer} ", f"={SCHEMA_VERSION} ") + "\n" + rest)
    before = checksums(db_settings)

    with pytest.raises(BackupError) as err:
        actions.db_restore(db_settings, src=str(dump), force=True)
    message = str(err.value)
    print(f"{header}: {message}")
    assert f"schema version {newer}" in message and "newer" in message and "\n" not in message
    assert checksums(db_settings) == before
    assert actions.report(db_settings, "progress")["rows"]  # still usable


# -- failures change nothing --------------------------------------------------------------
def test_failed_load_changes_nothing(db_settings, tmp_path):
    """A dump that is well formed but fails while loading (a duplicate key) leaves every
    table as it was, ours and others', reports the engine's own error with its line, and
    leaves no scratch table or file behind."""
    engine = db_settings.db_engine
    populate(db_settings)
    text, line = inject(_saved_text(db_settings, tmp_path), engine,
                        _insert(engine, "eas_worker_host", "1,'duplicate'"))
    dump = write_dump(tmp_path / "dup.sql.gz", text)
    add_foreign_table(db_settings)
    before = checksums(db_settings)
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    report = run_child(db_settings, "db_restore", env={"TMPDIR": str(scratch)},
                       src=str(dump), force=True)
    print(report)
    message = report.get("error", "")
    assert f"line {line}" in message and "\n" not in message
    assert "----" not in message
    assert re.search(r"UNIQUE constraint failed|ERROR 1062", message)
    assert checksums(db_settings) == before  # also: no scratch table left
    assert list(scratch.iterdir()) == []


# -- memory -------------------------------------------------------------------------------
def _write_expanding_dump(path: Path, text: str, engine: str, head: str, filler: bytes,
                          repeat: int, tail: str) -> int:
    """A dump whose body gains ``head + filler * repeat + tail`` before its end, written
    block by block (a few MB on disk for gigabytes of SQL). Returns the added line."""
    lines = text.split("\n")
    at = end_of_body(lines, engine)
    with gzip.open(path, "wb", compresslevel=6) as out:
        out.write(("\n".join(lines[:at]) + "\n" + head).encode())
        for _ in range(repeat):
            out.write(filler)
        out.write((tail + "\n" + "\n".join(lines[at:])).encode())
    return at + 1


def test_restore_refuses_a_statement_that_expands_beyond_the_limit(db_settings, tmp_path):
    """1 GiB of SQL in one statement, 1 MB on disk: refused with its line number while the
    restoring process stays small."""
    engine = db_settings.db_engine
    populate(db_settings)
    head = _insert(engine, "eas_log_messages", "NULL,1,40,'").removesuffix("');")
    dump = tmp_path / "bomb.sql.gz"
    line = _write_expanding_dump(dump, _saved_text(db_settings, tmp_path), engine, head,
                                 b"x" * (1 << 20), 1024, "');")
    print(f"dump on disk: {dump.stat().st_size / 1e6:.1f} MB for 1 GiB of SQL")
    before = checksums(db_settings)

    report = run_child(db_settings, "db_restore", src=str(dump), force=True)
    print({k: v for k, v in report.items() if k != "stderr"}, report.get("stderr", "")[-500:])
    assert f"line {line}" in report.get("error", "")
    assert report["maxrss_mib"] < RSS_LIMIT_MIB
    assert report["children_maxrss_mib"] < RSS_LIMIT_MIB
    assert checksums(db_settings) == before


def test_restore_streams_a_large_dump(db_settings, tmp_path):
    """128 MiB of rows (0.5 MB on disk) restore without the process growing with them."""
    engine = db_settings.db_engine
    populate(db_settings)
    rows = 2048
    row = _insert(engine, "eas_log_messages", "NULL,2,20,'" + "y" * 65536 + "'") + "\n"
    dump = tmp_path / "large.sql.gz"
    _write_expanding_dump(dump, _saved_text(db_settings, tmp_path), engine, "",
                          row.encode(), rows, "")
    print(f"dump on disk: {dump.stat().st_size / 1e6:.1f} MB for "
          f"{rows * len(row) / 2**20:.0f} MiB of SQL")

    report = run_child(db_settings, "db_restore", src=str(dump), force=True)
    print({k: v for k, v in report.items() if k not in ("stderr", "result")},
          report.get("error"), report.get("stderr", "")[-500:])
    assert report["result"]["tables"]["eas_log_messages"] == rows + 7
    assert report["maxrss_mib"] < RSS_LIMIT_MIB
    assert report["children_maxrss_mib"] < RSS_LIMIT_MIB


# -- interrupted save ---------------------------------------------------------------------
@pytest.mark.parametrize("signame", sorted(SIGNALS))
def test_interrupted_save_leaves_nothing_behind(db_settings, tmp_path, signame):
    """SIGTERM or SIGINT in the middle of db_save: neither the partial dump nor the client
    option file (it holds the password) stays behind."""
    populate(db_settings)
    add_log_rows(db_settings, 12000, 4096)  # ~50 MB: seconds of gzip
    out = tmp_path / "out"
    out.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    proc = start_child(db_settings, "db_save", env={"TMPDIR": str(scratch)},
                       dest=str(out / "dump.sql.gz"))

    def writing() -> bool:
        return any(p.name.startswith(".dump.sql.gz") and p.stat().st_size > 0
                   for p in out.iterdir())

    signal_when(proc, writing, SIGNALS[signame])
    report = finish_child(proc, timeout=60)
    left = sorted(p.name for p in [*out.iterdir(), *scratch.iterdir()])
    print(signame, {k: v for k, v in report.items() if k != "stderr"}, "left:", left)
    assert not report.get("hung") and "result" not in report  # it was interrupted
    assert left == []
