"""Every state change of a scheduling attempt, in one place.

An attempt is created *queued* (by a scheduling pass, a retry or a reschedule), *taken* by a
worker (running on its host, with a heartbeat), *released* back to the queue (its worker was
stopped: *interrupted*, not failed, with the reason in its log), *finished* (passed or failed —
a time limit exceeded or a result that could not be recorded is a failure) by the worker that
holds it, marked failed when *stalled*, or *unqueued* (``empty_queue``: it waits for
``reschedule``). The queues move messages and the scheduler and
worker decide when; the statements that write ``eas_scheduling_attempt`` are all here, each
conditional on the state it leaves, so a late or repeated call changes nothing.

*Stalled* is defined once, by :data:`STALLED_SQL`: running, with no sign of life since the
cutoff — the latest heartbeat or, before the first one, the start time. Reports, the sweep and
its retries all use it.
"""

from __future__ import annotations

import logging
import time

from ..db import Tx, chunks, marks

# A running attempt ``a`` whose last sign of life is older than the one ``?`` (the cutoff).
STALLED_SQL = "a.isRunning = 1 AND COALESCE(a.latestHeartbeat, a.startTime, 0) < ?"

_NEW_SINCE = """
SELECT a.schedulingAttemptId, a.taskId, tt.taskTypeName FROM eas_scheduling_attempt a
JOIN eas_task t ON t.taskId = a.taskId
JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId
WHERE a.schedulingAttemptId > ? ORDER BY a.schedulingAttemptId
"""
_LAST_ID = "SELECT COALESCE(MAX(schedulingAttemptId), 0) FROM eas_scheduling_attempt"

_CREATE_FROM = """
INSERT INTO eas_scheduling_attempt (taskId, queuedTime, isQueued, isRunning, isFinished,
                                    errorFail)
SELECT r.taskId, ?, 1, 0, 0, 0 FROM ({tasks}) r ORDER BY r.taskId
"""
_CREATE = """
INSERT INTO eas_scheduling_attempt (taskId, queuedTime, isQueued, isRunning, isFinished,
                                    errorFail)
VALUES (?, ?, 1, 0, 0, 0)
"""

_TAKE = """
UPDATE eas_scheduling_attempt
SET isQueued = 0, isRunning = 1, hostId = ?, startTime = ?, latestHeartbeat = ?
WHERE schedulingAttemptId = ? AND isQueued = 1
"""
_TAKEN_BY = """
SELECT schedulingAttemptId FROM eas_scheduling_attempt
WHERE hostId = ? AND startTime = ? AND isRunning = 1
"""
_RELEASE = """
UPDATE eas_scheduling_attempt SET isQueued = 1, isRunning = 0, hostId = NULL,
startTime = NULL, latestHeartbeat = NULL
WHERE schedulingAttemptId = ? AND isRunning = 1 AND isFinished = 0
"""
_HELD_BY = """
SELECT tt.taskTypeName, a.schedulingAttemptId FROM eas_scheduling_attempt a
JOIN eas_task t ON t.taskId = a.taskId
JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId
WHERE a.isRunning = 1 AND a.isFinished = 0 AND a.hostId IN ({marks})
ORDER BY a.schedulingAttemptId
"""
_NOTE = """
INSERT INTO eas_log_messages (generatedByTaskExecution, timestamp, severity, message)
VALUES (?, ?, ?, ?)
"""
_FINISHED_AMONG = """
SELECT schedulingAttemptId FROM eas_scheduling_attempt
WHERE isFinished = 1 AND schedulingAttemptId IN ({marks})
"""
_HEARTBEAT = """
UPDATE eas_scheduling_attempt SET latestHeartbeat = ?
WHERE schedulingAttemptId = ? AND isRunning = 1
"""
_FINISH = """
UPDATE eas_scheduling_attempt
SET isRunning = 0, isQueued = 0, isFinished = 1, endTime = ?, errorFail = ?, errorText = ?,
    allProductsPassedQc = ?, runTimeWallClock = ?, runTimeCpu = ?, runTimeCpuIncChildren = ?
WHERE schedulingAttemptId = ? AND isRunning = 1 AND isFinished = 0
"""
_STALLED = (
    "SELECT a.schedulingAttemptId, a.taskId FROM eas_scheduling_attempt a WHERE "  # noqa: S608
    + STALLED_SQL + " ORDER BY a.schedulingAttemptId")
_FAIL_STALLED = """
UPDATE eas_scheduling_attempt SET isRunning = 0, isFinished = 1, errorFail = 1,
allProductsPassedQc = 0, endTime = ?, errorText = ?
WHERE schedulingAttemptId = ? AND isRunning = 1
"""
_FAILURES = """
SELECT taskId, COUNT(*) FROM eas_scheduling_attempt
WHERE errorFail = 1 AND taskId IN ({marks}) GROUP BY taskId
"""
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


def stalled_cutoff(max_age: float, now: float | None = None) -> float:
    """The time before which a running attempt's last sign of life means it has stalled."""
    return (time.time() if now is None else now) - max_age


# -- created queued ------------------------------------------------------------------------
def create_queued_for(tx: Tx, tasks_sql: str, params: list, now: float) -> list[dict]:
    """A queued attempt for each task id ``tasks_sql`` selects (as ``taskId``); returns the
    new attempts (schedulingAttemptId, taskId, taskTypeName). The caller holds the scheduler
    lock, so the new ids are exactly those above the previous maximum."""
    before = tx.scalar(_LAST_ID)
    tx.execute(_CREATE_FROM.format(tasks=tasks_sql), [now, *params])
    return tx.rows(_NEW_SINCE, (before,))


