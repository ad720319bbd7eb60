"""Every state change of a scheduling attempt, in one place.

An attempt is created *queued* (by a scheduling pass, a reschedule or a retry), or *waiting
for its retry* (a retry that waits out its backoff: queued when its ``retryAt`` comes), is
*taken* by a worker (running on its host, with a heartbeat), *released* back to the queue (its
worker was stopped: *interrupted*, not failed, with the reason in its log), *finished* (passed
or failed — a time limit exceeded or a result that could not be recorded is a failure) by the
worker that holds it, marked failed when *stalled*, *unqueued* (``empty_queue``: it waits for
``reschedule``), or *cancelled* (its job was cancelled: queued, running or waiting for a
retry, it ends there). The queues move messages and the scheduler and worker decide when; the
statements that write ``eas_scheduling_attempt`` are all here, each conditional on the state
it leaves, so a late or repeated call changes nothing.

A failure records its kind (``FAILURE_KINDS``) and asks the scheduler to decide on a retry
(``retryAt``: the time the scheduler next acts on the attempt). Every failure and every
cancellation also writes its reason to the attempt's log.

*Stalled* is defined once, by :data:`STALLED_SQL`: running, with no sign of life since the
cutoff — the latest heartbeat or, before the first one, the start time. *Cancelled* is defined
once, by :data:`CANCELLED_SQL`: ended (an end time) without having finished, neither queued
nor running — in the prototype's own columns, so reports read it in any database.

Each task carries ``settledState``: the state its latest attempt settled in (failed, done or
cancelled — states no clock changes), NULL while it has none or its latest attempt can still
change. Every statement here that creates or ends an attempt refreshes it (:func:`_settle`),
so the progress report counts settled tasks from an index instead of visiting their attempts.
"""

from __future__ import annotations

import logging
import time

from ..db import Tx, chunks, marks
from . import checks
from .jobs import NOT_CANCELLED_SQL

# A running attempt ``a`` whose last sign of life is older than the one ``?`` (the cutoff).
STALLED_SQL = "a.isRunning = 1 AND COALESCE(a.latestHeartbeat, a.startTime, 0) < ?"
# An attempt ``a`` that was cancelled.
CANCELLED_SQL = ("a.isQueued = 0 AND a.isRunning = 0 AND a.isFinished = 0"
                 " AND a.endTime IS NOT NULL")
# The state attempt ``a`` settled in (failed, done, cancelled; as states.ATTEMPT_STATE_SQL
# says), NULL while it may still change.
SETTLED_STATE_SQL = ("CASE WHEN a.errorFail THEN 'failed' WHEN a.isFinished THEN 'done'"
                     " WHEN " + CANCELLED_SQL + " THEN 'cancelled' ELSE NULL END")
ERROR, TIME_LIMIT, STALLED = "error", "time_limit", "stalled"
# A queued attempt as the queues need it: (schedulingAttemptId, taskId, task type name = queue
# name). Plain tuples: a first pass makes a million of them.
Queued = tuple[int, int, str]
FAILURE_KINDS = (ERROR, TIME_LIMIT, STALLED)

_NEW_SINCE = """
SELECT a.schedulingAttemptId, a.taskId, t.taskTypeId FROM eas_scheduling_attempt a
JOIN eas_task t ON t.taskId = a.taskId
WHERE a.schedulingAttemptId > ? ORDER BY a.schedulingAttemptId
"""
_TYPE_NAMES = "SELECT taskTypeId, taskTypeName FROM eas_task_types"
_LAST_ID = "SELECT COALESCE(MAX(schedulingAttemptId), 0) FROM eas_scheduling_attempt"

