"""The scheduler (SPEC §3.3, §6): set-based passes that sweep stalled attempts, decide on
retries of failed ones (``retries.py``) and queue every ready task, highest priority first.
Nothing of a cancelled job is queued; ``reschedule`` naming the job lifts its cancellation.

A pass is incremental: it checks only the tasks marked for a check (``model/checks.py``:
registered, or something they read has just been produced), so an idle pass costs next to
nothing however large the database. The transaction that records a finished attempt queues the
tasks it made ready itself (:func:`queue_marked`): dependencies run at the speed of completion,
and the periodic pass is the safety net. A full pass (``full``: the daemon's first, then one
every ``FULL_PASS_INTERVAL``, and every ``reschedule``) checks every task.

A pass is one transaction holding the scheduler lock (SQLite: the database write lock taken by
``BEGIN IMMEDIATE``; MySQL: a row lock), so two passes at the same moment run one after the
other and the second sees the first's attempts: no task is ever scheduled twice. Creating an
attempt and queueing it are one step — the attempt row is inserted already queued, and for
AMQP the message is staged in the same transaction — so a crash leaves nothing half-done.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Callable

from ..db import Database, Tx, chunks, marks
from ..defaults import FULL_PASS_INTERVAL, SCHEDULER_INTERVAL
from ..errors import EasError
from ..model import attempts, checks, jobs
from ..model.jobs import NOT_CANCELLED_SQL
from ..model.schema import check_version
from ..queues.base import JobQueue, open_queue
from ..settings import Settings
from ..tasks.registry import load_registry
from . import retries

log = logging.getLogger(__name__)
daemon_log = logging.getLogger("plato_eas.daemon")  # start lines, shown without -v

# §3.3: fully configured; no (blocking) attempt; every file input has a version that passed QC;
# every metadata input task has an attempt with allProductsPassedQc; its job not cancelled.
_READY = """
SELECT t.taskId, t.priority FROM eas_task t {marked}
WHERE t.isFullyConfigured = 1 {job}{only} AND {not_cancelled}
  AND NOT EXISTS (SELECT 1 FROM eas_scheduling_attempt a WHERE a.taskId = t.taskId {blocking})
  AND NOT EXISTS (
    SELECT 1 FROM eas_task_input i WHERE i.taskId = t.taskId
      AND NOT EXISTS (SELECT 1 FROM eas_product_version v
                      WHERE v.productId = i.inputId AND v.passedQc = 1))
  AND NOT EXISTS (
    SELECT 1 FROM eas_task_metadata_input m WHERE m.taskId = t.taskId
      AND NOT EXISTS (SELECT 1 FROM eas_scheduling_attempt s
                      WHERE s.taskId = m.inputId AND s.allProductsPassedQc = 1))
