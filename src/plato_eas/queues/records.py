"""What the task database records about the queues, shared by both implementations: the
database, not the broker, says which attempts are queued (see ``queues/base.py``)."""

from __future__ import annotations

from ..db import Tx, chunks, marks

_QUEUED = """
SELECT tt.taskTypeName, a.schedulingAttemptId FROM eas_scheduling_attempt a
JOIN eas_task t ON t.taskId = a.taskId
JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId
WHERE a.isQueued = 1 AND tt.taskTypeName IN ({marks})
ORDER BY a.schedulingAttemptId
"""

_UNQUEUE = """
UPDATE eas_scheduling_attempt SET isQueued = 0
WHERE isQueued = 1 AND schedulingAttemptId IN ({marks})
"""


def queued_attempts(tx: Tx, names: list[str]) -> dict[str, list[int]]:
    """{queue (task type) name: ids of its queued attempts, oldest first}."""
    out: dict[str, list[int]] = {name: [] for name in names}
    if names:
        for name, attempt_id in tx.tuples(_QUEUED.format(marks=marks(names)), names):
            out[name].append(int(attempt_id))
    return out


def unqueue(tx: Tx, attempt_ids: list[int]) -> None:
    """Take attempts off the queue in the database (they wait for ``reschedule``)."""
    for chunk in chunks(attempt_ids):
        tx.execute(_UNQUEUE.format(marks=marks(chunk)), chunk)