# Attempts are numbered in the order they should run: highest priority first.
_CREATE_FROM = """
INSERT INTO eas_scheduling_attempt (taskId, queuedTime, isQueued, isRunning, isFinished,
                                    errorFail, priority)
SELECT r.taskId, ?, 1, 0, 0, 0, r.priority FROM ({tasks}) r ORDER BY r.priority DESC, r.taskId
"""
_CREATE_RETRY = """
INSERT INTO eas_scheduling_attempt (taskId, isQueued, isRunning, isFinished, errorFail,
                                    priority, retryAt)
SELECT t.taskId, 0, 0, 0, 0, t.priority, ? FROM eas_task t WHERE t.taskId = ?
"""
_NOTE = """
INSERT INTO eas_log_messages (generatedByTaskExecution, timestamp, severity, message)
VALUES (?, ?, ?, ?)
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
_EXPANDED = """
INSERT INTO eas_scheduling_attempt (taskId, queuedTime, isQueued, isRunning, isFinished, hostId,
    startTime, latestHeartbeat, endTime, allProductsPassedQc, errorFail, runTimeWallClock,
    runTimeCpu, runTimeCpuIncChildren, priority)
SELECT t.taskId, ?, 0, 0, 1, a.hostId, ?, ?, ?, 1, 0, ?, ?, ?, t.priority
FROM eas_task t, eas_scheduling_attempt a WHERE t.taskId = ? AND a.schedulingAttemptId = ?
"""
_ATTEMPTS_OF = ("SELECT taskId, schedulingAttemptId FROM eas_scheduling_attempt"
                " WHERE taskId IN ({marks})")
_FINISHED_AMONG = (
    "SELECT a.schedulingAttemptId FROM eas_scheduling_attempt a"  # noqa: S608
    " WHERE (a.isFinished = 1 OR (" + CANCELLED_SQL + ")) AND a.schedulingAttemptId IN ({marks})"
)
_HEARTBEAT = """
UPDATE eas_scheduling_attempt SET latestHeartbeat = ?
WHERE schedulingAttemptId = ? AND isRunning = 1
"""
_FINISH = """
UPDATE eas_scheduling_attempt
SET isRunning = 0, isQueued = 0, isFinished = 1, endTime = ?, errorFail = ?, errorText = ?,
    allProductsPassedQc = ?, runTimeWallClock = ?, runTimeCpu = ?, runTimeCpuIncChildren = ?,
    failureKind = ?, retryAt = ?
WHERE schedulingAttemptId = ? AND isRunning = 1 AND isFinished = 0
"""
# The unary + keeps SQLite on the running-attempts index (a scan of every attempt in id order
# otherwise: 250 ms of every idle pass at 1M attempts).
_STALLED = (
    "SELECT a.schedulingAttemptId, a.taskId FROM eas_scheduling_attempt a WHERE "  # noqa: S608
    + STALLED_SQL + " ORDER BY +a.schedulingAttemptId")
_FAIL_STALLED = """
UPDATE eas_scheduling_attempt SET isRunning = 0, isFinished = 1, errorFail = 1,
allProductsPassedQc = 0, endTime = ?, errorText = ?, failureKind = 'stalled', retryAt = ?
WHERE schedulingAttemptId = ? AND isRunning = 1
"""
_FAILURES = """
SELECT taskId, COUNT(*) FROM eas_scheduling_attempt
WHERE errorFail = 1 AND taskId IN ({marks}) GROUP BY taskId
"""
# Failed attempts whose retry is for the scheduler to decide now, with whether each is still
# its task's latest attempt and its job not cancelled (else there is nothing to retry).
_FAILURES_DUE = (
    "SELECT a.schedulingAttemptId, a.taskId, tt.taskTypeName, a.failureKind, a.endTime,"  # noqa: S608
    " CASE WHEN " + NOT_CANCELLED_SQL + " AND NOT EXISTS (SELECT 1 FROM eas_scheduling_attempt x"
    " WHERE x.taskId = a.taskId AND x.schedulingAttemptId > a.schedulingAttemptId)"
    " THEN 1 ELSE 0 END"
    " FROM eas_scheduling_attempt a JOIN eas_task t ON t.taskId = a.taskId"
    " JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    " WHERE a.retryAt IS NOT NULL AND a.retryAt <= ? AND a.errorFail = 1"
    " ORDER BY a.schedulingAttemptId"
)
_DECIDED = "UPDATE eas_scheduling_attempt SET retryAt = NULL WHERE schedulingAttemptId IN ({marks})"
# Retries whose backoff is over (their job not cancelled): queued now.
_RETRIES_DUE = (
    "SELECT a.schedulingAttemptId FROM eas_scheduling_attempt a"  # noqa: S608
    " JOIN eas_task t ON t.taskId = a.taskId"
    " WHERE a.retryAt IS NOT NULL AND a.retryAt <= ? AND a.isQueued = 0 AND a.isRunning = 0"
    " AND a.isFinished = 0 AND a.endTime IS NULL AND " + NOT_CANCELLED_SQL
)
_QUEUE_RETRY = """
UPDATE eas_scheduling_attempt SET isQueued = 1, queuedTime = ?, retryAt = NULL
WHERE schedulingAttemptId IN ({marks}) AND isQueued = 0 AND isRunning = 0 AND isFinished = 0
  AND endTime IS NULL
