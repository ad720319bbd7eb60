"""The §3.2 states of tasks and attempts, defined once for every report and for the runner.

An attempt is, in order of precedence: *failed* (``errorFail``), *done* (``isFinished``),
*cancelled* (ended by a cancel of its job: ``attempts.CANCELLED_SQL``), *stalled* (running
with no heartbeat, or before its first one no start, within ``max_heartbeat_age``:
``attempts.STALLED_SQL``), *running*, *queued* (``isQueued``), else *waiting* (an attempt
taken off the queue by ``empty_queue`` waits for ``reschedule`` like a task that never had
one; a retry waits out its backoff). A task's state is that of its latest attempt, *waiting*
when it has none. A waiting task is also *blocked* when one of its inputs (file or metadata)
comes, directly or through other blocked tasks, from a task that *failed for good*: its latest
attempt failed and no attempt is queued, running or done. Blocked tasks are a subset of the
waiting ones.

A job is *cancelled* from its cancel until ``reschedule`` names it; otherwise *running* while
a task is in flight or a waiting task may still become ready, *blocked* when nothing is in
flight and every waiting task is blocked, else *finished*.
"""

from __future__ import annotations

from collections import defaultdict

from ..db import Tx, chunks, marks
from ..defaults import MAX_HEARTBEAT_AGE
from . import jobs
from .attempts import CANCELLED_SQL, STALLED_SQL, stalled_cutoff

WAITING, QUEUED, RUNNING, STALLED, DONE, FAILED, CANCELLED = (
    "waiting", "queued", "running", "stalled", "done", "failed", "cancelled")
STATES = (WAITING, QUEUED, STALLED, RUNNING, DONE, FAILED, CANCELLED)
LIVE_STATES = (QUEUED, RUNNING)
IN_FLIGHT_STATES = (QUEUED, RUNNING, STALLED)
UNFINISHED_STATES = (WAITING, *IN_FLIGHT_STATES)  # work a run would still do
JOB_RUNNING, JOB_BLOCKED, JOB_FINISHED, JOB_CANCELLED = (
    "running", "blocked", "finished", "cancelled")
JOB_STATES = (JOB_RUNNING, JOB_BLOCKED, JOB_FINISHED, JOB_CANCELLED)

# The state of attempt ``a`` (all-NULL when a LEFT JOIN found none: then 'waiting').
# Its one ``?`` is the stalled cutoff (attempts.STALLED_SQL, the one definition of stalled).
# These fragments are constants: no input is ever spliced in.
ATTEMPT_STATE_SQL = (
    "CASE WHEN a.errorFail THEN 'failed' "
    "WHEN a.isFinished THEN 'done' "
    "WHEN " + CANCELLED_SQL + " THEN 'cancelled' "
    "WHEN " + STALLED_SQL + " THEN 'stalled' "
    "WHEN a.isRunning THEN 'running' "
    "WHEN a.isQueued THEN 'queued' "
    "ELSE 'waiting' END"
)
# Joins every task ``t`` to its latest attempt ``a`` (if any) and its type ``tt``.
LATEST_ATTEMPT_JOIN = (
    " FROM eas_task t"
    " INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    " LEFT OUTER JOIN eas_scheduling_attempt a ON a.schedulingAttemptId ="
    " (SELECT MAX(x.schedulingAttemptId) FROM eas_scheduling_attempt x"
    " WHERE x.taskId = t.taskId)"
)
# Optional job filter: bind (job_name, job_name); NULL means every job.
JOB_FILTER = " WHERE (? IS NULL OR t.jobName = ?)"

