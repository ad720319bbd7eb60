"""The SQL job queue (SPEC §5): the attempt table is the queue.

A claim is atomic on both engines and never answers "empty" while a claimable attempt is
queued; a claim whose commit was cut by a dropped connection recognises its own row when
retried instead of orphaning it.

Queued attempts are taken highest priority first and, within a priority, oldest first (first
in, first out), straight from the dialect's claim index ``(priority DESC,
schedulingAttemptId)`` over queued attempts: the read stops at the first rows it needs, so a
claim costs the same with 100,000 attempts queued behind it.

One algorithm, shaped by the dialect's :class:`~plato_eas.db.dialects.ClaimStrategy`: a read
lists a window of the first queued attempts — only those of the highest priority among them
— and the claimer takes one with the conditional ``UPDATE … WHERE schedulingAttemptId = ? AND
isQueued = 1`` of ``attempts.take`` (row count 1: it is ours; 0: another claimer was first).

* SQLite (window 1, one transaction): ``BEGIN IMMEDIATE`` serialises claimers, so the select
  and the conditional update see the same queue: strictly in order.
* MySQL/MariaDB (window 8, statement by statement): each UPDATE commits on its own (or, on
  MariaDB, with the transaction recording the worker's last attempt: ``claim_within``).
  Concurrent claimers start at different places in the window (host id), so they rarely
  collide, and each moves its start on by one per claim, so the oldest attempt is never left
  behind: it is taken within a window's worth of claims, and never after an attempt of a
  lower priority. On MariaDB a row held by another
  transaction is skipped at once instead of waited for
  (``SET STATEMENT innodb_lock_wait_timeout = 0``).
  Why not ``SELECT … FOR UPDATE SKIP LOCKED``: a locking scan from the head of the queue
  steps over every claimed-but-not-yet-purged index entry and needs BEGIN and COMMIT round
  trips; it cost about twice the server CPU per claim (MariaDB 10.11, 2 cores).
"""

from __future__ import annotations

import time
from typing import Callable

from ..db import Database, Tx, marks
from ..defaults import SHOW_IDS
from ..model import attempts
from .doorbell import Doorbell

_TYPE_IDS = """
SELECT taskTypeId FROM eas_task_types WHERE taskTypeName IN ({marks})
"""

_FIRST = """
SELECT a.schedulingAttemptId, a.priority FROM eas_scheduling_attempt a
JOIN eas_task t ON t.taskId = a.taskId
WHERE a.isQueued = 1 AND +t.taskTypeId IN ({marks}){after}
ORDER BY a.priority DESC, a.schedulingAttemptId
LIMIT {window}
"""
# The unary + keeps the planner on the claim index (queued attempts in the order they are to
# run: stop at the first match) instead of walking every task of the served types: 60x faster
# with 20k queued. After a window whose rows other transactions held, the next one starts
# behind it.
_AFTER = " AND (a.priority < ? OR (a.priority = ? AND a.schedulingAttemptId > ?))"


def _take_first(tx: Tx, sql: tuple[str, str], type_ids: list[int], host_id: int, now: float,
                start: int) -> int | None:
    """Take one of the first queued attempts (``sql`` lists a window of them — of the highest
    priority there is — from the head of the queue, or behind a given one); each loop either
    takes one, sees others take the whole window (progress: look again) or moves past rows
    held by other transactions."""
    behind: list = []
    while True:
        rows = tx.tuples(sql[1] if behind else sql[0], [*type_ids, *behind])
        if not rows:
            return None
        top = rows[0][1]
        window = [attempt_id for attempt_id, priority in rows if priority == top]
        first = start % len(window)
        held = False
        for attempt_id in window[first:] + window[:first]:
            taken = attempts.take(tx, attempt_id, host_id, now, unless_locked=True)
            if taken:
                return int(attempt_id)
            held = held or taken is None
        if held:
            behind = [top, top, window[-1]]