"""
_BY_ID = """
SELECT a.schedulingAttemptId, a.taskId, tt.taskTypeName FROM eas_scheduling_attempt a
JOIN eas_task t ON t.taskId = a.taskId
JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId
WHERE a.schedulingAttemptId IN ({marks}) ORDER BY a.priority DESC, a.schedulingAttemptId
"""
_QUEUED = """
SELECT tt.taskTypeName, a.schedulingAttemptId FROM eas_scheduling_attempt a
JOIN eas_task t ON t.taskId = a.taskId
JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId
WHERE a.isQueued = 1 AND tt.taskTypeName IN ({marks}) AND (? IS NULL OR t.jobName = ?)
ORDER BY a.schedulingAttemptId
"""
_UNQUEUE = """
UPDATE eas_scheduling_attempt SET isQueued = 0
WHERE isQueued = 1 AND schedulingAttemptId IN ({marks})
"""
# A job's attempts that a cancel ends: queued, running, or waiting for their retry.
_OF_JOB_LIVE = """
SELECT a.schedulingAttemptId, tt.taskTypeName, a.isQueued, a.isRunning
FROM eas_scheduling_attempt a
JOIN eas_task t ON t.taskId = a.taskId
JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId
WHERE t.jobName = ? AND (a.isQueued = 1 OR a.isRunning = 1
  OR (a.retryAt IS NOT NULL AND a.isFinished = 0 AND a.endTime IS NULL))
ORDER BY a.schedulingAttemptId
"""
_CANCEL = """
UPDATE eas_scheduling_attempt SET isQueued = 0, isRunning = 0, endTime = ?, errorText = ?,
retryAt = NULL
WHERE schedulingAttemptId IN ({marks}) AND isFinished = 0 AND endTime IS NULL
"""
_CANCELLED_AMONG = (
    "SELECT a.schedulingAttemptId FROM eas_scheduling_attempt a"  # noqa: S608
    " WHERE a.schedulingAttemptId IN ({marks}) AND a.endTime = ? AND " + CANCELLED_SQL
)
# A cancelled job's failures are not retried (reschedule gives its tasks another go).
_FORGET_RETRIES = """
UPDATE eas_scheduling_attempt SET retryAt = NULL
WHERE retryAt IS NOT NULL AND isFinished = 1
  AND taskId IN (SELECT taskId FROM eas_task WHERE jobName = ?)
