"""The prototype's failure modes, shown impossible here with real processes on real SQLite."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from plato_eas import actions
from plato_eas.chains import register
from plato_eas.db import Database
from plato_eas.queues.sql import SqlQueue
from plato_eas.scheduler import schedule_pass
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
    return actions.schedule(settings)["attempt_ids"]


def _attempt_rows(settings) -> list[dict]:
    with Database(settings) as db:
        return db.read(lambda tx: tx.rows(
            "SELECT a.*, tt.taskTypeName FROM eas_scheduling_attempt a "
            "JOIN eas_task t ON t.taskId = a.taskId "
            "JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"))


def _drain(settings, results) -> None:
    worker = Worker(settings, task_types=["null"])
    results.put((worker.host_id, worker.run(until_empty=True)))


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


def _one_pass(settings, start, results) -> None:
    with Database(settings) as db:
        start.wait()
        results.put(schedule_pass(db)["attempt_ids"])


def test_two_simultaneous_scheduler_passes_never_schedule_a_task_twice(installed):
    actions.submit(installed, chain=_null_chain(3000))
    actions.schedule(installed)
    Worker(installed, task_types=["execution_chain"]).run(until_empty=True)
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


def _serve_in_own_group(settings) -> None:
    os.setsid()
    Worker(settings, task_types=["null"]).run()


def _wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


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


def _expand_and_die(settings) -> None:
    real = register.register_children

    def half_then_die(tx, parent, specs):
        real(tx, parent, specs[: len(specs) // 2])
        os._exit(9)  # the worker dies in the middle of writing the children

    import plato_eas.worker.record as record

    record.register_children = half_then_die
    Worker(settings, task_types=["execution_chain"]).run(until_empty=True)


def test_control_flow_rerun_after_death_mid_expansion_neither_fails_nor_duplicates(installed):
    fast = installed.replace(max_heartbeat_age=0.5)
    chain = {"job_name": "files", "task_list": [
        {"task": "null", "name": f"p{i}", "outputs": {"lightcurve": f"f{i}.lc"}}
        for i in range(10)]}
    actions.submit(fast, chain=chain)
    actions.schedule(fast)
    victim = CTX.Process(target=_expand_and_die, args=(fast,))
    victim.start()
    victim.join(30)
    assert victim.exitcode == 9
    time.sleep(0.6)
    assert len(actions.schedule(fast)["requeued"]) == 1
    Worker(fast, task_types=["execution_chain"]).run(until_empty=True)
    rows = _attempt_rows(fast)
    assert [(a["errorFail"], a["isFinished"]) for a in rows] == [(1, 1), (0, 1)]
    with Database(fast) as db:
        assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_task")) == 11
        assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_product")) == 10
    # and running the finished expansion once more (an operator's reschedule) adds nothing
    with Database(fast) as db:
        db.run(lambda tx: tx.execute(
            "INSERT INTO eas_scheduling_attempt (taskId, queuedTime, isQueued) VALUES (1, 0, 1)"))
    Worker(fast, task_types=["execution_chain"]).run(until_empty=True)
    with Database(fast) as db:
        assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_task")) == 11
