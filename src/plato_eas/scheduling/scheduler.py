"""The scheduler (SPEC §3.3, §6): set-based passes that queue every ready task, and the
stalled-attempt sweep with its retry limit.

A pass is one transaction holding the scheduler lock (SQLite: the database write lock taken by
``BEGIN IMMEDIATE``; MySQL: a row lock), so two passes at the same moment run one after the
other and the second sees the first's attempts: no task is ever scheduled twice. Creating an
attempt and queueing it are one step — the attempt row is inserted already queued, and for
AMQP the message is staged in the same transaction — so a crash leaves nothing half-done.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Callable

from ..db import Database, Tx
from ..defaults import SCHEDULER_INTERVAL
from ..errors import EasError
from ..model import attempts
from ..model.schema import check_version
from ..queues.base import JobQueue, open_queue
from ..settings import Settings

log = logging.getLogger(__name__)

# §3.3: fully configured; no (blocking) attempt; every file input has a version that passed QC;
# every metadata input task has an attempt with allProductsPassedQc.
_READY = """
SELECT t.taskId FROM eas_task t
WHERE t.isFullyConfigured = 1 {job}
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

# For `reschedule`: only a successful, queued or running attempt blocks a new one.
_RESCHEDULE_BLOCKING = (
    "AND ((a.isFinished = 1 AND a.errorFail = 0) OR a.isQueued = 1 OR a.isRunning = 1)")


def _ready_sql(job_name: str | None, blocking: str) -> tuple[str, list]:
    job = "AND t.jobName = ?" if job_name is not None else ""
    return _READY.format(job=job, blocking=blocking), ([job_name] if job_name is not None else [])


def _queue_ready(tx: Tx, queue: JobQueue, job_name: str | None, blocking: str,
                 now: float) -> list[dict]:
    """A queued attempt for every ready task, staged for the queue; returns the new
    attempts. The caller holds the scheduler lock."""
    ready, params = _ready_sql(job_name, blocking)
    new = attempts.create_queued_for(tx, ready, params, now)
    _stage(tx, queue, new)
    return new


def _stage(tx: Tx, queue: JobQueue, new: list[dict]) -> None:
    by_queue: dict[str, list[int]] = {}
    for a in new:
        by_queue.setdefault(a["taskTypeName"], []).append(a["schedulingAttemptId"])
    if by_queue:
        queue.stage(tx, by_queue)


def _sweep_stalled(tx: Tx, queue: JobQueue, max_age: float, retry_limit: int,
                   now: float) -> tuple[list[int], list[int], list[int]]:
    """Fail the stalled attempts; re-queue each task whose failed-attempt count is still
    within ``retry_limit``. Returns (stalled attempts, re-queued new attempts, tasks given up
    on)."""
    stalled = attempts.fail_stalled(tx, max_age, now)
    if not stalled:
        return [], [], []
    new, given_up = attempts.retry(tx, [task for _, task in stalled], retry_limit, now)
    _stage(tx, queue, new)
    return [a for a, _ in stalled], [a["schedulingAttemptId"] for a in new], given_up


def schedule_pass(db: Database, check_mode: bool = False, queue: JobQueue | None = None,
                  job_name: str | None = None) -> dict:
    """One scheduling pass: sweep stalled attempts, then queue every ready task."""
    settings = db.settings
    own_queue = queue is None
    queue = queue or open_queue(db)
    try:
        if check_mode:
            def preview(tx: Tx) -> dict:
                check_version(tx)
                ready, params = _ready_sql(job_name, "")
                ids = [r[0] for r in tx.tuples(ready + " ORDER BY t.taskId", params)]
                stalled = [a for a, _ in attempts.stalled(tx, settings.max_heartbeat_age)]
                return {"changed": bool(ids or stalled), "task_ids": ids, "attempt_ids": [],
                        "stalled": stalled, "requeued": [], "given_up": []}
            return db.read(preview)

        def unit(tx: Tx) -> dict:
            check_version(tx)
            tx.dialect.lock_scheduler(tx)  # before the sweep: one pass re-queues a stall once
            now = time.time()
            stalled, requeued, given_up = _sweep_stalled(
                tx, queue, settings.max_heartbeat_age, settings.retry_limit, now)
            new = _queue_ready(tx, queue, job_name, "", now)
            return {"changed": bool(new or stalled), "task_ids": [a["taskId"] for a in new],
                    "attempt_ids": [a["schedulingAttemptId"] for a in new],
                    "stalled": stalled, "requeued": requeued, "given_up": given_up}

        result = db.run(unit)
        queue.publish()
        return result
    finally:
        if own_queue:
            queue.close()


def reschedule_unfinished(db: Database, job_name: str | None = None,
                          check_mode: bool = False) -> dict:
    """Queue a fresh attempt for every ready task without a successful, queued or running
    attempt (failed and emptied-out tasks get another go)."""
    queue = open_queue(db)
    try:
        if check_mode:
            def preview(tx: Tx) -> dict:
                ready, params = _ready_sql(job_name, _RESCHEDULE_BLOCKING)
                ids = [r[0] for r in tx.tuples(ready + " ORDER BY t.taskId", params)]
                return {"changed": bool(ids), "task_ids": ids, "attempt_ids": []}
            return db.read(preview)

        def unit(tx: Tx) -> list[dict]:
            check_version(tx)
            tx.dialect.lock_scheduler(tx)
            return _queue_ready(tx, queue, job_name, _RESCHEDULE_BLOCKING, time.time())

        new = db.run(unit)
        queue.publish()
        return {"changed": bool(new), "task_ids": [a["taskId"] for a in new],
                "attempt_ids": [a["schedulingAttemptId"] for a in new]}
    finally:
        queue.close()


def run_forever(db: Database, interval: float = SCHEDULER_INTERVAL,
                stop: Callable[[], bool] = lambda: False) -> None:
    """A pass every ``interval`` seconds (sooner while work keeps arriving) until ``stop()``;
    database or broker outages are logged and retried, never fatal."""
    queue = open_queue(db, daemon=True)
    delay = interval
    while not stop():
        try:
            result = schedule_pass(db, queue=queue)
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
    with Database(settings) as db:
        run_forever(db, interval=interval, stop=lambda: bool(stopping))