"""

# For `reschedule`: only a successful, queued or running attempt, or a retry still to come,
# blocks a new one.
_RESCHEDULE_BLOCKING = (
    "AND ((a.isFinished = 1 AND a.errorFail = 0) OR a.isQueued = 1 OR a.isRunning = 1"
    " OR (a.retryAt IS NOT NULL AND a.isFinished = 0 AND a.endTime IS NULL))")


def _ready_sql(job_name: str | None, blocking: str, resumed: list[str] | None = None,
               marked: bool = False, only: list[int] | None = None) -> tuple[str, list]:
    """The ready tasks' query (``taskId``, ``priority``) and its parameters; ``resumed``: a
    cancelled job to count as resumed (a check-mode reschedule's preview); ``marked``: among
    the tasks marked for a check only; ``only``: among these task ids only."""
    job = " AND t.jobName = ?" if job_name is not None else ""
    among = f" AND t.taskId IN ({marks(only)})" if only else ""
    sql = _READY.format(job=job, only=among, blocking=blocking,
                        marked=checks.MARKED_JOIN if marked else "",
                        not_cancelled="1 = 1" if resumed else NOT_CANCELLED_SQL)
    return sql, [*([job_name] if job_name is not None else []), *(only or [])]


def _queue_ready(tx: Tx, queue: JobQueue, job_name: str | None, blocking: str,
                 now: float, marked: bool = False) -> list[attempts.Queued]:
    """A queued attempt for every ready task (every marked one, when ``marked``), staged for
    the queue; returns the new attempts. The caller holds the scheduler lock. Without
    ``blocking`` (every attempt blocks), the ready tasks are those without any attempt."""
    ready, params = _ready_sql(job_name, blocking, marked=marked)
    with tx.dialect.bulk(tx):
        new = attempts.create_queued_for(tx, ready, params, now, first=not blocking)
    _stage(tx, queue, new)
    return new


def _queue_checked(tx: Tx, queue: JobQueue, job_name: str | None, now: float,
                   full: bool) -> list[attempts.Queued]:
    """Check the marked tasks (every task, when ``full``), queue the ready ones and clear
    the marks checked. The caller holds the scheduler lock."""
    if job_name is None:
        if not full and not checks.any_marked(tx):
            return []
        new = _queue_ready(tx, queue, None, "", now, marked=not full)
        checks.clear(tx, None)
        return new
    ids = checks.marked(tx, job_name)
    if not full and not ids:
        return []
    new = _queue_ready(tx, queue, job_name, "", now, marked=not full)
    checks.clear(tx, ids)
    return new


# A task queue_marked found waiting for files: the input it most likely waits for longest
# (the last registered of those without a passed version). Per process, a hint only: the
# task is passed over only while that input is still one of its inputs with no passed
# version, which proves it is not ready; otherwise it is checked in full. A fan-in task of
# 1,000 inputs is otherwise checked in full by each of its inputs' attempts, each check
# reading its inputs up to the first one missing: quadratic.
_WAITS_FOR: dict[int, int] = {}
_HINTS = 10_000
_STILL_MISSING = """
SELECT 1 FROM eas_task_input i WHERE i.inputId = ? AND i.taskId = ?
  AND NOT EXISTS (SELECT 1 FROM eas_product_version v
                  WHERE v.productId = i.inputId AND v.passedQc = 1)
"""
_LAST_MISSING = """
SELECT MAX(i.inputId) FROM eas_task_input i WHERE i.taskId = ?
  AND NOT EXISTS (SELECT 1 FROM eas_product_version v
                  WHERE v.productId = i.inputId AND v.passedQc = 1)
"""


def queue_marked(tx: Tx, queue: JobQueue, task_ids: list[int],
                 now: float) -> list[attempts.Queued]:
    """Queue those of ``task_ids`` that are marked and ready now, and clear their marks: the
    transaction that made them ready (a finished attempt's) queues them itself, with no pass
    in between. The caller holds the scheduler lock (marking them took it); returns the new
    attempts, staged for ``queue``."""
    ids = sorted(set(task_ids))
    waiting = {t for t in ids if t in _WAITS_FOR
               and tx.scalar(_STILL_MISSING, (_WAITS_FOR[t], t)) is not None}
    checked = [t for t in ids if t not in waiting]
    new: list[attempts.Queued] = []
    for chunk in chunks(checked):
        ready, params = _ready_sql(None, "", marked=True, only=list(chunk))
        new += attempts.create_queued_for(tx, ready, params, now, first=True)
    checks.clear(tx, ids)
    _remember_waits(tx, checked, {task_id for _, task_id, _ in new})
    _stage(tx, queue, new)
    return new


def _remember_waits(tx: Tx, checked: list[int], queued: set[int]) -> None:
    for task_id in checked:
        missing = None if task_id in queued else tx.scalar(_LAST_MISSING, (task_id,))
        if missing is None:
            _WAITS_FOR.pop(task_id, None)
        elif len(_WAITS_FOR) < _HINTS or task_id in _WAITS_FOR:
            _WAITS_FOR[task_id] = int(missing)


def _stage(tx: Tx, queue: JobQueue, new: list[attempts.Queued]) -> None:
    names = {name for _, _, name in new}
    if len(names) == 1:  # a pass over one task type's tasks (a million, say): no per-row dict
        queue.stage(tx, {names.pop(): [attempt_id for attempt_id, _, _ in new]})
        return
    by_queue: dict[str, list[int]] = {}
    for attempt_id, _, name in new:
        by_queue.setdefault(name, []).append(attempt_id)
    if by_queue:
        queue.stage(tx, by_queue)


def schedule_pass(db: Database, check_mode: bool = False, queue: JobQueue | None = None,
                  job_name: str | None = None, full: bool = False) -> dict:
    """One scheduling pass: sweep stalled attempts, decide on retries, then queue every ready
    task among those marked for a check (``full``: among all tasks). Returns changed,
    task_ids and attempt_ids (new), stalled (attempts failed now), requeued (retries queued
    now), retry_waiting (retries waiting out a backoff), given_up (tasks failed for good)."""
    settings = db.settings
    own_queue = queue is None
    queue = queue or open_queue(db)
    try:
        if check_mode:
            def preview(tx: Tx) -> dict:
                check_version(tx)
                ready, params = _ready_sql(job_name, "", marked=not full)
                ids = [r[0] for r in tx.tuples(ready + " ORDER BY t.taskId", params)]
                stalled = [a for a, _ in attempts.stalled(tx, settings.max_heartbeat_age)]
                return {"changed": bool(ids or stalled), "task_ids": ids, "attempt_ids": [],
                        "stalled": stalled, "requeued": [], "retry_waiting": [],
                        "given_up": []}
            return db.read(preview)

        def unit(tx: Tx) -> dict:
            check_version(tx)
            tx.dialect.lock_scheduler(tx)  # before the sweep: one pass re-queues a stall once
            now = time.time()
            stalled = attempts.fail_stalled(tx, settings.max_heartbeat_age, now)
            decided = retries.decide(tx, lambda: load_registry(settings), settings.retry_limit,
                                     now)
            _stage(tx, queue, decided.queued)
            new = _queue_checked(tx, queue, job_name, now, full)
            return {"changed": bool(new or stalled or decided.queued or decided.waiting
                                    or decided.given_up),
                    "task_ids": [task_id for _, task_id, _ in new],
                    "attempt_ids": [attempt_id for attempt_id, _, _ in new],
                    "stalled": [a for a, _ in stalled],
                    "requeued": [attempt_id for attempt_id, _, _ in decided.queued],
                    "retry_waiting": decided.waiting, "given_up": decided.given_up}

        result = db.run(unit)
        queue.publish()
        return result
    finally:
        if own_queue:
            queue.close()


def reschedule_unfinished(db: Database, job_name: str | None = None,
                          check_mode: bool = False) -> dict:
    """Queue a fresh attempt for every ready task without a successful, queued or running
    attempt (failed, cancelled and emptied-out tasks get another go). Naming a cancelled job
    lifts its cancellation; without a name, cancelled jobs are left alone (``skipped``)."""
    queue = open_queue(db)
    try:
        if check_mode:
            def preview(tx: Tx) -> dict:
                check_version(tx)
                resumed, skipped = _resumed(tx, job_name)
                ready, params = _ready_sql(job_name, _RESCHEDULE_BLOCKING, resumed)
                ids = [r[0] for r in tx.tuples(ready + " ORDER BY t.taskId", params)]
                return {"changed": bool(ids or resumed), "task_ids": ids, "attempt_ids": [],
                        "resumed": resumed, "skipped": skipped}
            return db.read(preview)

        def unit(tx: Tx) -> tuple[list[attempts.Queued], list[str], list[str]]:
            check_version(tx)
            tx.dialect.lock_scheduler(tx)
            resumed, skipped = _resumed(tx, job_name)
            jobs.resume(tx, resumed)
            new = _queue_ready(tx, queue, job_name, _RESCHEDULE_BLOCKING, time.time())
            return new, resumed, skipped

        new, resumed, skipped = db.run(unit)
        queue.publish()
        return {"changed": bool(new or resumed),
                "task_ids": [task_id for _, task_id, _ in new],
                "attempt_ids": [attempt_id for attempt_id, _, _ in new],
                "resumed": resumed, "skipped": skipped}
    finally:
        queue.close()


def _resumed(tx: Tx, job_name: str | None) -> tuple[list[str], list[str]]:
    """(cancelled jobs a reschedule of ``job_name`` resumes, cancelled jobs it leaves)."""
    cancelled = jobs.cancelled(tx)
    if job_name is None:
        return [], cancelled
    return [j for j in cancelled if j == job_name], []


def run_forever(db: Database, interval: float = SCHEDULER_INTERVAL,
                stop: Callable[[], bool] = lambda: False,
                full_interval: float = FULL_PASS_INTERVAL) -> None:
    """A pass every ``interval`` seconds (sooner while work keeps arriving) until ``stop()``,
    a full one first and every ``full_interval`` seconds (the safety net under the marks);
    database or broker outages are logged and retried, never fatal."""
    queue = open_queue(db, daemon=True)
    delay = interval
    next_full = time.monotonic()
    while not stop():
        try:
            full = time.monotonic() >= next_full
            result = schedule_pass(db, queue=queue, full=full)
            if full:
                next_full = time.monotonic() + full_interval
            if result["attempt_ids"] or result["stalled"]:
                log.info("queued %d attempt(s), %d stalled", len(result["attempt_ids"]),
                         len(result["stalled"]))
            delay = min(interval, 0.2) if result["attempt_ids"] else interval
        except EasError as exc:
            log.error("scheduling pass failed: %s", exc)
            delay = min(delay * 2, 60.0)
        deadline = time.monotonic() + delay
        while not stop() and time.monotonic() < deadline:
            time.sleep(min(0.1, delay))


def serve(settings: Settings, interval: float = SCHEDULER_INTERVAL) -> None:
    """The scheduler daemon (``eas scheduler``): passes until SIGTERM, then a clean exit."""
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    daemon_log.info("scheduler started: %s, a pass every %g s, pid %d", settings.where(),
                    interval, os.getpid())
    with Database(settings) as db:
        run_forever(db, interval=interval, stop=lambda: bool(stopping))