"""
# Refresh the settled state of tasks from their latest attempt ({where}: which tasks).
_SETTLE = (
    "UPDATE eas_task SET settledState = (SELECT " + SETTLED_STATE_SQL  # noqa: S608
    + " FROM eas_scheduling_attempt a WHERE a.schedulingAttemptId ="
    " (SELECT MAX(x.schedulingAttemptId) FROM eas_scheduling_attempt x"
    " WHERE x.taskId = eas_task.taskId)) WHERE {where}"
)
_TASK_OF = "SELECT taskId FROM eas_scheduling_attempt WHERE schedulingAttemptId = ?"
_STILL_RUNNING = "SELECT isRunning FROM eas_scheduling_attempt WHERE schedulingAttemptId = ?"


def stalled_cutoff(max_age: float, now: float | None = None) -> float:
    """The time before which a running attempt's last sign of life means it has stalled."""
    return (time.time() if now is None else now) - max_age


# -- created queued ------------------------------------------------------------------------
def create_queued_for(tx: Tx, tasks_sql: str, params: list, now: float,
                      first: bool = False) -> list[Queued]:
    """A queued attempt for each task ``tasks_sql`` selects (as ``taskId`` and ``priority``),
    numbered highest priority first; returns the new attempts in that order. The caller
    holds the scheduler lock, so the new ids are exactly those above the previous maximum.
    ``first``: ``tasks_sql`` selects only tasks without any attempt, whose settled state is
    NULL already (a pass over a million new tasks then skips a million look-ups)."""
    before = tx.scalar(_LAST_ID)
    tx.execute(_CREATE_FROM.format(tasks=tasks_sql), [now, *params])
    names = dict(tx.tuples(_TYPE_NAMES))  # a handful of rows: cheaper than a join per attempt
    created = [(attempt_id, task_id, names[type_id])
               for attempt_id, task_id, type_id in tx.tuples(_NEW_SINCE, (before,))]
    if not first:
        _settle(tx, [task_id for _, task_id, _ in created], only_settled=True)
    return created


def _settle(tx: Tx, task_ids: list[int], only_settled: bool = False) -> None:
    """Refresh these tasks' ``settledState`` after their latest attempt was created or ended
    (``only_settled``: a new attempt, so only tasks that had settled can change)."""
    where = "settledState IS NOT NULL AND " if only_settled else ""
    for chunk in chunks(sorted({int(t) for t in task_ids})):
        tx.execute(_SETTLE.format(where=where + "taskId IN (" + marks(chunk) + ")"), chunk)


def settle_all(tx: Tx) -> None:
    """Compute every task's ``settledState`` (the schema migration that adds it)."""
    tx.execute(_SETTLE.format(where="1 = 1"))


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


def heartbeat(tx: Tx, attempt_id: int, now: float) -> bool:
    """A sign of life from a running attempt; False when it is no longer running (cancelled,
    or declared stalled): its worker should stop it."""
    return tx.execute(_HEARTBEAT, (now, int(attempt_id))) == 1


def still_running(tx: Tx, attempt_id: int) -> bool:
    """Whether the attempt is still running (not cancelled or swept meanwhile)."""
    return bool(tx.scalar(_STILL_RUNNING, (int(attempt_id),)))


def finish(tx: Tx, attempt_id: int, passed: bool, error_text: str | None, wall: float,
           cpu: float, cpu_children: float, now: float, failure_kind: str = ERROR,
           task_id: int | None = None, mark_readers: bool = True) -> bool:
    """Close a running attempt as passed or failed (a failure of ``failure_kind``, whose retry
    the scheduler then decides) and mark the tasks that read its task's files or metadata for
    a readiness check (``checks``); False when it was no longer running (declared stalled or
    cancelled meanwhile): a late result is then discarded, not recorded. ``task_id`` saves
    looking it up; ``mark_readers=False``: the caller marks the readers itself
    (``checks.mark_consumers``) later in the same transaction, to hold the scheduler lock
    that takes for less time."""
    kind, retry_at = (None, None) if passed else (failure_kind, now)
    if tx.execute(_FINISH, (now, not passed, error_text, passed, wall, cpu, cpu_children,
                            kind, retry_at, int(attempt_id))) != 1:
        return False
    if task_id is None:
        task_id = tx.scalar(_TASK_OF, (int(attempt_id),))
    tx.execute(_SETTLE.format(where="taskId = ?"), (int(task_id),))
    if mark_readers:
        checks.mark_consumers(tx, task_id)
    return True


