"""Connections and transactions on either engine, with retry on lock conflicts.

Use :meth:`Database.transaction` for a write (or consistent read) unit of work; the whole
unit is re-run when the engine reports a deadlock or a dropped connection before commit,
so a unit must only touch the database (no side effects outside it). A unit whose every
statement is atomic on its own (a claim by conditional UPDATE) can run with
``atomic=False``: no BEGIN and COMMIT round trips, and no lock held past each statement.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from .. import stopping
from ..errors import DatabaseError
from ..settings import Settings
from .dialects import dialect_for

log = logging.getLogger(__name__)
T = TypeVar("T")
UNIT_ATTEMPTS = 8  # how often a unit is run before a retryable error reaches the caller


def marks(items: Sequence[Any]) -> str:
    """``?, ?, ?`` for an ``IN (...)`` list of ``items``: the one way to build one."""
    return ", ".join("?" for _ in items)


def chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """Slices of at most ``size`` items: keeps IN lists within every engine's limits."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Tx:
    """A cursor-like handle on one open transaction."""

    def __init__(self, conn: Any, dialect: Any):
        self.conn = conn
        self.dialect = dialect
        self.lastrowid: int | None = None
        self.committed: list[Callable[[], None]] = []

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once this unit's changes are committed, never if they are rolled
        back (a re-run unit registers its own): what the unit made true, told outside the
        database."""
        self.committed.append(action)

    def _cursor(self, sql: str, params: Sequence[Any], plain: bool = False) -> Any:
        cur = self.dialect.cursor(self.conn, plain)
        cur.execute(self.dialect.sql(sql), tuple(params))
        return cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns the affected row count (lastrowid kept on self)."""
        cur = self._cursor(sql, params)
        self.lastrowid = cur.lastrowid
        return cur.rowcount

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> int:
        cur = self.conn.cursor()
        cur.executemany(self.dialect.sql(sql), [tuple(p) for p in seq])
        return cur.rowcount

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.execute(sql, params)
        assert self.lastrowid is not None
        return int(self.lastrowid)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self._cursor(sql, params)
        if cur.description is None:
            return []
        fetched = cur.fetchall()
        if fetched and isinstance(fetched[0], dict):
            return list(fetched)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=False)) for row in fetched]

    def tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows as plain tuples: the fast path for large reports, bulk reads and claims."""
        return [tuple(r) for r in self._cursor(sql, params, plain=True).fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.tuples(sql, params)
        return rows[0][0] if rows else None

    def execute_unless_locked(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        """Like :meth:`execute`, but ``None`` at once when a row it must change is locked by
        another transaction, where the engine can say so (MariaDB); elsewhere it waits."""
        try:
            return self.execute(self.dialect.no_wait(sql), params)
        except self.dialect.driver_errors as exc:
            if self.dialect.is_lock_timeout(exc):
                return None
            raise


class Database:
    """A lazily opened connection to the task database described by ``settings``."""

    def __init__(self, settings: Settings, create: bool = False, read_only: bool = False):
        """``create``: make a missing SQLite file (only `schema` and `db_restore` do);
        ``read_only``: a connection that cannot write (the dashboard's)."""
        self.settings = settings
        self.dialect = dialect_for(settings)
        self.engine = self.dialect.name
        self.create = create
        self.read_only = read_only
        self._conn: Any = None

    # -- connection -------------------------------------------------------------------
    @property
    def conn(self) -> Any:
        if self._conn is None:
            self._conn = self.dialect.connect(create=self.create, read_only=self.read_only)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing a dead connection is fine
                pass
            self._conn = None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- transactions -----------------------------------------------------------------
    @contextmanager
    def transaction(self, read_only: bool = False) -> Iterator[Tx]:
        """One unit of work, committed at the end of the block, rolled back on error;
        ``read_only`` begins it the dialect's way for reads (no write lock on SQLite)."""
        begin = self.dialect.begin_read if read_only else self.dialect.begin
        conn = self.conn
        try:
            begin(conn)
        except self.dialect.driver_errors as exc:
            self._reset_if_disconnected(exc)
            if not self.dialect.is_disconnect(exc):
                raise self._wrap(exc) from None
            # A connection that went stale while idle (server restarted, idle timeout):
            # reconnect (with the dialect's backoff) and begin once more.
            try:
                conn = self.conn
                begin(conn)
            except self.dialect.driver_errors as again:
                self._reset_if_disconnected(again)
                raise self._wrap(again) from None
        tx = Tx(conn, self.dialect)
        try:
            yield tx
            self.dialect.commit(conn)
        except BaseException as exc:
            try:
                self.dialect.rollback(conn)
            except Exception:  # noqa: BLE001 - the connection may already be gone
                self.close()
            if isinstance(exc, self.dialect.driver_errors):
                self._keep_only_retryable(exc)
            raise
        for action in tx.committed:
            action()

    @contextmanager
    def autocommit(self) -> Iterator[Tx]:
        """Statements that each commit on their own; errors classified as in a transaction."""
        tx = Tx(self.conn, self.dialect)
        try:
            yield tx
        except self.dialect.driver_errors as exc:
            self._keep_only_retryable(exc)
            raise
        for action in tx.committed:
            action()

    def run(self, unit: Callable[[Tx], T], attempts: int = UNIT_ATTEMPTS, atomic: bool = True,
            read_only: bool = False) -> T:
        """Run ``unit(tx)`` in a transaction (or, not ``atomic``, statement by statement),
        re-running it on deadlock or lost connection."""
        delay = 0.05
        for attempt in range(1, attempts + 1):
            try:
                scope = self.transaction(read_only) if atomic else self.autocommit()
                with scope as tx:
                    return unit(tx)
            except self.dialect.driver_errors as exc:
                if attempt == attempts:
                    raise self._wrap(exc) from None
                log.debug("retrying transaction after %s", exc)
                stopping.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    def read(self, unit: Callable[[Tx], T]) -> T:
        """A read-only unit (reports): the same retry rules, begun as the dialect begins reads
        (SQLite: a deferred transaction that takes no write lock; MySQL: statement by
        statement, where a transaction would see nothing more consistent)."""
        return self.run(unit, atomic=self.dialect.read_snapshot, read_only=True)

    # -- helpers ----------------------------------------------------------------------
    def _reset_if_disconnected(self, exc: BaseException) -> None:
        if self.dialect.is_disconnect(exc):
            self.close()

    def _keep_only_retryable(self, exc: BaseException) -> None:
        """A driver error that ended a unit: drop a dead connection; anything :meth:`run`
        must not retry (not a deadlock, lock timeout or lost connection) becomes the
        one-line DatabaseError here."""
        self._reset_if_disconnected(exc)
        if not (self.dialect.is_retryable(exc) or self.dialect.is_disconnect(exc)):
            raise self._wrap(exc) from None

    def _wrap(self, exc: BaseException) -> DatabaseError:
        detail = exc.args[-1] if exc.args else exc
        return DatabaseError(f"{self.dialect.describe()}: {detail}")
