"""The SQL job queue (SPEC §5): the attempt table is the queue.

A claim is atomic on both engines: on SQLite, ``BEGIN IMMEDIATE`` serialises claimers, so the
oldest-first select and the conditional update see the same queue; on MySQL/MariaDB it is one
select of the oldest queued row ``FOR UPDATE SKIP LOCKED`` and its update, so concurrent
claimers take different rows instead of waiting on (or deadlocking over) the same one, and a
row held by someone else's long transaction delays nobody. Either way a claimer that
finds nothing has seen a really empty queue, never a lost race; and a claim whose COMMIT was
cut by a dropped connection recognises its own row when retried instead of orphaning it.
"""

from __future__ import annotations

import time

from ..db import Database, Tx, marks
from .records import queued_attempts, unqueue

_TYPE_IDS = """
SELECT taskTypeId FROM eas_task_types WHERE taskTypeName IN ({marks})
"""

_CANDIDATE = """
SELECT a.schedulingAttemptId FROM eas_scheduling_attempt a
JOIN eas_task t ON t.taskId = a.taskId
WHERE a.isQueued = 1 AND +t.taskTypeId IN ({marks})
ORDER BY a.schedulingAttemptId
LIMIT 1
"""
# The unary + keeps the planner on the queued-attempts index (oldest first, stop at the first
# match) instead of walking every task of the served types: 60x faster with 20k queued.

_TAKE = """
UPDATE eas_scheduling_attempt
SET isQueued = 0, isRunning = 1, hostId = ?, startTime = ?, latestHeartbeat = ?
WHERE schedulingAttemptId = ? AND isQueued = 1
"""

_MINE = """
SELECT schedulingAttemptId FROM eas_scheduling_attempt
WHERE hostId = ? AND startTime = ? AND isRunning = 1
"""

class SqlQueue:
    implementation = "sql"

    def __init__(self, db: Database):
        self.db = db
        self._type_ids: dict[tuple[str, ...], list[int]] = {}

    def declare(self, names: list[str]) -> list[str]:
        """Queues are implicit in the attempt table: nothing to declare."""
        return []

    def stage(self, tx: Tx, attempts: dict[str, list[int]]) -> None:
        """The committed ``isQueued`` row is the message."""

    def publish(self) -> int:
        return 0

    def _ids(self, names: list[str]) -> list[int]:
        key = tuple(sorted(names))
        if key not in self._type_ids:
            rows = self.db.read(lambda tx: tx.tuples(_TYPE_IDS.format(marks=marks(names)),
                                                      names))
            self._type_ids[key] = [r[0] for r in rows]
        return self._type_ids[key]

    def claim(self, names: list[str], host_id: int) -> int | None:
        type_ids = self._ids(names)
        if not type_ids:
            return None
        in_list = marks(type_ids)
        take_one = self._take_mysql if self.db.engine == "mysql" else self._take_sqlite
        now = time.time()  # fixed across retries: it identifies our own claim
        tries = 0

        def unit(tx: Tx) -> int | None:
            nonlocal tries
            tries += 1
            if tries > 1:  # the connection dropped: did our COMMIT make it after all?
                mine = tx.scalar(_MINE, (host_id, now))
                if mine is not None:
                    return int(mine)
            return take_one(tx, in_list, type_ids, host_id, now)

        return self.db.run(unit)

    @staticmethod
    def _take_sqlite(tx: Tx, in_list: str, type_ids: list[int], host_id: int,
                     now: float) -> int | None:
        attempt_id = tx.scalar(_CANDIDATE.format(marks=in_list), type_ids)
        if attempt_id is None:
            return None
        if tx.execute(_TAKE, (host_id, now, now, attempt_id)) != 1:
            raise AssertionError("claimed row changed under the write lock")
        return int(attempt_id)

    @staticmethod
    def _take_mysql(tx: Tx, in_list: str, type_ids: list[int], host_id: int,
                    now: float) -> int | None:
        attempt_id = tx.scalar(_CANDIDATE.format(marks=in_list) + " FOR UPDATE SKIP LOCKED",
                               type_ids)
        if attempt_id is None:
            return None
        if tx.execute(_TAKE, (host_id, now, now, attempt_id)) != 1:
            raise AssertionError("claimed row changed under its row lock")
        return int(attempt_id)

    def done(self, attempt_id: int) -> None:
        """Nothing to acknowledge: the finished row is the record."""

    def release(self, attempt_id: int) -> None:
        self.db.run(lambda tx: tx.execute(
            "UPDATE eas_scheduling_attempt SET isQueued = 1, isRunning = 0, hostId = NULL, "
            "startTime = NULL, latestHeartbeat = NULL "
            "WHERE schedulingAttemptId = ? AND isRunning = 1 AND isFinished = 0",
            (attempt_id,)))

    def depths(self, names: list[str], show_ids: int = 20) -> dict[str, dict]:
        waiting = self.db.read(lambda tx: queued_attempts(tx, names))
        return {
            name: {"messages": len(ids), "ids": ids if len(ids) <= show_ids else []}
            for name, ids in waiting.items()
        }

    def purge(self, names: list[str]) -> dict[str, list[int]]:
        def unit(tx: Tx) -> dict[str, list[int]]:
            waiting = queued_attempts(tx, names)
            unqueue(tx, [i for group in waiting.values() for i in group])
            return waiting

        return self.db.run(unit)

    def close(self) -> None:
        """The queue shares the caller's database connection."""