# Counts by job (every job: no task type needed), or by job and type (one job's page).
_JOB_STATE_COUNTS = (
    "SELECT t.jobName, NULL, " + ATTEMPT_STATE_SQL + " AS state, COUNT(*)"  # noqa: S608
    + LATEST_ATTEMPT_JOIN.replace(
        " INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId", "")
    + " GROUP BY t.jobName, state"
)
_JOB_TYPE_STATE_COUNTS = (
    "SELECT t.jobName, tt.taskTypeName, " + ATTEMPT_STATE_SQL + " AS state,"  # noqa: S608
    " COUNT(*)" + LATEST_ATTEMPT_JOIN + " WHERE t.jobName = ?"
    + " GROUP BY t.jobName, tt.taskTypeName, state"
)
_TYPE_STATE_COUNTS = (
    "SELECT tt.taskTypeName, " + ATTEMPT_STATE_SQL + " AS state, COUNT(*)"  # noqa: S608
    + LATEST_ATTEMPT_JOIN + JOB_FILTER + " GROUP BY tt.taskTypeName, state"
)
# Where the schema keeps settled states (attempts.py): settled tasks counted from the index,
# only the others joined to their latest attempt.
_SETTLED_COUNTS = (
    "SELECT tt.taskTypeName, c.settledState, c.n FROM (SELECT t.taskTypeId, t.settledState,"
    " COUNT(*) AS n FROM eas_task t WHERE t.settledState IS NOT NULL"
    " AND (? IS NULL OR t.jobName = ?) GROUP BY t.settledState, t.taskTypeId) c"
    " INNER JOIN eas_task_types tt ON tt.taskTypeId = c.taskTypeId"
)
# The others (in flight, or waiting) by type from the same index; those whose latest attempt is
# in flight are found from the attempt side, through the partial indexes of queued and running
# attempts (CROSS JOIN keeps that order), so tasks never attempted cost nothing more. An
# unsettled task whose latest attempt is not in flight is waiting.
_UNSETTLED_TOTALS = (
    "SELECT tt.taskTypeName, c.n FROM (SELECT t.taskTypeId, COUNT(*) AS n FROM eas_task t"
    " WHERE t.settledState IS NULL AND (? IS NULL OR t.jobName = ?) GROUP BY t.taskTypeId) c"
    " INNER JOIN eas_task_types tt ON tt.taskTypeId = c.taskTypeId"
)
_IN_FLIGHT_COUNTS = (
    "SELECT tt.taskTypeName, c.state, c.n FROM (SELECT t.taskTypeId, "  # noqa: S608
    + ATTEMPT_STATE_SQL + " AS state, COUNT(*) AS n FROM eas_scheduling_attempt a"
    " CROSS JOIN eas_task t ON t.taskId = a.taskId WHERE {in_flight}"
    " AND t.settledState IS NULL AND (? IS NULL OR t.jobName = ?)"
    " AND NOT EXISTS (SELECT 1 FROM eas_scheduling_attempt x WHERE x.taskId = a.taskId"
    " AND x.schedulingAttemptId > a.schedulingAttemptId)"
    " GROUP BY t.taskTypeId, state) c INNER JOIN eas_task_types tt ON tt.taskTypeId = c.taskTypeId"
)
_IN_FLIGHT = ("a.isRunning = 1", "a.isQueued = 1 AND a.isRunning = 0")
_TASK_STATES = (
    "SELECT t.taskId, " + ATTEMPT_STATE_SQL + " AS state, "  # noqa: S608
    "CASE WHEN EXISTS (SELECT 1 FROM eas_scheduling_attempt b WHERE b.taskId = t.taskId"
    " AND NOT b.errorFail AND (b.isQueued OR b.isRunning OR b.isFinished))"
    " THEN 1 ELSE 0 END AS alive" + LATEST_ATTEMPT_JOIN
)
_ATTEMPT_STATE_COUNTS = (
    "SELECT a.taskId, " + ATTEMPT_STATE_SQL + " AS state, COUNT(*)"  # noqa: S608
    " FROM eas_scheduling_attempt a INNER JOIN eas_task t ON t.taskId = a.taskId"
    + JOB_FILTER + " GROUP BY a.taskId, state"
)
_TASKS = (
    "SELECT t.taskId, t.jobName, t.taskName, tt.taskTypeName FROM eas_task t"  # noqa: S608
    " INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    + JOB_FILTER + " ORDER BY t.taskId"
)
_DEPENDENCIES = (
    "SELECT ti.taskId, p.generatorTask FROM eas_task_input ti"
    " INNER JOIN eas_product p ON p.productId = ti.inputId"
    " UNION ALL SELECT mi.taskId, mi.inputId FROM eas_task_metadata_input mi"
)


def empty_counts() -> dict[str, int]:
    return {state: 0 for state in STATES}


def task_state_counts(tx: Tx, job_name: str | None = None, now: float | None = None,
                      max_age: float = MAX_HEARTBEAT_AGE) -> dict[str, dict[str, int]]:
    """{task type: {state: number of tasks}} by each task's latest attempt (all states keyed);
    only task types that have tasks appear."""
    params = (stalled_cutoff(max_age, now), job_name, job_name)
    out: dict[str, dict[str, int]] = defaultdict(empty_counts)
    if "settledState" in tx.dialect.column_names(tx, "eas_task"):
        found = tx.tuples(_SETTLED_COUNTS, params[1:]) + _unsettled_counts(tx, params)
    else:  # an older schema: every task joined to its latest attempt
        found = tx.tuples(_TYPE_STATE_COUNTS, params)
    for type_name, state, count in found:
        out[type_name][state] += int(count)
    return dict(out)


