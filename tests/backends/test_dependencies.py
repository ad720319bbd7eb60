"""Dependencies at the speed of completion, on every combination of database engine and
queue (``backend``): the transaction that records a finished attempt queues the tasks it
made ready, with no scheduling pass in between; the periodic pass still queues what that
path did not (marks left by other transactions), and a full pass what nothing marked."""

from __future__ import annotations

import threading
import time

import pytest
from backend_helpers import init

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.model import attempts, checks
from plato_eas.queues.base import open_queue
from plato_eas.scheduling.scheduler import schedule_pass
from plato_eas.worker.worker import Worker

CHAIN = {"job_name": "deps", "working_directory": "deps", "task_list": [
    {"task": "null", "name": "producer", "outputs": {"lightcurve": "first.lc"}},
    {"task": "null", "name": "reader", "inputs": {"lightcurve": "first.lc"}},
    {"task": "null", "name": "follower", "requires_metadata_from": ["producer"]},
    {"task": "null", "name": "last", "requires_metadata_from": ["reader", "follower"]},
]}


@pytest.fixture
def installed(backend):
    init(backend)
    return backend


def _by_name(settings) -> dict[str, list[tuple]]:
    """{task name: [(attempt id, queued, running, finished)]} of the job's null tasks."""
    with Database(settings) as db:
        rows = db.read(lambda tx: tx.tuples(
            "SELECT t.taskName, a.schedulingAttemptId, a.isQueued, a.isRunning, a.isFinished"
            " FROM eas_task t JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
            " LEFT JOIN eas_scheduling_attempt a ON a.taskId = t.taskId"
            " WHERE tt.taskTypeName = 'null' ORDER BY t.taskId, a.schedulingAttemptId"))
    out: dict[str, list[tuple]] = {}
    for name, *attempt in rows:
        out.setdefault(name, [])
        if attempt[0] is not None:
            out[name].append(tuple(int(x) for x in attempt))
    return out


def _depth(settings, name: str = "null") -> int:
    with Database(settings) as db:
        queue = open_queue(db)
        try:
            return queue.depths([name], show_ids=0)[name]["messages"]
        finally:
            queue.close()


def _expanded(settings) -> None:
    """The chain submitted, its root queued by one pass and expanded by a worker, and the
    producer (the one child without inputs) queued by that expansion's own transaction:
    the next pass finds nothing to do."""
    actions.submit(settings, chain=CHAIN)
    assert schedule_pass_count(settings) == 1
    Worker(settings, task_types=["execution_chain"]).run(until_empty=True)
    assert schedule_pass_count(settings) == 0


def schedule_pass_count(settings) -> int:
    with Database(settings) as db:
        return len(schedule_pass(db)["attempt_ids"])


def test_the_finishing_transaction_queues_what_it_made_ready(installed):
    _expanded(installed)
    tasks = _by_name(installed)
    assert [len(tasks[n]) for n in ("producer", "reader", "follower", "last")] == [1, 0, 0, 0]
    assert _depth(installed) == 1
    # One attempt run, no pass: its recording queued the file reader and the metadata reader.
    assert Worker(installed, task_types=["null"]).run(until_empty=True, max_attempts=1) == 1
    tasks = _by_name(installed)
    assert tasks["producer"][0][3] == 1
    assert [a[1] for a in tasks["reader"] + tasks["follower"]] == [1, 1]  # queued
    assert tasks["last"] == []
    assert _depth(installed) == 2
    # The fan-in waits for both, and is queued by the second finish alone.
    assert Worker(installed, task_types=["null"]).run(until_empty=True, max_attempts=1) == 1
    assert _by_name(installed)["last"] == []
    assert Worker(installed, task_types=["null"]).run(until_empty=True, max_attempts=1) == 1
    assert [a[1] for a in _by_name(installed)["last"]] == [1]
    assert Worker(installed, task_types=["null"]).run(until_empty=True) == 1
    tasks = _by_name(installed)
    assert all(len(v) == 1 and v[0][3] == 1 for v in tasks.values()), tasks
    assert schedule_pass_count(installed) == 0  # nothing was left for the pass


