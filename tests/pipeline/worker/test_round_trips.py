"""One write transaction per attempt on SQLite: the transaction that records an attempt also
claims the worker's next one (read after its COMMIT) — and nothing is lost or run twice
because of it."""

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


def test_the_claimed_attempt_is_read_after_the_commit_that_claimed_it(installed):
    """The recording transaction claims the next attempt; what that attempt needs (its task,
    files, metadata) is read after its COMMIT, in a read transaction: not while the write
    lock, which every other worker waits for, is held."""
    _queue_nulls(installed, 5)
    worker = Worker(installed, task_types=["null"])
    trace: list[str] = []
    worker.db.conn.set_trace_callback(trace.append)
    assert worker.run(until_empty=True) == 5
    writing, loads_in_write, loads_in_read = False, 0, 0
    for sql in trace:
        if sql.startswith("BEGIN IMMEDIATE"):
            writing = True
        elif sql.startswith(("COMMIT", "ROLLBACK")):
            writing = False
        elif "assignedCpus" in sql:  # the first read of load_context
            loads_in_write += writing
            loads_in_read += not writing
    assert (loads_in_write, loads_in_read) == (0, 5)
    assert set(_attempts(installed).values()) == {(0, 0, 1)}


def test_an_attempt_cancelled_between_its_claim_and_its_load_is_not_recorded(installed):
    """A cancel that lands after the transaction that claimed the attempt committed and
    before the worker read it: the attempt stays cancelled (the late result is discarded)."""
    _queue_nulls(installed, 2)
    worker = Worker(installed, task_types=["null"])
    executed = worker.execute
    calls = []

    def cancel_before_the_second(attempt_id, ctx=None, claim_next=False):
        calls.append(attempt_id)
        if len(calls) == 2:  # claimed by the first attempt's recording transaction
            assert actions.cancel(installed, "rt")["running_attempt_ids"] == [attempt_id]
        return executed(attempt_id, ctx, claim_next)

    worker.execute = cancel_before_the_second
    assert worker.run(until_empty=True) == 2
    with Database(installed) as db:
        second = db.read(lambda tx: tx.rows(
            "SELECT isQueued, isRunning, isFinished, endTime, errorText "
            "FROM eas_scheduling_attempt WHERE schedulingAttemptId = ?", (calls[1],)))[0]
    assert (second["isQueued"], second["isRunning"], second["isFinished"]) == (0, 0, 0)
    assert second["endTime"] is not None
    assert "cancelled" in second["errorText"]