def create_queued(tx: Tx, task_ids: list[int], now: float) -> list[dict]:
    """A queued attempt for each of ``task_ids``; returns them as :func:`create_queued_for`."""
    if not task_ids:
        return []
    before = tx.scalar(_LAST_ID)
    tx.executemany(_CREATE, [(task_id, now) for task_id in task_ids])
    return tx.rows(_NEW_SINCE, (before,))


# -- taken, released, alive, finished --------------------------------------------------------
def take(tx: Tx, attempt_id: int, host_id: int, now: float,
         unless_locked: bool = False) -> bool | None:
    """Mark a queued attempt running on ``host_id`` from ``now``: True when taken, False when
    it is no longer queued, None when ``unless_locked`` and another transaction holds it."""
    params = (host_id, now, now, attempt_id)
    taken = tx.execute_unless_locked(_TAKE, params) if unless_locked else tx.execute(_TAKE, params)
    return None if taken is None else taken == 1


def taken_by(tx: Tx, host_id: int, now: float) -> int | None:
    """The attempt a take stamped with (``host_id``, ``now``): a claim re-run after its COMMIT
    was lost with the connection recognises its own row instead of orphaning it."""
    found = tx.scalar(_TAKEN_BY, (host_id, now))
    return None if found is None else int(found)


def release(tx: Tx, attempt_id: int, reason: str | None = None,
            now: float | None = None) -> bool:
    """Give a running, unfinished attempt back to the queue; False when it was not running.
    With a ``reason`` (its worker was interrupted) the attempt's log says so, as a warning:
    interrupted is not failed, and the next claim runs it again at once."""
    released = tx.execute(_RELEASE, (int(attempt_id),)) == 1
    if released and reason:
        tx.execute(_NOTE, (int(attempt_id), time.time() if now is None else now,
                           logging.WARNING, reason))
    return released


def release_held(tx: Tx, host_ids: list[int], reason: str,
                 now: float) -> dict[str, list[int]]:
    """Release every attempt still running on one of ``host_ids`` (workers stopped before
    they could give their attempts back); returns {task type (queue) name: [attempt ids]}
    so the caller can put them on the queue again."""
    held: dict[str, list[int]] = {}
    for chunk in chunks(sorted({int(h) for h in host_ids})):
        for name, attempt_id in tx.tuples(_HELD_BY.format(marks=marks(chunk)), chunk):
            if release(tx, attempt_id, reason, now):
                held.setdefault(name, []).append(int(attempt_id))
    return held


def heartbeat(tx: Tx, attempt_id: int, now: float) -> None:
    tx.execute(_HEARTBEAT, (now, int(attempt_id)))


def finish(tx: Tx, attempt_id: int, passed: bool, error_text: str | None, wall: float,
           cpu: float, cpu_children: float, now: float) -> bool:
    """Close a running attempt as passed or failed; False when it was no longer running (the
    sweep declared it stalled meanwhile): a late result is then discarded, not recorded."""
    return tx.execute(_FINISH, (now, not passed, error_text, passed, wall, cpu, cpu_children,
                                int(attempt_id))) == 1


def finished_among(tx: Tx, attempt_ids: list[int]) -> list[int]:
    """Those of ``attempt_ids`` that are finished (their files on disk are nobody's any more)."""
    out: list[int] = []
    for chunk in chunks(sorted(set(attempt_ids))):
        out += [int(r[0]) for r in tx.tuples(_FINISHED_AMONG.format(marks=marks(chunk)), chunk)]
    return out


# -- stalled, retried ------------------------------------------------------------------------
def stalled(tx: Tx, max_age: float, now: float | None = None) -> list[tuple[int, int]]:
    """(attempt id, task id) of every stalled attempt, oldest first."""
    return [(int(a), int(t)) for a, t in tx.tuples(_STALLED, (stalled_cutoff(max_age, now),))]


def fail_stalled(tx: Tx, max_age: float, now: float) -> list[tuple[int, int]]:
    """Mark every stalled attempt failed; returns them as :func:`stalled` does."""
    found = stalled(tx, max_age, now)
    text = f"stalled: no heartbeat for more than {max_age:g} s"
    tx.executemany(_FAIL_STALLED, [(now, text, attempt_id) for attempt_id, _ in found])
    return found


def retry(tx: Tx, task_ids: list[int], retry_limit: int,
          now: float) -> tuple[list[dict], list[int]]:
    """A new queued attempt for each task whose failed attempts are still within
    ``retry_limit``; returns (new attempts, tasks given up on)."""
    failures: dict[int, int] = {}
    for chunk in chunks(task_ids):
        for task_id, count in tx.tuples(_FAILURES.format(marks=marks(chunk)), chunk):
            failures[int(task_id)] = int(count)
    again = [t for t in task_ids if failures.get(t, 0) <= retry_limit]
    given_up = [t for t in task_ids if failures.get(t, 0) > retry_limit]
    return create_queued(tx, again, now), given_up


# -- queued, unqueued ------------------------------------------------------------------------
def queued_by_type(tx: Tx, names: list[str]) -> dict[str, list[int]]:
    """{task type (queue) name: ids of its queued attempts, oldest first}."""
    out: dict[str, list[int]] = {name: [] for name in names}
    if names:
        for name, attempt_id in tx.tuples(_QUEUED.format(marks=marks(names)), names):
            out[name].append(int(attempt_id))
    return out


def unqueue(tx: Tx, attempt_ids: list[int]) -> None:
    """Take attempts off the queue (they wait for ``reschedule``)."""
    for chunk in chunks(attempt_ids):
        tx.execute(_UNQUEUE.format(marks=marks(chunk)), chunk)