def test_the_periodic_pass_queues_what_the_finishing_transaction_did_not(installed):
    _expanded(installed)
    producer = _by_name(installed)["producer"][0][0]
    # Finish the producer's attempt the way any other transaction might (not the worker's
    # recording): its readers are marked for a check, and nothing queues them yet.
    with Database(installed) as db:
        host = db.run(lambda tx: tx.insert(
            "INSERT INTO eas_worker_host (hostname) VALUES ('elsewhere')"))

        def unit(tx) -> None:
            assert attempts.take(tx, producer, host, time.time())
            assert attempts.finish(tx, producer, True, None, 0.0, 0.0, 0.0, time.time())
        db.run(unit)
    tasks = _by_name(installed)
    assert tasks["reader"] == [] and tasks["follower"] == []
    depth = _depth(installed)  # (the broker still holds the producer's message: not ours)
    assert schedule_pass_count(installed) == 1  # the follower (the reader's file is missing)
    assert [a[1] for a in _by_name(installed)["follower"]] == [1]
    assert _by_name(installed)["reader"] == []
    assert _depth(installed) == depth + 1
    assert schedule_pass_count(installed) == 0


def test_a_full_pass_queues_what_nothing_marked(installed):
    _expanded(installed)
    assert Worker(installed, task_types=["null"]).run(until_empty=True, max_attempts=1) == 1
    with Database(installed) as db:
        # A ready task written behind plato_eas's back (say, by the prototype's tools).
        db.run(lambda tx: tx.execute(
            "INSERT INTO eas_task (createdTime, isFullyConfigured, taskTypeId, jobName,"
            " taskName, workingDirectory) SELECT ?, 1, taskTypeId, 'deps', 'unmarked', 'w'"
            " FROM eas_task_types WHERE taskTypeName = 'null'", (time.time(),)))
        assert schedule_pass(db)["attempt_ids"] == []
        assert len(schedule_pass(db, full=True)["attempt_ids"]) == 1
    assert len(_by_name(installed)["unmarked"]) == 1


def test_a_reader_registered_while_its_producer_finishes_is_never_left_waiting(installed):
    """Two transactions side by side: one records the producer's attempt and its file (no
    reader of it exists yet), the other registers a reader of that file and checks it before
    the first commits. The reader must end up queued, not waiting for a mark nobody writes."""
    actions.submit(installed, chain={"job_name": "deps", "task_list": [
        {"task": "null", "name": "producer", "outputs": {"lightcurve": "first.lc"}}]})
    schedule_pass_count(installed)
    Worker(installed, task_types=["execution_chain"]).run(until_empty=True)
    producer = _by_name(installed)["producer"][0][0]
    with Database(installed) as db:
        host = db.run(lambda tx: tx.insert(
            "INSERT INTO eas_worker_host (hostname) VALUES ('elsewhere')"))
        db.run(lambda tx: attempts.take(tx, producer, host, time.time()))
        product, semantic = db.read(lambda tx: tx.tuples(
            "SELECT p.productId, p.semanticType FROM eas_product p JOIN eas_scheduling_attempt a"
            " ON a.taskId = p.generatorTask WHERE a.schedulingAttemptId = ?", (producer,))[0])
    finishing, registered = threading.Event(), threading.Event()

    def finish() -> None:
        def unit(tx) -> None:
            assert attempts.finish(tx, producer, True, None, 0.0, 0.0, 0.0, time.time())
            tx.execute("INSERT INTO eas_product_version (productId, generatedByTaskExecution,"
                       " repositoryId, createdTime, modifiedTime, fileMD5, fileSize, passedQc)"
                       " VALUES (?, ?, 'r1', 0, 0, 'x', 1, 1)", (product, producer))
            finishing.set()
            registered.wait(3)  # the reader is registered and checked meanwhile (or waits)
        with Database(installed) as db:
            db.run(unit)

    def register() -> None:
        def unit(tx) -> None:
            reader = tx.insert(
                "INSERT INTO eas_task (createdTime, isFullyConfigured, taskTypeId, jobName,"
                " taskName, workingDirectory) SELECT ?, 1, taskTypeId, 'deps', 'late', 'w'"
                " FROM eas_task_types WHERE taskTypeName = 'null'", (time.time(),))
            tx.execute("INSERT INTO eas_task_input (taskId, inputId, semanticType)"
                       " VALUES (?, ?, ?)", (reader, product, semantic))
            checks.mark(tx, [reader])
        with Database(installed) as db:
            db.run(unit)
            schedule_pass(db)  # checks the reader's mark
        registered.set()

    first = threading.Thread(target=finish)
    first.start()
    assert finishing.wait(30)
    second = threading.Thread(target=register)
    second.start()
    first.join(60)
    second.join(60)
    schedule_pass_count(installed)
    assert [a[1] for a in _by_name(installed)["late"]] == [1]  # queued