class SqlQueue:
    implementation = "sql"

    def __init__(self, db: Database):
        self.db = db
        self._type_ids: dict[tuple[str, ...], list[int]] = {}
        self._claim_sql: dict[tuple[int, ...], tuple[str, str]] = {}
        self._turn = 0  # claims made: moves the MySQL claimer's start through the window
        # Rung after a commit that queued attempts (``eas run``: wakes its idle workers).
        self.doorbell: Doorbell | None = None
        self._staged = False

    def declare(self, names: list[str]) -> list[str]:
        """Queues are implicit in the attempt table: nothing to declare."""
        return []

    def prioritise(self, names: list[str], check_mode: bool = False) -> dict:
        """The claim reads the priority from the attempt table: nothing to upgrade."""
        return {"upgraded": [], "without_priority": {}}

    def stage(self, tx: Tx, attempts: dict[str, list[int]]) -> None:
        """The committed ``isQueued`` row is the message."""
        self._staged = self._staged or any(attempts.values())

    def publish(self) -> int:
        """Ring the doorbell, if any, when something was staged (now committed)."""
        if self._staged and self.doorbell is not None:
            self.doorbell.ring()
        self._staged = False
        return 0

    def _ids(self, names: list[str], tx: Tx | None = None) -> list[int]:
        key = tuple(sorted(names))
        if key not in self._type_ids:
            def read(tx: Tx) -> list[int]:
                rows = tx.tuples(_TYPE_IDS.format(marks=marks(names)), names)
                return [r[0] for r in rows]

            self._type_ids[key] = read(tx) if tx is not None else self.db.read(read)
        return self._type_ids[key]

    def _sql(self, type_ids: list[int]) -> tuple[str, str]:
        key = tuple(type_ids)
        if key not in self._claim_sql:
            window = self.db.dialect.claim.window
            self._claim_sql[key] = tuple(
                _FIRST.format(marks=marks(type_ids), window=window, after=after)
                for after in ("", _AFTER))
        return self._claim_sql[key]

    def claim(self, names: list[str], host_id: int) -> int | None:
        type_ids = self._ids(names)
        if not type_ids:
            return None
        sql = self._sql(type_ids)
        now = time.time()  # fixed across retries: it identifies our own claim
        self._turn += 1
        start = host_id + self._turn
        tries = 0

        def unit(tx: Tx) -> int | None:
            nonlocal tries
            tries += 1
            if tries > 1:  # the connection dropped: did our COMMIT make it after all?
                mine = attempts.taken_by(tx, host_id, now)
                if mine is not None:
                    return mine
            return _take_first(tx, sql, type_ids, host_id, now, start)

        return self.db.run(unit, atomic=self.db.dialect.claim.atomic)

    def claim_within(self, tx: Tx, names: list[str], host_id: int,
                     now: float | None = None) -> int | None:
        """Where the dialect allows it (SQLite, whose claim is one transaction anyway;
        MariaDB, whose claimers skip a row locked by another transaction instead of waiting
        for its commit): not on MySQL, where the other claimers would wait for the
        recording transaction to commit. ``now`` stamps the claim (see ``claim``)."""
        if not self.db.dialect.claims_within:
            return None
        type_ids = self._ids(names, tx)
        if not type_ids:
            return None
        self._turn += 1
        return _take_first(tx, self._sql(type_ids), type_ids, host_id,
                           time.time() if now is None else now, host_id + self._turn)

    def reserve(self, names: list[str]) -> None:
        """The attempt table is the queue: ``claim_within`` needs nothing from outside."""

    def done(self, attempt_id: int) -> None:
        """Nothing to acknowledge: the finished row is the record."""

    def release(self, attempt_id: int, reason: str | None = None) -> None:
        self.db.run(lambda tx: attempts.release(tx, attempt_id, reason))

    def keepalive(self) -> None:
        """The queue is the task database: the heartbeat itself keeps it alive."""

    def depths(self, names: list[str], show_ids: int = SHOW_IDS) -> dict[str, dict]:
        waiting = self.db.read(lambda tx: attempts.queued_by_type(tx, names))
        return {
            name: {"messages": len(ids), "ids": ids if len(ids) <= show_ids else []}
            for name, ids in waiting.items()
        }

    def purge(self, names: list[str], job_name: str | None = None) -> dict[str, list[int]]:
        def unit(tx: Tx) -> dict[str, list[int]]:
            waiting = attempts.queued_by_type(tx, names, job_name)
            attempts.unqueue(tx, [i for group in waiting.values() for i in group])
            return waiting

        return self.withdraw(unit)

    def withdraw(self, unit: Callable[[Tx], dict[str, list[int]]]) -> dict[str, list[int]]:
        """The attempt table is the queue: the unit is all there is to do."""
        def locked(tx: Tx) -> dict[str, list[int]]:
            tx.dialect.lock_scheduler(tx)
            return unit(tx)

        return self.db.run(locked)

    def close(self) -> None:
        """The queue shares the caller's database connection."""
