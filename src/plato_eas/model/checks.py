"""Tasks whose readiness is to be checked (``eas_task_check``): what makes a scheduling pass
cost what changed, not the size of the database.

A task is marked when something it waits for may have arrived: when it is registered, and
when an attempt of a task it reads files or metadata from finishes. A pass checks only the
marked tasks and clears their marks (a task still waiting is marked again by the next finish
upstream); a full pass (the daemon's safety net, ``reschedule``) checks every task.

Every transaction that marks tasks holds the scheduler lock first: a pass that checks a task
and clears its mark can never clear a mark written after its check by a transaction whose
data it did not see. A finishing transaction also takes it before it reads who reads its
task's files and metadata: a reader registered at the same time by another transaction is
then either seen (and marked) here, or registered and checked after this finish is
committed. (Without the lock, on a server where transactions run side by side, each could
miss the other's uncommitted rows and the reader would wait for ever.)
"""

from __future__ import annotations

from ..db import Tx, chunks, marks

# The tasks that read a file of task ``?`` or its metadata.
_CONSUMERS = """
SELECT i.taskId FROM eas_product p JOIN eas_task_input i ON i.inputId = p.productId
WHERE p.generatorTask = ?
UNION SELECT m.taskId FROM eas_task_metadata_input m WHERE m.inputId = ?
"""
_MARK = "{ignore} INTO eas_task_check (taskId) VALUES (?)"
_ANY = "SELECT 1 FROM eas_task_check LIMIT 1"
_MARKED_OF_JOB = ("SELECT c.taskId FROM eas_task_check c JOIN eas_task t ON t.taskId = c.taskId"
                  " WHERE t.jobName = ?")
_CLEAR = "DELETE FROM eas_task_check WHERE taskId IN ({marks})"
_CLEAR_ALL = "DELETE FROM eas_task_check"
# Marked tasks ``c`` (for the scheduler's ready query).
MARKED_JOIN = "JOIN eas_task_check c ON c.taskId = t.taskId"


def consumers(tx: Tx, task_id: int) -> list[int]:
    """The tasks that read a file or the metadata of ``task_id``, read under the scheduler
    lock (see the module's doc)."""
    tx.dialect.lock_scheduler(tx)
    return [int(r[0]) for r in tx.tuples(_CONSUMERS, (int(task_id), int(task_id)))]


def mark(tx: Tx, task_ids: list[int]) -> list[int]:
    """Mark these tasks for a readiness check (taking the scheduler lock); returns them."""
    if task_ids:
        tx.dialect.lock_scheduler(tx)
        tx.executemany(_MARK.format(ignore=tx.dialect.insert_ignore),
                       [(int(t),) for t in task_ids])
    return list(task_ids)


def mark_consumers(tx: Tx, task_id: int) -> list[int]:
    """Mark the readers of ``task_id``'s files and metadata (its attempt just finished)."""
    return mark(tx, consumers(tx, task_id))


def any_marked(tx: Tx) -> bool:
    return tx.scalar(_ANY) is not None


def marked(tx: Tx, job_name: str) -> list[int]:
    """The marked tasks of ``job_name``."""
    return [int(r[0]) for r in tx.tuples(_MARKED_OF_JOB, (job_name,))]


def clear(tx: Tx, task_ids: list[int] | None) -> None:
    """Remove the marks of these tasks (None: every mark). The caller holds the scheduler
    lock and has checked them."""
    if task_ids is None:
        tx.execute(_CLEAR_ALL)
        return
    for chunk in chunks(sorted(set(task_ids))):
        tx.execute(_CLEAR.format(marks=marks(chunk)), chunk)
