"""``db_save`` / ``db_restore`` (SPEC §8): gzip SQL dumps of the task database.

One dump format per engine, both gzip-compressed SQL framed by two comment lines of ours
(:mod:`.dumpfile`). Each engine's way of writing and loading a dump is a strategy module
beside this one, named by the database dialect's ``backup_strategy``.

What holds on every engine:

* a restore runs nothing but the definitions and rows of our own ``eas_*`` tables: a dump is
  read through completely (gzip CRC, framing, every statement) and refused with the line
  at fault before anything changes, and read again while loading;
* it loads into scratch space and replaces our tables in one step only once the load has
  succeeded and its schema version is supported; tables that are not ours are never touched;
* memory stays bounded however large the dump (or the statement) is;
* SIGTERM or SIGINT cleans up (partial dump, scratch tables) before the process ends;
* dumps are private (0600) and the password never reaches a file, a command line or a result.

Restoring into a database that holds data of ours is refused unless ``force`` (the task-type
registry loaded by ``schema`` does not count as data).
"""

from __future__ import annotations

import gzip
import importlib
from pathlib import Path
from types import ModuleType

from ...db import Database
from ...errors import BackupError
from ...model.schema import SCHEMA_VERSION, schema_version
from ...settings import Settings
from . import dumpfile
from .interrupt import interruptible
from .rules import is_ours

# Tables that `schema` fills by itself: a database holding only these counts as empty.
BOOTSTRAP_TABLES = frozenset({"eas_task_types", "eas_worker_containers", "eas_task_containers",
                              "eas_schema_version", "eas_config"})


def strategy_for(db: Database) -> ModuleType:
    return importlib.import_module(f"{__name__}.{db.dialect.backup_strategy}")


def save(settings: Settings, dest: str | None = None, check_mode: bool = False) -> dict:
    """Write a gzip SQL dump of the task database (a consistent snapshot of our tables).

    Returns changed, path, size (bytes), sha256 (of the .gz file); size and sha256 are None
    in check mode, where only the connection is checked."""
    with Database(settings) as db:
        strategy = strategy_for(db)
        path = Path(dest) if dest else dumpfile.default_dest(settings.data_dir,
                                                             strategy.dump_name(settings))
        version = db.read(schema_version)  # reachable, credentials right
        if check_mode:
            return {"changed": True, "path": str(path), "size": None, "sha256": None}
        if version is None:
            raise BackupError("the task database has no plato_eas tables: nothing to save")
        with interruptible(), dumpfile.atomic_output(path) as tmp, gzip.open(tmp, "wb") as out:
            out.write((dumpfile.header_line(strategy.NAME, version) + "\n").encode())
            strategy.save(settings, db, out)
            out.write((dumpfile.TRAILER + "\n").encode())
    return {"changed": True, "path": str(path), "size": path.stat().st_size,
            "sha256": dumpfile.sha256(path)}


def restore(settings: Settings, src: str, force: bool = False,
            check_mode: bool = False) -> dict:
    """Restore a ``db_save`` dump. Refuses a database holding data unless ``force``; a
    missing, corrupt or hostile dump fails before anything is changed.

    Returns changed, src, tables ({table: rows} of our tables after the restore; {} in
    check mode), engine and schema_version of the dump, overwritten (our tables that held
    data)."""
    path = Path(src)
    info = dumpfile.read_header(path)
    if info.engine is not None and info.engine != settings.db_engine:
        raise BackupError(f"dump file {path} was made from a {info.engine} database; "
                          f"it cannot be restored with db_engine {settings.db_engine}")
    _check_version(path, info.schema_version)
    with Database(settings, create=not check_mode) as db:
        strategy = strategy_for(db)
        strategy.check(info)  # the whole dump, once: refuses before anything changes
        occupied = _has_data(db) if db.dialect.exists() else {}
        if occupied and not force:
            shown = ", ".join(f"{n} ({c} rows)" for n, c in sorted(occupied.items())[:4])
            raise BackupError(f"the task database is not empty ({shown}); "
                              "use force to overwrite it")
        result = {"changed": True, "src": str(path), "engine": info.engine,
                  "schema_version": info.schema_version, "overwritten": sorted(occupied)}
        if check_mode:
            return {**result, "tables": {}}
        try:
            with interruptible():
                strategy.restore(settings, db, info, lambda v: _check_version(path, v))
        except OSError as exc:
            raise BackupError(f"cannot restore {path}: {exc}") from None
        db.close()
        return {**result, "tables": _table_counts(db)}


def _check_version(path: Path, version: int | None) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise BackupError(f"dump file {path} holds schema version {version}, newer than this "
                          f"release supports ({SCHEMA_VERSION}); upgrade plato_eas to restore it")


def _table_counts(db: Database) -> dict[str, int]:
    def unit(tx) -> dict[str, int]:
        names = sorted(n for n in tx.dialect.table_names(tx) if is_ours(n))
        count = "SELECT COUNT(*) FROM {}"  # names of ours: checked by is_ours
        return {n: int(tx.scalar(count.format(n))) for n in names}

    return db.read(unit)


def _has_data(db: Database) -> dict[str, int]:
    """Our tables (other than the schema's own bootstrap tables) that hold rows."""
    return {n: c for n, c in _table_counts(db).items() if c and n not in BOOTSTRAP_TABLES}
