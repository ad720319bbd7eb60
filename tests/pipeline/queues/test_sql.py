"""The SQL queue (the attempt table): claims by real worker processes on real SQLite never hand
out an attempt twice, never lose one, and never mistake a lost race for an empty queue."""

from __future__ import annotations

import multiprocessing
import time

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.queues.sql import SqlQueue
from plato_eas.worker.worker import Worker

CTX = multiprocessing.get_context("fork")


def _null_chain(n: int, job: str = "bulk", sleep: float | None = None) -> dict:
    task = {"task": "null"} if sleep is None else {"task": "null", "sleep": sleep}
    return {"job_name": job, "task_list": [dict(task, name=f"t{i}") for i in range(n)]}


def _queue_nulls(settings, n: int) -> list[int]:
    """Submit n null tasks, expand the chain, and queue them all; returns their attempt ids."""
    actions.submit(settings, chain=_null_chain(n))
    actions.schedule(settings)
    Worker(settings, task_types=["execution_chain"]).run(until_empty=True)
    with Database(settings) as db:  # queued by the expansion's own transaction
        return db.read(lambda tx: [r[0] for r in tx.tuples(
            "SELECT schedulingAttemptId FROM eas_scheduling_attempt WHERE isQueued = 1 "
            "ORDER BY schedulingAttemptId")])


def _attempt_rows(settings) -> list[dict]:
    with Database(settings) as db:
        return db.read(lambda tx: tx.rows(
            "SELECT a.*, tt.taskTypeName FROM eas_scheduling_attempt a "
            "JOIN eas_task t ON t.taskId = a.taskId "
            "JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"))


def _drain(settings, results) -> None:
    worker = Worker(settings, task_types=["null"])
    results.put((worker.host_id, worker.run(until_empty=True)))


def _claimer(settings, start, results) -> None:
    with Database(settings) as db:
        queue = SqlQueue(db)
        host = db.run(lambda tx: tx.insert("INSERT INTO eas_worker_host (hostname) VALUES ('c')"))
        start.wait()
        claimed, last_start = 0, 0.0
        while True:
            started = time.monotonic()
            if queue.claim(["null"], host) is None:
                break
            claimed, last_start = claimed + 1, started
        results.put((claimed, last_start, time.monotonic()))


def test_two_workers_drain_2000_attempts_none_twice_none_lost(installed):
    attempt_ids = _queue_nulls(installed, 2000)
    assert len(attempt_ids) == 2000
    results = CTX.Queue()
    procs = [CTX.Process(target=_drain, args=(installed, results)) for _ in range(2)]
    for p in procs:
        p.start()
    counts = dict(results.get(timeout=240) for _ in procs)
    for p in procs:
        p.join(30)
    nulls = [a for a in _attempt_rows(installed) if a["taskTypeName"] == "null"]
    # every attempt claimed exactly once: the claims add up, nothing is left or repeated
    assert sum(counts.values()) == 2000 and all(counts.values())
    assert len(nulls) == 2000 and len({a["taskId"] for a in nulls}) == 2000
    assert all(a["isFinished"] and not a["errorFail"] for a in nulls)
    per_host = {h: sum(1 for a in nulls if a["hostId"] == h) for h in counts}
    assert per_host == counts  # each attempt recorded by the worker that claimed it


def test_losing_a_claim_race_is_never_mistaken_for_an_empty_queue(installed):
    _queue_nulls(installed, 1500)
    start, results = CTX.Barrier(4), CTX.Queue()
    procs = [CTX.Process(target=_claimer, args=(installed, start, results)) for _ in range(4)]
    for p in procs:
        p.start()
    answers = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(10)
    assert sum(a[0] for a in answers) == 1500
    # A claim that *started* after someone was told "empty" and still got an attempt would
    # prove that answer spurious (nothing is added meanwhile).
    last_successful_start = max(a[1] for a in answers)
    assert all(empty_at >= last_successful_start for _, _, empty_at in answers)


def test_claims_on_sqlite_take_the_oldest_queued_attempt_first(installed):
    attempt_ids = _queue_nulls(installed, 20)
    with Database(installed) as db:
        queue = SqlQueue(db)
        hosts = [db.run(lambda tx: tx.insert(
            "INSERT INTO eas_worker_host (hostname) VALUES ('h')")) for _ in range(4)]
        claimed = [queue.claim(["null"], host) for host in hosts * 5]
        assert queue.claim(["null"], hosts[0]) is None
    assert claimed == sorted(attempt_ids)