def record_expanded(tx: Tx, by: int, bodies: list[tuple[int, float, float, str]],
                    now: float) -> None:
    """An attempt that passed, for each loop body expanded by attempt ``by`` (its loop's,
    still running here): queued, started and finished now on ``by``'s host, with its wall
    and CPU seconds and one log line (``bodies``: (task id, wall, CPU, line)). Their
    tasks are new: these are their only attempts."""
    tx.executemany(_EXPANDED, [(now, now, now, now, wall, cpu, cpu, task_id, by)
                               for task_id, wall, cpu, _ in bodies])
    ids: dict[int, int] = {}
    for chunk in chunks(sorted(task_id for task_id, *_ in bodies)):
        ids.update(tx.tuples(_ATTEMPTS_OF.format(marks=marks(chunk)), chunk))
    tx.executemany(_NOTE, [(ids[task_id], now, logging.INFO, line)
                           for task_id, _, _, line in bodies])
    _settle(tx, list(ids))


def finished_among(tx: Tx, attempt_ids: list[int]) -> list[int]:
    """Those of ``attempt_ids`` that are finished or cancelled (their files on disk are
    nobody's any more)."""
    out: list[int] = []
    for chunk in chunks(sorted(set(attempt_ids))):
        out += [int(r[0]) for r in tx.tuples(_FINISHED_AMONG.format(marks=marks(chunk)), chunk)]
    return out


def note(tx: Tx, attempt_ids: list[int], level: int, message: str, now: float) -> None:
    """The same line in the log of each of these attempts."""
    tx.executemany(_NOTE, [(int(a), now, level, message) for a in attempt_ids])


# -- stalled ---------------------------------------------------------------------------------
def stalled(tx: Tx, max_age: float, now: float | None = None) -> list[tuple[int, int]]:
    """(attempt id, task id) of every stalled attempt, oldest first."""
    return [(int(a), int(t)) for a, t in tx.tuples(_STALLED, (stalled_cutoff(max_age, now),))]


def fail_stalled(tx: Tx, max_age: float, now: float) -> list[tuple[int, int]]:
    """Mark every stalled attempt failed (kind ``stalled``, the reason in its log); returns
    them as :func:`stalled` does."""
    found = stalled(tx, max_age, now)
    text = f"stalled: no heartbeat for more than {max_age:g} s"
    tx.executemany(_FAIL_STALLED, [(now, text, now, attempt_id) for attempt_id, _ in found])
    _settle(tx, [task_id for _, task_id in found])
    note(tx, [a for a, _ in found], logging.ERROR, text, now)
    return found


# -- retried ---------------------------------------------------------------------------------
def failures_due(tx: Tx, now: float) -> list[dict]:
    """Failed attempts whose retry the scheduler has to decide: attempt_id, task_id,
    task_type, kind, end, and ``open`` (still the task's latest attempt, its job not
    cancelled: otherwise there is nothing to decide)."""
    keys = ("attempt_id", "task_id", "task_type", "kind", "end", "open")
    return [dict(zip(keys, row, strict=True)) for row in tx.tuples(_FAILURES_DUE, (now,))]


def failure_counts(tx: Tx, task_ids: list[int]) -> dict[int, int]:
    """{task id: its failed attempts} (tasks without any are left out)."""
    out: dict[int, int] = {}
    for chunk in chunks(sorted(set(task_ids))):
        for task_id, count in tx.tuples(_FAILURES.format(marks=marks(chunk)), chunk):
            out[int(task_id)] = int(count)
    return out


def decided(tx: Tx, attempt_ids: list[int]) -> None:
    """These failures need no further decision (retried, given up on, or moot)."""
    for chunk in chunks(attempt_ids):
        tx.execute(_DECIDED.format(marks=marks(chunk)), chunk)