def _unsettled_counts(tx: Tx, params: tuple) -> list[tuple]:
    """(type, state, tasks) of the unsettled tasks: in flight by their latest attempt's state,
    the rest waiting."""
    found = [row for in_flight in _IN_FLIGHT
             for row in tx.tuples(_IN_FLIGHT_COUNTS.format(in_flight=in_flight), params)]
    waiting = {name: int(n) for name, n in tx.tuples(_UNSETTLED_TOTALS, params[1:])}
    for type_name, _, count in found:
        waiting[type_name] -= int(count)
    return found + [(name, WAITING, n) for name, n in waiting.items() if n]


def attempt_state_counts(tx: Tx, job_name: str | None = None, now: float | None = None,
                         max_age: float = MAX_HEARTBEAT_AGE) -> dict[int, dict[str, int]]:
    """{task id: {state: number of its attempts}} for tasks that have attempts (the job tree
    shows every attempt, not only the latest)."""
    params = (stalled_cutoff(max_age, now), job_name, job_name)
    out: dict[int, dict[str, int]] = defaultdict(empty_counts)
    for task_id, state, count in tx.tuples(_ATTEMPT_STATE_COUNTS, params):
        out[int(task_id)][state] += int(count)
    return dict(out)


def _task_states(tx: Tx, now: float | None, max_age: float) -> dict[int, tuple[str, bool]]:
    """{task id: (state, has a queued/running/done attempt)} for every task of every job."""
    rows = tx.tuples(_TASK_STATES, (stalled_cutoff(max_age, now),))
    return {int(task_id): (state, bool(alive)) for task_id, state, alive in rows}


def _consumers(tx: Tx) -> dict[int, list[int]]:
    """{producer task id: [tasks reading its files or metadata]}."""
    out: dict[int, list[int]] = defaultdict(list)
    for consumer, producer in tx.tuples(_DEPENDENCIES):
        out[int(producer)].append(int(consumer))
    return out


def _blocked_by(tx: Tx, now: float | None, max_age: float) -> dict[int, set[int]]:
    """{blocked task id: ids of the failed-for-good tasks it ultimately depends on}.

    Dependencies may cross jobs, so this always looks at the whole database."""
    states = _task_states(tx, now, max_age)
    consumers = _consumers(tx)
    failed = [tid for tid, (state, alive) in states.items() if state == FAILED and not alive]
    blocked: dict[int, set[int]] = {}
    stack = [(tid, tid) for tid in failed]
    while stack:
        producer, root = stack.pop()
        for consumer in consumers.get(producer, ()):
            if states.get(consumer, (None,))[0] != WAITING:
                continue
            roots = blocked.setdefault(consumer, set())
            if root not in roots:
                roots.add(root)
                stack.append((consumer, root))
    return blocked


def blocked_tasks(tx: Tx, job_name: str | None = None, now: float | None = None,
                  max_age: float = MAX_HEARTBEAT_AGE) -> list[dict]:
    """Waiting tasks that can never become ready, ordered by task id, each with
    ``blocked_by``: the failed-for-good task ids at the root of the dependency."""
    blocked = _blocked_by(tx, now, max_age)
    if not blocked:
        return []
    rows = tx.rows(_TASKS, (job_name, job_name))
    return [
        {"task_id": r["taskId"], "job_name": r["jobName"], "task_name": r["taskName"],
         "task_type": r["taskTypeName"], "blocked_by": sorted(blocked[r["taskId"]])}
        for r in rows if r["taskId"] in blocked
    ]


def job_summary(tx: Tx, job_name: str | None = None, now: float | None = None,
                max_age: float = MAX_HEARTBEAT_AGE) -> dict[str, int]:
    """{total, waiting, queued, running, stalled, done, failed, blocked} task counts for one
    job (None: every job); blocked tasks are also counted as waiting."""
    summary = {"total": 0, **empty_counts(), "blocked": 0}
    for counts in task_state_counts(tx, job_name, now, max_age).values():
        for state, n in counts.items():
            summary[state] += n
            summary["total"] += n
    if summary[WAITING]:  # a failed task of another job can block this one too
        summary["blocked"] = len(blocked_tasks(tx, job_name, now, max_age))
    return summary


