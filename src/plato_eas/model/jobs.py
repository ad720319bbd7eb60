"""Jobs: the tasks sharing a ``jobName``, and the one fact kept about a job as a whole — that
an operator cancelled it (``eas_cancelled_job``).

A cancelled job keeps its tasks and its history, but nothing of it is scheduled, retried or
queued again until ``reschedule`` names it (:func:`resume`). Databases written before job
control (and the prototype's) have no such table: there no job is cancelled.
"""

from __future__ import annotations

from ..db import Tx, chunks, marks
from ..errors import JobError

# For a task ``t``: its job was not cancelled. A constant fragment: nothing is spliced in.
NOT_CANCELLED_SQL = (
    "NOT EXISTS (SELECT 1 FROM eas_cancelled_job c WHERE c.jobName = t.jobName)")

_NAMES = "SELECT DISTINCT jobName FROM eas_task WHERE jobName IS NOT NULL ORDER BY jobName"
_EXISTS = "SELECT 1 FROM eas_task WHERE jobName = ? LIMIT 1"
_CANCELLED = "SELECT jobName FROM eas_cancelled_job ORDER BY jobName"
_IS_CANCELLED = "SELECT 1 FROM eas_cancelled_job WHERE jobName = ?"
_CANCEL = "INSERT INTO eas_cancelled_job (jobName, cancelledTime) VALUES (?, ?)"
_RESUME = "DELETE FROM eas_cancelled_job WHERE jobName IN ({marks})"


def exists(tx: Tx, job_name: str) -> bool:
    return tx.scalar(_EXISTS, (job_name,)) is not None


def require(tx: Tx, job_name: str) -> None:
    """Refuse a job name no task carries, listing the jobs there are."""
    if not exists(tx, job_name):
        known = names(tx)
        listed = ", ".join(known[:20]) + (" …" if len(known) > 20 else "") if known else "none"
        raise JobError(f"no job named {job_name!r}; jobs: {listed}")


def names(tx: Tx) -> list[str]:
    """Every job name, sorted (for "no job named X; jobs: …" messages)."""
    return [r[0] for r in tx.tuples(_NAMES)]


def cancelled(tx: Tx) -> list[str]:
    """The cancelled jobs; none where the table does not exist (an older database)."""
    if "eas_cancelled_job" not in tx.dialect.table_names(tx):
        return []
    return [r[0] for r in tx.tuples(_CANCELLED)]


def is_cancelled(tx: Tx, job_name: str) -> bool:
    return tx.scalar(_IS_CANCELLED, (job_name,)) is not None


def cancel(tx: Tx, job_name: str, now: float) -> bool:
    """Mark the job cancelled; False when it already was."""
    if is_cancelled(tx, job_name):
        return False
    tx.execute(_CANCEL, (job_name, now))
    return True


def resume(tx: Tx, job_names: list[str]) -> list[str]:
    """Lift the cancellation of these jobs; returns those that were cancelled."""
    was = [name for name in job_names if is_cancelled(tx, name)]
    for chunk in chunks(was):
        tx.execute(_RESUME.format(marks=marks(chunk)), chunk)
    return was