def plan_retry(tx: Tx, task_id: int, at: float) -> int:
    """A new attempt for the task that waits for its retry until ``at`` (then
    :func:`queue_due_retries` queues it); returns its id."""
    attempt_id = tx.insert(_CREATE_RETRY, (at, int(task_id)))
    _settle(tx, [task_id])
    return attempt_id


def queue_due_retries(tx: Tx, now: float) -> list[Queued]:
    """Queue every retry whose time has come (its job not cancelled); returns them as
    :func:`create_queued_for` does. The caller holds the scheduler lock."""
    due = [int(r[0]) for r in tx.tuples(_RETRIES_DUE, (now,))]
    for chunk in chunks(due):
        tx.execute(_QUEUE_RETRY.format(marks=marks(chunk)), [now, *chunk])
    return by_id(tx, due)


def by_id(tx: Tx, attempt_ids: list[int]) -> list[Queued]:
    """These attempts, in the order they run."""
    out: list[Queued] = []
    for chunk in chunks(attempt_ids):
        out += tx.tuples(_BY_ID.format(marks=marks(chunk)), chunk)
    return out


# -- queued, unqueued, cancelled -------------------------------------------------------------
def queued_by_type(tx: Tx, names: list[str],
                   job_name: str | None = None) -> dict[str, list[int]]:
    """{task type (queue) name: ids of its queued attempts (of ``job_name`` only, when given),
    oldest first}. Reads no column newer than the prototype's: the queue report uses it."""
    out: dict[str, list[int]] = {name: [] for name in names}
    if names:
        params = [*names, job_name, job_name]
        for name, attempt_id in tx.tuples(_QUEUED.format(marks=marks(names)), params):
            out[name].append(int(attempt_id))
    return out


def unqueue(tx: Tx, attempt_ids: list[int]) -> None:
    """Take attempts off the queue (they wait for ``reschedule``)."""
    for chunk in chunks(attempt_ids):
        tx.execute(_UNQUEUE.format(marks=marks(chunk)), chunk)


def live_of_job(tx: Tx, job_name: str) -> dict:
    """What a cancel of the job would end: {"queued": {queue name: [ids]}, "running": [ids],
    "retries": [ids]} (retries: waiting out their backoff)."""
    return _classify(tx.tuples(_OF_JOB_LIVE, (job_name,)), None)


def _classify(found: list[tuple], only: set[int] | None) -> dict:
    out: dict = {"queued": {}, "running": [], "retries": []}
    for attempt_id, queue, queued, running in found:
        if only is not None and int(attempt_id) not in only:
            continue
        if queued:
            out["queued"].setdefault(queue, []).append(int(attempt_id))
        else:
            out["running" if running else "retries"].append(int(attempt_id))
    return out


def cancel_job(tx: Tx, job_name: str, reason: str, now: float) -> dict:
    """End the job's queued and running attempts and its waiting retries as cancelled (the
    reason in their log, as a warning: cancelled is not failed), and forget the retries its
    failures were due. Returns what was cancelled, as :func:`live_of_job` does."""
    found = tx.tuples(_OF_JOB_LIVE, (job_name,))
    ids = [int(r[0]) for r in found]
    for chunk in chunks(ids):
        tx.execute(_CANCEL.format(marks=marks(chunk)), [now, reason, *chunk])
    done: set[int] = set()
    for chunk in chunks(ids):
        done.update(int(r[0]) for r in tx.tuples(_CANCELLED_AMONG.format(marks=marks(chunk)),
                                                 [*chunk, now]))
    note(tx, sorted(done), logging.WARNING, reason, now)
    tx.execute(_FORGET_RETRIES, (job_name,))
    for chunk in chunks(sorted(done)):
        _settle(tx, [int(r[0]) for r in tx.tuples(
            "SELECT taskId FROM eas_scheduling_attempt WHERE schedulingAttemptId IN ("  # noqa: S608
            + marks(chunk) + ")", chunk)])
    return _classify(found, done)