_UNQUEUED = (
    "SELECT COUNT(*) FROM eas_task t INNER JOIN eas_scheduling_attempt a"  # noqa: S608 (constant fragments)
    " ON a.schedulingAttemptId = (SELECT MAX(x.schedulingAttemptId)"
    " FROM eas_scheduling_attempt x WHERE x.taskId = t.taskId)"
    " WHERE (? IS NULL OR t.jobName = ?) AND a.isQueued = 0 AND a.isRunning = 0"
    " AND a.isFinished = 0 AND a.errorFail = 0 AND NOT (" + CANCELLED_SQL + ")"
)


def unqueued_tasks(tx: Tx, job_name: str | None = None) -> int:
    """Waiting tasks whose latest attempt was taken off the queue (``empty_queue``): the
    scheduler leaves them alone until ``reschedule`` queues them again. A cancelled attempt
    is off the queue too but is counted as cancelled, not here."""
    return int(tx.scalar(_UNQUEUED, (job_name, job_name)))


def live_attempts(tx: Tx, job_name: str | None = None) -> int:
    """Attempts still in flight (queued, running or stalled): the cheap test the dashboard
    makes, through the queued and running indexes."""
    return tx.scalar(
        "SELECT COUNT(*) FROM eas_scheduling_attempt a JOIN eas_task t ON t.taskId = a.taskId"
        " WHERE (a.isQueued = 1 OR a.isRunning = 1) AND (? IS NULL OR t.jobName = ?)",
        (job_name, job_name))


def pending_attempts(tx: Tx, job_name: str | None = None) -> int:
    """Attempts in flight, or with a retry still to come (a failure the scheduler has yet to
    decide on, a retry waiting out its backoff): what the embedded runner waits for between
    passes. Needs the current schema."""
    return tx.scalar(
        "SELECT COUNT(*) FROM eas_scheduling_attempt a JOIN eas_task t ON t.taskId = a.taskId"
        " WHERE (a.isQueued = 1 OR a.isRunning = 1 OR a.retryAt IS NOT NULL)"
        " AND (? IS NULL OR t.jobName = ?)",
        (job_name, job_name))


def job_state(summary: dict[str, int], cancelled: bool = False) -> str:
    """cancelled / running / blocked / finished from a :func:`job_summary`-shaped dict (see
    the module docstring); ``blocked`` need only be counted when nothing is in flight."""
    if cancelled:
        return JOB_CANCELLED
    if any(summary[s] for s in IN_FLIGHT_STATES) or summary[WAITING] > summary["blocked"]:
        return JOB_RUNNING
    return JOB_BLOCKED if summary[WAITING] else JOB_FINISHED


def job_summaries(tx: Tx, job_name: str | None = None, now: float | None = None,
                  max_age: float = MAX_HEARTBEAT_AGE) -> dict[str | None, dict]:
    """{job name: job_summary-shaped counts plus ``state``} for every job, in one set-based
    query; for one named job also ``by_type`` (the same counts per task type, as
    task_state_counts gives them). Blocked tasks are counted (through the whole database's
    dependencies) only for jobs with nothing in flight: there they decide the state."""
    out: dict[str | None, dict] = {}
    if job_name is None:
        found = tx.tuples(_JOB_STATE_COUNTS, (stalled_cutoff(max_age, now),))
    else:
        found = tx.tuples(_JOB_TYPE_STATE_COUNTS, (stalled_cutoff(max_age, now), job_name))
    for job, type_name, state, count in found:
        summary = out.setdefault(job, {"total": 0, **empty_counts(), "blocked": 0,
                                       "by_type": defaultdict(empty_counts)})
        summary[state] += int(count)
        summary["total"] += int(count)
        if type_name is not None:
            summary["by_type"][type_name][state] += int(count)
    for summary in out.values():
        summary["by_type"] = dict(summary["by_type"]) if job_name is not None else None
    idle = [job for job, s in out.items()
            if s[WAITING] and not any(s[x] for x in IN_FLIGHT_STATES)]
    if idle:
        blocked = _blocked_by(tx, now, max_age)
        for chunk in chunks(sorted(blocked)):
            sql = "SELECT taskId, jobName FROM eas_task WHERE taskId IN (" + marks(chunk) + ")"  # noqa: S608
            for _, job in tx.tuples(sql, chunk):
                if job in idle:
                    out[job]["blocked"] += 1
    stopped = set(jobs.cancelled(tx))
    for job, summary in out.items():
        summary["state"] = job_state(summary, job in stopped)
    return out
