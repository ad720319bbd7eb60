"""The scheduler: concurrent passes, attempt creation, and the stalled-attempt sweep with its
retry limit, with real processes on real SQLite."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.queues.sql import SqlQueue
from plato_eas.scheduling.scheduler import schedule_pass
from plato_eas.worker import record
from plato_eas.worker.worker import Worker

CTX = multiprocessing.get_context("fork")


def _null_chain(n: int, job: str = "bulk", sleep: float | None = None) -> dict:
    task = {"task": "null"} if sleep is None else {"task": "null", "sleep": sleep}
    return {"job_name": job, "task_list": [dict(task, name=f"t{i}") for i in range(n)]}


def _attempt_rows(settings) -> list[dict]:
    with Database(settings) as db:
        return db.read(lambda tx: tx.rows(
            "SELECT a.*, tt.taskTypeName FROM eas_scheduling_attempt a "
            "JOIN eas_task t ON t.taskId = a.taskId "
            "JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"))


def _one_pass(settings, start, results) -> None:
    with Database(settings) as db:
        start.wait()
        results.put(schedule_pass(db)["attempt_ids"])


def _serve_in_own_group(settings) -> None:
    os.setsid()
    Worker(settings, task_types=["null"]).run()


def _wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_two_simultaneous_scheduler_passes_never_schedule_a_task_twice(installed, monkeypatch):
    actions.submit(installed, chain=_null_chain(3000))
    actions.schedule(installed)
    # the expansion registers and marks the 3,000 children but leaves them to the passes
    # (as it did before it queued them itself)
    monkeypatch.setattr(record, "queue_marked", lambda tx, queue, task_ids, now: [])
    Worker(installed, task_types=["execution_chain"]).run(until_empty=True)
    monkeypatch.undo()
    start, results = CTX.Barrier(2), CTX.Queue()
    procs = [CTX.Process(target=_one_pass, args=(installed, start, results)) for _ in range(2)]
    for p in procs:
        p.start()
    first, second = results.get(timeout=60), results.get(timeout=60)
    for p in procs:
        p.join(10)
    assert not set(first) & set(second)
    assert len(first) + len(second) == 3000
    nulls = [a for a in _attempt_rows(installed) if a["taskTypeName"] == "null"]
    assert len(nulls) == len({a["taskId"] for a in nulls}) == 3000


def test_attempt_creation_and_queueing_are_one_step(installed, monkeypatch):
    actions.submit(installed, chain=_null_chain(5))
    before = len(_attempt_rows(installed))

    def crash(self, tx, attempts):
        raise RuntimeError("scheduler died between creating and queueing")

    monkeypatch.setattr(SqlQueue, "stage", crash)
    with pytest.raises(RuntimeError):
        actions.schedule(installed)
    assert len(_attempt_rows(installed)) == before  # nothing half-done
    monkeypatch.undo()
    assert len(actions.schedule(installed)["attempt_ids"]) == 1


def test_killed_worker_leaves_a_stalled_attempt_that_is_requeued_and_completed(installed):
    fast = installed.replace(max_heartbeat_age=1.0)
    actions.submit(fast, chain=_null_chain(1, sleep=2.0))
    actions.schedule(fast)
    Worker(fast, task_types=["execution_chain"]).run(until_empty=True)
    actions.schedule(fast)
    victim = CTX.Process(target=_serve_in_own_group, args=(fast,))
    victim.start()
    _wait_for(lambda: any(a["isRunning"] for a in _attempt_rows(fast)))
    os.killpg(victim.pid, signal.SIGKILL)  # the worker and its task runner, mid-task
    victim.join(10)
    time.sleep(1.2)
    swept = actions.schedule(fast)
    assert len(swept["stalled"]) == 1 and len(swept["requeued"]) == 1
    assert Worker(fast, task_types=["null"]).run(until_empty=True) == 1
    nulls = [a for a in _attempt_rows(fast) if a["taskTypeName"] == "null"]
    assert [(a["errorFail"], a["isFinished"]) for a in nulls] == [(1, 1), (0, 1)]
    assert "stalled" in nulls[0]["errorText"]


def test_stalled_retries_stop_at_the_retry_limit(installed):
    fast = installed.replace(max_heartbeat_age=0.5, retry_limit=1)
    actions.submit(fast, chain=_null_chain(1))
    actions.schedule(fast)
    Worker(fast, task_types=["execution_chain"]).run(until_empty=True)
    actions.schedule(fast)
    with Database(fast) as db:
        queue = SqlQueue(db)
        for expected in ("requeued", "given_up"):
            assert queue.claim(["null"], 1) is not None  # claimed, then never heard of again
            time.sleep(0.6)
            result = schedule_pass(db)
            assert len(result[expected]) == 1, result
