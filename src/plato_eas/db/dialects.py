"""Everything that differs between SQLite and MySQL/MariaDB, and nothing else.

A dialect opens connections (creating a missing MySQL database when asked to, or saying what an
administrator must run), translates the project's ``?`` placeholders, supplies the few
DDL fragments that differ (the indexes the claim and the scheduler read, dropping an index),
begins, commits and rolls back transactions, says whether DDL can
be retried, finds existing indexes, switches foreign-key checks off for a drop, serialises
scheduler passes, picks the SQL queue's claim strategy, and says which driver errors mean
"try the transaction again".
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .. import stopping
from ..errors import DatabaseError
from ..settings import Settings


@dataclass(frozen=True)
class ClaimStrategy:
    """How a claim on the SQL queue takes one of the oldest queued attempts (queues/sql.py).

    ``window``: how many of the oldest queued attempts concurrent claimers spread over (each
    starts at a different place in it); ``atomic``: the claim runs as one transaction (its
    read and its conditional UPDATE see the same queue) rather than statement by statement
    (each UPDATE committing on its own, checked by its row count)."""

    window: int
    atomic: bool


class SqliteDialect:
    name = "sqlite"
    backup_strategy = "sqlite"  # plato_eas.admin.backup.sqlite
    autoincrement = "INTEGER PRIMARY KEY AUTOINCREMENT"
    long_text = "TEXT"
    table_options = ""
    insert_ignore = "INSERT OR IGNORE"
    # Partial indexes: a claim scans only queued attempts, highest priority first, oldest
    # first within a priority; the scheduler only attempts with a retry to act on.
    queued_index = (
        "CREATE INDEX eas_attempt_claim ON eas_scheduling_attempt "
        "(priority DESC, schedulingAttemptId) WHERE isQueued = 1"
    )
    running_index = (
        "CREATE INDEX eas_attempt_running ON eas_scheduling_attempt "
        "(latestHeartbeat) WHERE isRunning = 1"
    )
    retry_index = (
        "CREATE INDEX eas_attempt_retry ON eas_scheduling_attempt "
        "(retryAt) WHERE retryAt IS NOT NULL"
    )
    #: DDL is transactional: a unit that creates tables may be re-run like any other.
    transactional_ddl = True
    #: BEGIN IMMEDIATE serialises claimers, so the oldest queued attempt is always free.
    claim = ClaimStrategy(window=1, atomic=True)
    #: a claim may run inside the transaction that records the worker's last attempt
    claims_within = True
    #: a read unit sees one snapshot (WAL) only inside a transaction
    read_snapshot = True

    def __init__(self, settings: Settings):
        self.path = Path(settings.db_path)

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def connect(self, create: bool = False, read_only: bool = False) -> sqlite3.Connection:
        """Open the file; only ``create`` makes a new one (a typo'd path, a report or a
        check-mode run must not leave an empty database behind); ``read_only`` opens it so
        that no statement can write (file opened read-only, and ``query_only``)."""
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with suppress(FileExistsError):  # private: it holds task logs and metadata
                    os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                target, uri = str(self.path), False
            else:
                mode = "ro" if read_only else "rw"
                target, uri = self.path.resolve().as_uri() + f"?mode={mode}", True
            conn = sqlite3.connect(target, timeout=60, isolation_level=None,
                                   check_same_thread=False, uri=uri)
            if read_only:
                conn.execute("PRAGMA query_only=ON")
                conn.execute("PRAGMA busy_timeout=60000")
                conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: reports rescan big tables
                return conn
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=60000")
        except (sqlite3.Error, OSError) as exc:
            if not create and not self.path.exists():
                raise DatabaseError(
                    f"no task database at {self.path}: create it with `eas init` "
                    "(plato.eas.schema)") from None
            raise DatabaseError(f"cannot open SQLite database {self.path}: {exc}") from None
        return conn

    def exists(self) -> bool:
        return self.path.exists()

    @staticmethod
    def sql(statement: str) -> str:
        return statement

    @staticmethod
    def cursor(conn: Any, plain: bool = False) -> Any:
        """sqlite3 rows are tuples already."""
        return conn.cursor()

    @staticmethod
    def begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: no deadlock-prone read->write upgrade,
        # and concurrent writers (schedulers, claimers) are serialised by SQLite itself.
        conn.execute("BEGIN IMMEDIATE")

    @staticmethod
    def begin_read(conn: Any) -> None:
        """A deferred transaction: a consistent snapshot (WAL) that takes no write lock."""
        conn.execute("BEGIN")

    @staticmethod
    def commit(conn: Any) -> None:
        conn.execute("COMMIT")  # the connection is in autocommit mode: commit() is a no-op

    @staticmethod
    def rollback(conn: Any) -> None:
        conn.execute("ROLLBACK")

    @staticmethod
    def lock_scheduler(tx: Any) -> None:
        """BEGIN IMMEDIATE already holds the database's single write lock."""

    @staticmethod
    def is_retryable(exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)

    @staticmethod
    def is_disconnect(exc: BaseException) -> bool:
        return False

    driver_errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    @staticmethod
    def no_wait(statement: str) -> str:
        """SQLite locks the whole database, never a row: nothing to skip."""
        return statement

    @staticmethod
    def is_lock_timeout(exc: BaseException) -> bool:
        return False

    @staticmethod
    def table_names(tx: Any) -> list[str]:
        rows = tx.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [r["name"] for r in rows if not r["name"].startswith("sqlite_")]

    @staticmethod
    def column_names(tx: Any, table: str) -> list[str]:
        return [r[1] for r in tx.tuples(f"PRAGMA table_info({table})")]

    @staticmethod
    def index_exists(tx: Any, table: str, name: str) -> bool:
        return tx.scalar("SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                         "AND name = ?", (table, name)) is not None

    @staticmethod
    def drop_index(tx: Any, table: str, name: str) -> None:
        tx.execute(f"DROP INDEX {name}")

    @staticmethod
    @contextmanager
    def foreign_keys_off(tx: Any) -> Iterator[None]:
        """Nothing to switch: dropping children before parents keeps SQLite's checks happy
        (and the pragma cannot change inside a transaction)."""
        yield

    @staticmethod
    @contextmanager
    def bulk(tx: Any) -> Iterator[None]:
        """Statements that write hundreds of thousands of rows (a chain's registration, a
        first scheduling pass): a 64 MiB page cache while they run, so the index pages they
        touch stay in memory instead of being spilled and read again (and a large ORDER BY
        sorts in memory); the connection's own size after, so a long-lived worker stays
        small."""
        previous = int(tx.scalar("PRAGMA cache_size"))
        tx.execute("PRAGMA cache_size = -65536")
        try:
            yield
        finally:
            tx.execute(f"PRAGMA cache_size = {previous}")

    @staticmethod
    def quote(name: str) -> str:
        """An identifier quoted for this engine."""
        return '"' + name.replace('"', '""') + '"'


class MysqlDialect:
    name = "mysql"
    backup_strategy = "mysql"  # plato_eas.admin.backup.mysql
    autoincrement = "INTEGER PRIMARY KEY AUTO_INCREMENT"
    long_text = "MEDIUMTEXT"
    table_options = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    insert_ignore = "INSERT IGNORE"
    # A descending key part (MariaDB 10.8+, MySQL 8): the claim reads queued attempts in
    # priority order, oldest first within a priority, straight from the index.
    queued_index = (
        "CREATE INDEX eas_attempt_claim ON eas_scheduling_attempt "
        "(isQueued, priority DESC, schedulingAttemptId)"
    )
    running_index = (
        "CREATE INDEX eas_attempt_running ON eas_scheduling_attempt (isRunning, latestHeartbeat)"
    )
    retry_index = "CREATE INDEX eas_attempt_retry ON eas_scheduling_attempt (retryAt)"
    #: DDL commits implicitly: a unit that creates tables runs once, never re-run.
    transactional_ddl = False
    #: Under READ COMMITTED (every connection's isolation level, see ``_open``) each
    #: statement reads the latest committed rows, inside a transaction or not: a read unit
    #: runs statement by statement, without the BEGIN and COMMIT round trips.
    read_snapshot = False
    #: Each conditional UPDATE commits on its own; concurrent claimers spread over the 8
    #: oldest queued attempts so they rarely collide.
    claim = ClaimStrategy(window=8, atomic=False)
    # Lost connection / server gone away / server shutdown in progress.
    DISCONNECT_CODES = {2003, 2006, 2013, 2055, 1053, 4031}
    # Deadlock, lock wait timeout.
    RETRY_CODES = {1213, 1205}
    UNKNOWN_DATABASE = 1049
    NO_ACCESS = 1044  # to a database: the user may not use it (or it is missing)
    ACCESS_DENIED = 1045  # wrong user or password
    COLLATION = "utf8mb4_bin"  # the tables' collation too (table_options)
    # MariaDB runs one statement with its own lock wait timeout; 0 means "fail at once".
    NO_WAIT = "SET STATEMENT innodb_lock_wait_timeout = 0 FOR "

    def __init__(self, settings: Settings):
        self.settings = settings
        try:
            import pymysql  # noqa: F401  (optional backend)
        except ImportError:
            raise DatabaseError(
                "db_engine mysql needs the PyMySQL package (pip install 'plato-eas[mysql]')"
            ) from None
        import pymysql

        self.driver = pymysql
        self.driver_errors = (pymysql.Error,)
        self.mariadb = False  # known once connected

    def exists(self) -> bool:
        """Whether the database exists (one the user has no privilege on counts as absent)."""
        conn = self._open(database=None)
        try:
            with conn.cursor(self.driver.cursors.Cursor) as cur:
                cur.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s",
                            (self.settings.db_name,))
                return cur.fetchone() is not None
        finally:
            conn.close()

    def create_database_sql(self) -> str:
        """utf8mb4 with a case-sensitive collation: names differing only in case differ."""
        return (f"CREATE DATABASE IF NOT EXISTS {self.quote(self.settings.db_name)}"
                f" CHARACTER SET utf8mb4 COLLATE {self.COLLATION}")

    def _create_database(self) -> None:
        """Create the missing database, or say in one line what an administrator must run."""
        conn = self._open(database=None)
        try:
            with conn.cursor(self.driver.cursors.Cursor) as cur:
                cur.execute("SELECT CURRENT_USER()")
                user, _, host = cur.fetchone()[0].rpartition("@")
                try:
                    cur.execute(self.create_database_sql())
                except self.driver.err.OperationalError as exc:
                    if not exc.args or exc.args[0] not in (self.NO_ACCESS, self.ACCESS_DENIED):
                        raise
                    account = "'{}'@'{}'".format(*(p.replace("'", "''") for p in (user, host)))
                    grant = (f"GRANT ALL PRIVILEGES ON {self.quote(self.settings.db_name)}.*"
                             f" TO {account}")
                    raise DatabaseError(
                        f"database {self.settings.db_name!r} does not exist on "
                        f"{self.settings.db_host}:{self.settings.db_port} (or user {user!r} "
                        "may not use it) and the user may not create it; an administrator "
                        f"must run: {self.create_database_sql()}; {grant};") from None
        except self.driver.Error as exc:
            raise DatabaseError(f"cannot create {self.describe()}: {exc.args[-1]}") from None
        finally:
            conn.close()

    def describe(self) -> str:
        s = self.settings
        return f"mysql://{s.db_user}@{s.db_host}:{s.db_port}/{s.db_name}"

    def connect(self, create: bool = False, read_only: bool = False, attempts: int = 5,
                backoff: float = 0.5) -> Any:
        """``create``: make a missing database (`schema`, `db_restore`); ``read_only``: the
        session refuses every write (error 1792), whatever the user may do."""
        try:
            return self._open(self.settings.db_name, read_only, attempts, backoff)
        except _NoDatabase as exc:
            if not create:
                if exc.code == self.UNKNOWN_DATABASE:
                    raise DatabaseError(
                        f"database {self.settings.db_name!r} does not exist on "
                        f"{self.settings.db_host}:{self.settings.db_port}: create it with "
                        "`eas init` (plato.eas.schema)") from None
                raise DatabaseError(f"cannot connect to {self.describe()}: {exc}") from None
        self._create_database()  # missing, or hidden from a user who may not use it
        return self._open(self.settings.db_name, read_only, attempts, backoff)

    def _open(self, database: str | None, read_only: bool = False, attempts: int = 5,
              backoff: float = 0.5) -> Any:
        """A connection to ``database`` (None: to the server only), retried with backoff
        unless the server refused the credentials or the database."""
        s = self.settings
        access = ", READ ONLY" if read_only else ""
        for attempt in range(1, attempts + 1):
            try:
                conn = self.driver.connect(
                    host=s.db_host, port=int(s.db_port), user=s.db_user, password=s.db_password,
                    database=database, charset="utf8mb4", autocommit=True,
                    connect_timeout=10, cursorclass=self.driver.cursors.DictCursor,
                    # Every statement sees the latest committed rows: a unit that reads after
                    # taking a lock (lock_scheduler) never works from an older snapshot, and
                    # no gap locks are taken (fewer deadlocks between claimers and inserts).
                    init_command="SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED" + access,
                )
                self.mariadb = "MariaDB" in conn.get_server_info()
                return conn
            except self.driver.err.OperationalError as exc:
                code = exc.args[0] if exc.args else None
                if database is not None and code in (self.UNKNOWN_DATABASE, self.NO_ACCESS):
                    raise _NoDatabase(code, exc.args[-1]) from None
                if code == self.ACCESS_DENIED or attempt == attempts:
                    raise DatabaseError(
                        f"cannot connect to {self.describe()}: {exc.args[-1]}"
                    ) from None
                stopping.sleep(backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    @staticmethod
    def sql(statement: str) -> str:
        # pymysql uses %s placeholders and %-formatting.
        return statement.replace("%", "%%").replace("?", "%s")

    def cursor(self, conn: Any, plain: bool = False) -> Any:
        """Rows as dicts by default; ``plain`` tuples skip building a dict per row."""
        return conn.cursor(self.driver.cursors.Cursor if plain else None)

    @staticmethod
    def begin(conn: Any) -> None:
        conn.begin()

    begin_read = begin

    @staticmethod
    def commit(conn: Any) -> None:
        conn.commit()

    @staticmethod
    def rollback(conn: Any) -> None:
        conn.rollback()

    @staticmethod
    def lock_scheduler(tx: Any) -> None:
        """Serialise scheduler passes: a row lock on the scheduler's config row."""
        tx.rows("SELECT configValue FROM eas_config WHERE configKey = 'scheduler_lock' FOR UPDATE")

    def is_retryable(self, exc: BaseException) -> bool:
        return (isinstance(exc, self.driver.err.OperationalError)
                and bool(exc.args) and exc.args[0] in self.RETRY_CODES)

    @property
    def claims_within(self) -> bool:
        """Whether a claim may run inside the transaction that records the worker's last
        attempt (one commit per attempt), its row locked until that commit: on MariaDB other
        claimers skip a locked row at once (:meth:`no_wait`); on MySQL they would wait for
        the commit, and two such claimers could deadlock."""
        return self.mariadb

    def no_wait(self, statement: str) -> str:
        """MariaDB: fail with a lock wait timeout at once instead of waiting (MySQL has no
        per-statement form of this; there the statement waits as usual)."""
        return self.NO_WAIT + statement if self.mariadb else statement

    def is_lock_timeout(self, exc: BaseException) -> bool:
        return (isinstance(exc, self.driver.err.OperationalError)
                and bool(exc.args) and exc.args[0] == 1205)

    def is_disconnect(self, exc: BaseException) -> bool:
        if isinstance(exc, self.driver.err.InterfaceError):
            return True
        return (isinstance(exc, self.driver.err.OperationalError)
                and bool(exc.args) and exc.args[0] in self.DISCONNECT_CODES)

    @staticmethod
    def table_names(tx: Any) -> list[str]:
        rows = tx.rows(
            "SELECT table_name AS name FROM information_schema.tables "
            "WHERE table_schema = DATABASE()"
        )
        return [r["name"] for r in rows]

    @staticmethod
    def column_names(tx: Any, table: str) -> list[str]:
        return [r[0] for r in tx.tuples(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE()"
            " AND table_name = ? ORDER BY ordinal_position", (table,))]

    @staticmethod
    def index_exists(tx: Any, table: str, name: str) -> bool:
        return bool(tx.scalar(
            "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() "
            "AND table_name = ? AND index_name = ?", (table, name)))

    @staticmethod
    def drop_index(tx: Any, table: str, name: str) -> None:
        tx.execute(f"DROP INDEX {name} ON {table}")

    @staticmethod
    @contextmanager
    def foreign_keys_off(tx: Any) -> Iterator[None]:
        """InnoDB checks every DROP against the keys that reference the table."""
        tx.execute("SET FOREIGN_KEY_CHECKS = 0")
        try:
            yield
        finally:
            tx.execute("SET FOREIGN_KEY_CHECKS = 1")

    @staticmethod
    @contextmanager
    def bulk(tx: Any) -> Iterator[None]:
        """The server's buffer pool is shared and sized by its configuration."""
        yield

    @staticmethod
    def quote(name: str) -> str:
        """An identifier quoted for this engine."""
        return "`" + name.replace("`", "``") + "`"


class _NoDatabase(Exception):
    """The server has no database of that name (1049) or will not let the user use it (1044)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def dialect_for(settings: Settings) -> SqliteDialect | MysqlDialect:
    return SqliteDialect(settings) if settings.db_engine == "sqlite" else MysqlDialect(settings)
