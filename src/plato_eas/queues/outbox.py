"""The AMQP queue's outbox (``eas_queue_outbox``): the messages committed scheduling passes
still owe the broker, and the lease that lets one publisher at a time send them.

A publisher takes the lease (a row of ``eas_config``) under the scheduler lock in the same
unit that reads a batch, sends the batch with no transaction open, then deletes the rows and
gives the lease back. Two publishers never send the same rows, and no database unit waits on
the broker. A publisher that dies holding the lease holds it for ``LEASE_SECONDS`` at most.
"""

from __future__ import annotations

import time
import uuid

from ..db import Tx, chunks, marks

BATCH = 2000  # rows read, sent and deleted at a time
LEASE_KEY = "outbox_lease"
LEASE_SECONDS = 30.0

_INSERT = "INSERT INTO eas_queue_outbox (schedulingAttemptId, queueName) VALUES (?, ?)"
_PENDING = "SELECT 1 FROM eas_queue_outbox LIMIT 1"
_BATCH = """
SELECT o.outboxId, o.schedulingAttemptId, o.queueName, a.isQueued, a.priority
FROM eas_queue_outbox o
LEFT JOIN eas_scheduling_attempt a ON a.schedulingAttemptId = o.schedulingAttemptId
ORDER BY o.outboxId
LIMIT ?
"""
_DELETE = "DELETE FROM eas_queue_outbox WHERE {column} IN ({marks})"
_LEASE = "SELECT configValue FROM eas_config WHERE configKey = ?"


def stage(tx: Tx, by_queue: dict[str, list[int]]) -> None:
    """Rows for these attempts ({queue name: [attempt ids]}), in the caller's transaction."""
    rows = [(int(aid), name) for name, ids in by_queue.items() for aid in ids]
    if rows:
        tx.executemany(_INSERT, rows)


def pending(tx: Tx) -> bool:
    return tx.scalar(_PENDING) is not None


def batch(tx: Tx) -> list[tuple]:
    """The oldest rows: (outbox id, attempt id, queue name, attempt still queued, its
    priority)."""
    return tx.tuples(_BATCH, (BATCH,))


def delete(tx: Tx, outbox_ids: list[int]) -> None:
    _delete(tx, "outboxId", outbox_ids)


def drop_queues(tx: Tx, names: list[str]) -> None:
    """Forget every row for these queues (their attempts were unqueued)."""
    _delete(tx, "queueName", names)


def _delete(tx: Tx, column: str, values: list) -> None:
    for chunk in chunks(values):
        tx.execute(_DELETE.format(column=column, marks=marks(chunk)), chunk)


class Lease:
    """One publisher's hold on the outbox; taken and given back inside database units."""

    def __init__(self) -> None:
        self.token = uuid.uuid4().hex
        self.value: str | None = None

    def take(self, tx: Tx) -> bool:
        """Take (or renew) the lease unless another publisher holds a live one. The caller
        holds the scheduler lock."""
        now = time.time()
        held = tx.scalar(_LEASE, (LEASE_KEY,))
        if held:
            token, _, until = held.partition(" ")
            if token != self.token and float(until or 0) > now:
                return False
            tx.execute("DELETE FROM eas_config WHERE configKey = ?", (LEASE_KEY,))
        self.value = f"{self.token} {now + LEASE_SECONDS}"
        tx.execute("INSERT INTO eas_config (configKey, configValue) VALUES (?, ?)",
                   (LEASE_KEY, self.value))
        return True

    def release(self, tx: Tx) -> None:
        if self.value is not None:
            tx.execute("DELETE FROM eas_config WHERE configKey = ? AND configValue = ?",
                       (LEASE_KEY, self.value))
