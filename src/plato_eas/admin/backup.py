"""``db_save`` / ``db_restore`` (SPEC §8): gzip SQL dumps of the task database.

One format per engine, both gzip-compressed SQL text framed by two comment lines of ours::

    -- plato_eas db_save engine=<sqlite|mysql> schema_version=<n> created=<UTC ISO time>
    ... SQL ...
    -- plato_eas db_save end

* **MySQL/MariaDB**: the SQL is ``mysqldump --single-transaction`` output (a consistent InnoDB
  snapshot taken without locking writers), streamed through gzip; restored by streaming it into
  the ``mysql`` client. Credentials reach both tools in a temporary 0600 defaults file, never on
  a command line. A plain ``mysqldump | gzip`` file (the prototype's ``db_save``) is accepted too.
* **SQLite**: the SQL is ``iterdump()`` of a snapshot taken with SQLite's online backup API;
  restored by loading it into a scratch database, checking it, and copying that over the target
  with the backup API again (so a failed load never touches the target).

A dump is checked completely (gzip CRC, header and end line) before anything is changed: a
missing, truncated or corrupt file fails with a one-line :class:`~plato_eas.errors.BackupError`.
Restoring into a database that holds data refuses unless ``force`` (the task-type registry
loaded by ``schema`` does not count as data).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import zlib
from pathlib import Path
from typing import Iterator

from ..db import Database
from ..errors import BackupError, EasError
from ..model.schema import schema_version
from ..settings import Settings

HEADER = "-- plato_eas db_save"
TRAILER = "-- plato_eas db_save end"
# Tables that `schema` fills by itself: a database holding only these counts as empty.
BOOTSTRAP_TABLES = frozenset({"eas_task_types", "eas_worker_containers", "eas_task_containers",
                              "eas_schema_version", "eas_config"})
CHUNK = 1 << 16


# -- common -------------------------------------------------------------------------------
def default_dest(settings: Settings) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    name = settings.db_name if settings.db_engine == "mysql" else Path(settings.db_path).stem
    return Path(settings.data_dir) / "backups" / f"eas-{name}-{stamp}.sql.gz"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _header(engine: str, version: int | None) -> str:
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return f"{HEADER} engine={engine} schema_version={version or 0} created={created}\n"


def _table_counts(db: Database) -> dict[str, int]:
    def unit(tx) -> dict[str, int]:
        names = sorted(tx.dialect.table_names(tx))
        # table names come from the catalogue, quoted
        sql = "SELECT COUNT(*) FROM {}"
        return {n: int(tx.scalar(sql.format(_quote(tx, n)))) for n in names}

    return db.read(unit)


def _quote(tx, name: str) -> str:
    return f"`{name}`" if tx.dialect.name == "mysql" else '"' + name.replace('"', '""') + '"'


@contextlib.contextmanager
def _atomic_output(dest: Path) -> Iterator[Path]:
    """A temporary file beside ``dest`` (mode 0600) renamed over it only on success."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
        os.close(fd)
    except OSError as exc:
        raise BackupError(f"cannot write dump to {dest}: {exc.strerror}") from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    except OSError as exc:
        raise BackupError(f"cannot write dump to {dest}: {exc.strerror}") from None
    finally:
        tmp_path.unlink(missing_ok=True)


# -- reading and checking a dump ----------------------------------------------------------
def inspect_dump(src: Path) -> dict:
    """Read the whole dump once, checking the gzip CRC and its framing. Returns engine (or
    None for a plain tool dump: then ``tool`` says which), schema_version and size."""
    if not src.is_file():
        raise BackupError(f"dump file {src} does not exist")
    first = last = ""
    size = 0
    try:
        with gzip.open(src, "rt", encoding="utf-8", newline="\n") as fh:
            for line in fh:
                if not first:
                    first = line
                if line.strip():
                    last = line
                size += len(line)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BackupError(f"dump file {src} is corrupt or truncated ({reason})") from None
    last = last.strip()
    if first.startswith(HEADER + " "):
        if last != TRAILER:
            raise BackupError(f"dump file {src} is truncated (no end marker)")
        fields = dict(f.split("=", 1) for f in first.split()[3:] if "=" in f)
        return {"engine": fields.get("engine"), "tool": "db_save",
                "schema_version": int(fields.get("schema_version") or 0), "size": size}
    if first.startswith(("-- MySQL dump", "-- MariaDB dump")):
        if not last.startswith("-- Dump completed"):
            raise BackupError(f"dump file {src} is truncated (no 'Dump completed' line)")
        return {"engine": "mysql", "tool": "mysqldump", "schema_version": None, "size": size}
    if first.strip() == "BEGIN TRANSACTION;":
        if last != "COMMIT;":
            raise BackupError(f"dump file {src} is truncated (no COMMIT)")
        return {"engine": "sqlite", "tool": "iterdump", "schema_version": None, "size": size}
    raise BackupError(f"{src} is not a db_save dump (unrecognised first line)")


