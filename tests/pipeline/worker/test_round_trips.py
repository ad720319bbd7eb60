"""One write transaction per attempt on SQLite: the transaction that records an attempt also
claims (and loads) the worker's next one — and nothing is lost or run twice because of it."""

import signal

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.worker.worker import Worker


def _queue_nulls(settings, n: int) -> None:
    actions.submit(settings, chain={"job_name": "rt", "task_list": [
        {"task": "null", "name": f"t{i}"} for i in range(n)]})
    actions.schedule(settings)
    Worker(settings, task_types=["execution_chain"]).run(until_empty=True)
    actions.schedule(settings)


def _attempts(settings) -> dict[str, tuple]:
    """{null task: (queued, running, finished)} of its one attempt."""
    with Database(settings) as db:
        rows = db.read(lambda tx: tx.tuples(
            "SELECT t.taskName, a.isQueued, a.isRunning, a.isFinished FROM eas_task t "
            "JOIN eas_scheduling_attempt a ON a.taskId = t.taskId "
            "JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId "
            "WHERE tt.taskTypeName = 'null'"))
    return {name: (queued, running, finished) for name, queued, running, finished in rows}


def _write_transactions(worker: Worker) -> list[str]:
    begun: list[str] = []
    worker.db.conn.set_trace_callback(
        lambda sql: begun.append(sql) if sql.startswith("BEGIN IMMEDIATE") else None)
    return begun


def test_each_attempt_costs_one_write_transaction(installed):
    _queue_nulls(installed, 20)
    worker = Worker(installed, task_types=["null"])
    begun = _write_transactions(worker)
    assert worker.run(until_empty=True) == 20
    # a claim on its own at the start, one recording (and claiming) transaction per attempt,
    # and the claim that finds the queue empty; before, a claim and a record each: 41
    assert len(begun) == 22
    assert set(_attempts(installed).values()) == {(0, 0, 1)}


def test_the_last_attempt_a_worker_may_run_claims_nothing_more(installed):
    _queue_nulls(installed, 3)
    assert Worker(installed, task_types=["null"]).run(until_empty=True, max_attempts=2) == 2
    states = sorted(_attempts(installed).values())
    assert states == [(0, 0, 1), (0, 0, 1), (1, 0, 0)]  # the third still queued, not held


def test_a_worker_stopped_with_its_next_attempt_claimed_gives_it_back(installed):
    _queue_nulls(installed, 3)
    worker = Worker(installed, task_types=["null"])
    executed = worker.execute

    def execute_then_stop(attempt_id, ctx=None, claim_next=False):
        done = executed(attempt_id, ctx, claim_next)
        worker.stop(signal.SIGTERM)  # after the record that claimed the next attempt
        return done

    worker.execute = execute_then_stop
    assert worker.run(until_empty=True) == 1
    assert worker.returned and len(worker.returned) == 1
    states = sorted(_attempts(installed).values())
    assert states == [(0, 0, 1), (1, 0, 0), (1, 0, 0)]
    # the returned attempt runs later, once
    assert Worker(installed, task_types=["null"]).run(until_empty=True) == 2
    assert set(_attempts(installed).values()) == {(0, 0, 1)}
