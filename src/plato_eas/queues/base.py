"""The job-queue interface (SPEC §5), implemented by ``queues/sql.py`` and ``queues/amqp.py``.

A queue is named after a task type and carries scheduling-attempt ids. The task database is
always the record of truth: an attempt is *queued* when its ``isQueued`` flag is set. The SQL
queue is that flag; the AMQP queue mirrors it in RabbitMQ, published after the scheduler's
transaction commits.
"""

from __future__ import annotations

from typing import Callable, Protocol

from ..db import Database, Tx
from ..defaults import SHOW_IDS


class JobQueue(Protocol):
    implementation: str

    def declare(self, names: list[str]) -> list[str]:
        """Make sure a queue exists for each name; returns the names newly declared."""

    def prioritise(self, names: list[str], check_mode: bool = False) -> dict:
        """Make the queues deliver by priority where they do not yet (AMQP: queues declared
        before priorities, once empty). Returns {"upgraded": [names], "without_priority":
        {name: ready messages}}."""

    def stage(self, tx: Tx, attempts: dict[str, list[int]]) -> None:
        """Inside the scheduling transaction that set these attempts' ``isQueued`` flag:
        record that they must reach the queue ({queue name: [attempt ids]}). The SQL queue
        has nothing to do (the committed row is the message); AMQP keeps an outbox row so a
        crash between commit and publish loses nothing."""

    def publish(self) -> int:
        """After commit: send everything staged and not yet sent (including what a crashed
        scheduler left behind). Returns the number of messages sent."""

    def claim(self, names: list[str], host_id: int) -> int | None:
        """Take one queued attempt from any of ``names`` and mark it running on ``host_id``
        in the database, atomically with respect to every other claimer. Returns its id, or
        None only when every named queue is really empty (a lost race is retried, never
        reported as empty)."""

    def claim_within(self, tx: Tx, names: list[str], host_id: int,
                     now: float | None = None) -> int | None:
        """Claim as ``claim`` does, inside the caller's transaction (the one recording the
        previous attempt: one commit per attempt), stamped with ``now`` as its start time
        (so a caller whose COMMIT's answer was lost can find its claim); None when this queue
        cannot (a broker's claim is not part of a database transaction; MySQL) or when
        nothing is queued."""

    def reserve(self, names: list[str]) -> None:
        """Before a transaction that calls ``claim_within``: fetch from outside the database
        what that claim needs (AMQP: the next message, never waiting for one; SQL: nothing).
        A message reserved but not claimed is claimed (or skipped) by the next ``claim``."""

    def done(self, attempt_id: int) -> None:
        """The attempt is recorded finished in the database: acknowledge it (AMQP ack)."""

    def release(self, attempt_id: int, reason: str | None = None) -> None:
        """Give a claimed attempt back without finishing it (worker shutting down); a
        ``reason`` goes to the attempt's log."""

    def keepalive(self) -> None:
        """While a claimed attempt runs: keep the queue's connection alive (AMQP: answer the
        broker's heartbeats). The worker calls it with each task heartbeat."""

    def depths(self, names: list[str], show_ids: int = SHOW_IDS) -> dict[str, dict]:
        """{name: {"messages": n, "ids": [...] (only when n <= show_ids)}} without consuming."""

    def purge(self, names: list[str], job_name: str | None = None) -> dict[str, list[int]]:
        """Remove every waiting message (of ``job_name``'s attempts only, when given) and mark
        those attempts not queued in the database. Returns {name: [attempt ids removed]}."""

    def withdraw(self, unit: Callable[[Tx], dict[str, list[int]]]) -> dict[str, list[int]]:
        """Run ``unit`` — a database unit that takes queued attempts off the queue and returns
        them as {queue name: [attempt ids]} — under the scheduler lock, then remove their
        messages from the queue (AMQP: purge those broker queues and send again what is still
        queued in them). Returns what ``unit`` returned."""

    def close(self) -> None: ...


def open_queue(db: Database, implementation: str | None = None,
               daemon: bool = False) -> JobQueue:
    """The queue configured in ``db.settings`` (or ``implementation``), sharing ``db``.

    A ``daemon`` (service-mode worker, scheduler) waits for an unreachable broker for as long
    as it takes, with backoff, instead of exiting into a container restart loop; one-shot
    callers (modules, CLI actions) give up after a short while with a one-line error."""
    impl = implementation or db.settings.queue_implementation
    if impl == "sql":
        from .sql import SqlQueue

        return SqlQueue(db)
    from .amqp import AmqpQueue

    if daemon:
        return AmqpQueue(db, connect_patience=float("inf"), reconnect_patience=float("inf"))
    return AmqpQueue(db)