def _has_data(db: Database) -> dict[str, int]:
    """Tables (other than the schema's own bootstrap tables) that hold rows."""
    counts = _table_counts(db)
    return {n: c for n, c in counts.items() if c and n not in BOOTSTRAP_TABLES}


# -- SQLite -------------------------------------------------------------------------------
def _sqlite_open(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, timeout=60, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=60000")
        return conn
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open SQLite database {path}: {exc}") from None


def _sqlite_save(settings: Settings, db: Database, dest: Path) -> None:
    source = Path(settings.db_path)
    version = db.read(schema_version)
    with tempfile.TemporaryDirectory(prefix="eas-save-") as scratch:
        snap_path = Path(scratch) / "snapshot.sqlite"
        src = _sqlite_open(source)
        snap = _sqlite_open(snap_path)
        try:
            src.backup(snap)  # online backup API: a consistent copy while writers continue
            with _atomic_output(dest) as tmp, gzip.open(tmp, "wt", encoding="utf-8") as out:
                out.write(_header("sqlite", version))
                for statement in snap.iterdump():
                    out.write(statement + "\n")
                out.write(TRAILER + "\n")
        except sqlite3.Error as exc:
            raise BackupError(f"cannot dump SQLite database {source}: {exc}") from None
        finally:
            snap.close()
            src.close()


def _sqlite_restore(settings: Settings, src: Path) -> None:
    target = Path(settings.db_path)
    with tempfile.TemporaryDirectory(prefix="eas-restore-") as scratch:
        scratch_db = _sqlite_open(Path(scratch) / "restore.sqlite")
        try:
            with gzip.open(src, "rt", encoding="utf-8") as fh:
                script = fh.read()
            scratch_db.executescript(script)
            problem = scratch_db.execute("PRAGMA integrity_check").fetchone()[0]
            if problem != "ok":
                raise BackupError(f"dump file {src} loads into a damaged database: {problem}")
            target.parent.mkdir(parents=True, exist_ok=True)
            dest = _sqlite_open(target)
            try:
                scratch_db.backup(dest)
            finally:
                dest.close()
        except sqlite3.Error as exc:
            raise BackupError(f"cannot restore {src} into {target}: {exc}") from None
        finally:
            scratch_db.close()


# -- MySQL / MariaDB ----------------------------------------------------------------------
def _client(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise BackupError(f"{names[0]} not found: install the MariaDB/MySQL client tools "
                      "(Debian: mariadb-client)")


def _option_value(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@contextlib.contextmanager
def _defaults_file(settings: Settings) -> Iterator[str]:
    """A [client] option file, mode 0600, holding the connection and credentials."""
    fd, path = tempfile.mkstemp(prefix="eas-my-", suffix=".cnf")  # created 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("[client]\n")
            fh.write(f"host={_option_value(settings.db_host)}\n")
            fh.write(f"port={int(settings.db_port)}\n")
            fh.write("protocol=TCP\n")  # as pymysql: 'localhost' means TCP, not the socket
            fh.write(f"user={_option_value(settings.db_user)}\n")
            fh.write(f"password={_option_value(settings.db_password)}\n")
        yield path
    finally:
        os.unlink(path)


def _tool_error(tool: str, stderr: bytes, code: int) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    lines = [ln for ln in lines if "Warning" not in ln] or lines
    return f"{tool} failed (exit {code}): {lines[0] if lines else 'no message'}"


def _mysql_save(settings: Settings, db: Database, dest: Path) -> None:
    version = db.read(schema_version)
    dump = _client("mariadb-dump", "mysqldump")
    with _defaults_file(settings) as cnf, _atomic_output(dest) as tmp:
        cmd = [dump, f"--defaults-extra-file={cnf}", "--single-transaction", "--quick",
               "--skip-add-locks", "--hex-blob", "--no-tablespaces",
               "--default-character-set=utf8mb4", "--", settings.db_name]
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=errors)
            with gzip.open(tmp, "wb") as out:
                out.write(_header("mysql", version).encode())
                for block in iter(lambda: proc.stdout.read(CHUNK), b""):
                    out.write(block)
                code = proc.wait()
                if code != 0:
                    errors.seek(0)
                    raise BackupError(_tool_error("mysqldump", errors.read(), code))
                out.write((TRAILER + "\n").encode())


def _mysql_drop_all(db: Database) -> None:
    def unit(tx) -> None:
        tx.execute("SET FOREIGN_KEY_CHECKS = 0")
        for name in tx.dialect.table_names(tx):
            tx.execute(f"DROP TABLE IF EXISTS `{name}`")
        tx.execute("SET FOREIGN_KEY_CHECKS = 1")

    db.run(unit, attempts=1)


def _mysql_restore(settings: Settings, db: Database, src: Path) -> None:
    client = _client("mariadb", "mysql")
    _mysql_drop_all(db)
    db.close()
    with _defaults_file(settings) as cnf, tempfile.TemporaryFile() as errors:
        cmd = [client, f"--defaults-extra-file={cnf}", "--batch",
               "--default-character-set=utf8mb4", "--", settings.db_name]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=errors)
        try:
            with gzip.open(src, "rb") as fh:
                for block in iter(lambda: fh.read(CHUNK), b""):
                    proc.stdin.write(block)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        code = proc.wait()
        if code != 0:
            errors.seek(0)
            raise BackupError(_tool_error("mysql", errors.read(), code)
                              + " (the database may be partly restored; restore again)")


# -- the actions --------------------------------------------------------------------------
def save(settings: Settings, dest: str | None = None, check_mode: bool = False) -> dict:
    """Write a gzip SQL dump of the task database (a consistent snapshot).

    Returns changed, path, size (bytes), sha256 (of the .gz file); size and sha256 are None
    in check mode, where only the connection is checked."""
    path = Path(dest) if dest else default_dest(settings)
    with Database(settings) as db:
        db.read(lambda tx: tx.scalar("SELECT 1"))  # reachable, credentials right
        if check_mode:
            return {"changed": True, "path": str(path), "size": None, "sha256": None}
        if settings.db_engine == "sqlite" and not Path(settings.db_path).exists():
            raise BackupError(f"SQLite database {settings.db_path} does not exist")
        if settings.db_engine == "mysql":
            _mysql_save(settings, db, path)
        else:
            _sqlite_save(settings, db, path)
    return {"changed": True, "path": str(path), "size": path.stat().st_size,
            "sha256": _sha256(path)}


def restore(settings: Settings, src: str, force: bool = False,
            check_mode: bool = False) -> dict:
    """Restore a ``db_save`` dump. Refuses a database holding data unless ``force``; a
    missing or corrupt dump fails before anything is changed.

    Returns changed, src, tables ({table: rows} after the restore; {} in check mode),
    engine and schema_version of the dump."""
    path = Path(src)
    info = inspect_dump(path)
    if info["engine"] != settings.db_engine:
        raise BackupError(f"dump file {path} was made from a {info['engine']} database; "
                          f"it cannot be restored with db_engine {settings.db_engine}")
    sqlite_absent = settings.db_engine == "sqlite" and not Path(settings.db_path).exists()
    with Database(settings, create=not check_mode) as db:
        occupied = {} if sqlite_absent else _has_data(db)
        if occupied and not force:
            shown = ", ".join(f"{n} ({c} rows)" for n, c in sorted(occupied.items())[:4])
            raise BackupError(f"the task database is not empty ({shown}); "
                              "use force to overwrite it")
        result = {"changed": True, "src": str(path), "engine": info["engine"],
                  "schema_version": info["schema_version"], "overwritten": sorted(occupied)}
        if check_mode:
            return {**result, "tables": {}}
        try:
            if settings.db_engine == "mysql":
                _mysql_restore(settings, db, path)
            else:
                db.close()
                _sqlite_restore(settings, path)
        except EasError:
            raise
        except OSError as exc:
            raise BackupError(f"cannot restore {path}: {exc}") from None
        db.close()
        return {**result, "tables": _table_counts(db)}
