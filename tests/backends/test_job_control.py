"""Cancel (queued attempts and a running one with a real worker) and priorities on every
combination of database engine and queue (``backend``: sqlite-sql, mysql-sql, mysql-amqp,
sqlite-amqp), and RabbitMQ queues declared before priorities."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess

import pytest
from backend_helpers import add_null_tasks, amqp_options, init, mysql_settings_for, new_host
from pipeline.pipeline_helpers import alive, started_attempts, wait_for

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.queues.amqp import QUEUE_ARGUMENTS, AmqpQueue
from plato_eas.queues.base import open_queue
from plato_eas.tasks.api import implementations
from plato_eas.tasks.testing import null_task
from plato_eas.worker.worker import Worker

CTX = multiprocessing.get_context("fork")

GRID = 5_000


@pytest.fixture
def installed(backend):
    init(backend)
    return backend


def _null_chain(job: str, count: int) -> dict:
    return {"job_name": job, "task_list": [{"task": "null", "name": f"t{i}"}
                                           for i in range(count)]}


def _grid(job: str, count: int) -> dict:
    return {"job_name": job, "task_list": [{
        "task": "execution_for_loop", "parameter": "i", "linear_range": [0, 1, count],
        "task_list": [{"task": "null"}]}]}


def _queued(settings, job: str) -> list[int]:
    with Database(settings) as db:
        return [r[0] for r in db.read(lambda tx: tx.tuples(
            "SELECT a.schedulingAttemptId FROM eas_scheduling_attempt a JOIN eas_task t"
            " ON t.taskId = a.taskId WHERE t.jobName = ? AND a.isQueued = 1"
            " ORDER BY a.schedulingAttemptId", (job,)))]


def _depth(settings, name: str) -> int:
    with Database(settings) as db:
        queue = open_queue(db)
        try:
            return queue.depths([name], show_ids=0)[name]["messages"]
        finally:
            queue.close()


def _claim(settings, count: int) -> list[int]:
    """``count`` claims of null attempts by one claimer, each acknowledged at once."""
    host = new_host(settings)
    out = []
    with Database(settings) as db:
        queue = open_queue(db)
        try:
            for _ in range(count):
                attempt = queue.claim(["null"], host)
                out.append(attempt)
                if attempt is not None:
                    queue.done(attempt)
        finally:
            queue.close()
    return out


def test_cancel_takes_only_that_jobs_attempts_off_the_queue(installed):
    victim = add_null_tasks(installed, 20, job_name="victim")
    bystander = add_null_tasks(installed, 15, job_name="bystander")
    assert len(actions.schedule(installed)["attempt_ids"]) == 35
    assert _depth(installed, "null") == 35
    host = new_host(installed)
    with Database(installed) as db:
        queue = open_queue(db)
        try:
            running = queue.claim(["null"], host)  # the oldest: a victim attempt
        finally:
            queue.close()
    result = actions.cancel(installed, "victim")
    assert result["running_attempt_ids"] == [running]
    assert len(result["queued_attempt_ids"]) == 19
    assert _depth(installed, "null") == 15  # the broker too holds the bystander's only
    assert len(_queued(installed, "bystander")) == 15
    assert actions.schedule(installed)["attempt_ids"] == []
    done = Worker(installed, task_types=["null"]).run(until_empty=True)
    assert done == 15
    rows = actions.report(installed, "jobs")["rows"]
    states = {r["job_name"]: (r["state"], r["done"], r["cancelled"]) for r in rows}
    assert states == {"victim": ("cancelled", 0, 20), "bystander": ("finished", 15, 0)}
    assert len(victim) == 20 and len(bystander) == 15

    resumed = actions.reschedule(installed, job_name="victim")
    assert resumed["resumed"] == ["victim"] and len(resumed["attempt_ids"]) == 20
    assert Worker(installed, task_types=["null"]).run(until_empty=True) == 20


def _null_rows(settings, job: str) -> list[dict]:
    with Database(settings) as db:
        return db.read(lambda tx: tx.rows(
            "SELECT a.isQueued, a.isRunning, a.isFinished, a.errorFail, a.errorText"
            " FROM eas_scheduling_attempt a JOIN eas_task t ON t.taskId = a.taskId"
            " JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
            " WHERE t.jobName = ? AND tt.taskTypeName = 'null'"
            " ORDER BY a.schedulingAttemptId", (job,)))


def _serve_null(settings) -> None:
    Worker(settings, task_types=["null"]).run()


def test_cancel_stops_a_running_attempt_of_a_real_worker(installed, monkeypatch, tmp_path):
    """The worker (its own process, as ``eas worker``) notices the cancel, kills the task and
    what it started, records nothing of it, and goes on with another job's attempt."""
    pid_file = tmp_path / "sleeper.pid"

    def hangs(run):
        if run.description.get("name") == "long":
            sleeper = subprocess.Popen(["sleep", "300"])  # noqa: S607 - a test helper
            pid_file.write_text(f"{sleeper.pid}\n")
        return null_task(run)

    monkeypatch.setitem(implementations(), "null", hangs)
    queued_job(installed, {"job_name": "victim", "task_list": [
        {"task": "null", "name": "long", "sleep": 120}]})
    worker = CTX.Process(target=_serve_null, args=(installed,))
    worker.start()
    try:
        assert wait_for(pid_file.exists, 30), "the task never started"
        sleeper = int(pid_file.read_text())
        result = actions.cancel(installed, "victim")
        assert len(result["running_attempt_ids"]) == 1
        assert wait_for(lambda: not alive(sleeper), 15), "the task outlived the cancel"
        queued_job(installed, {"job_name": "next", "task_list": [
            {"task": "null", "name": "after"}]})
        assert wait_for(lambda: [r["isFinished"] for r in _null_rows(installed, "next")]
                         == [1], 30), "the worker did not go on"
        assert worker.is_alive()
    finally:
        os.kill(worker.pid, signal.SIGTERM)
        worker.join(30)
    (row,) = _null_rows(installed, "victim")
    assert (row["isQueued"], row["isRunning"], row["isFinished"], row["errorFail"]) == \
        (0, 0, 0, 0)
    assert row["errorText"] == "cancelled: job 'victim' was cancelled"
    states = {r["job_name"]: r["state"] for r in actions.report(installed, "jobs")["rows"]}
    assert states == {"victim": "cancelled", "next": "finished"}


def test_empty_queue_of_one_job_keeps_the_others_messages(installed):
    add_null_tasks(installed, 10, job_name="mine")
    add_null_tasks(installed, 7, job_name="theirs")
    actions.schedule(installed)
    emptied = actions.empty_queue(installed, job_name="mine")
    assert len(emptied["attempt_ids"]) == 10
    assert _depth(installed, "null") == 7
    assert sorted(a for a in _claim(installed, 8) if a) == _queued_before(installed, "theirs")


def _queued_before(settings, job: str) -> list[int]:
    with Database(settings) as db:
        return [r[0] for r in db.read(lambda tx: tx.tuples(
            "SELECT a.schedulingAttemptId FROM eas_scheduling_attempt a JOIN eas_task t"
            " ON t.taskId = a.taskId WHERE t.jobName = ? ORDER BY a.schedulingAttemptId",
            (job,)))]


def test_higher_priority_first_and_equal_priorities_in_order(installed):
    low = queued_job(installed, _null_chain("low", 30))
    high = queued_job(installed, {**_null_chain("high", 10), "priority": 4})
    claimed = _claim(installed, 41)
    assert claimed[-1] is None
    assert set(claimed[:10]) == set(high)
    rest = claimed[10:40]
    assert set(rest) == set(low)
    if installed.db_engine == "mysql" and installed.queue_implementation == "sql":
        # claimers spread over a window of the 8 first queued: each claim takes one of them
        left = list(low)
        for attempt in rest:
            assert attempt in left[:8]
            left.remove(attempt)
    else:
        assert rest == low and claimed[:10] == high


def queued_job(settings, chain: dict) -> list[int]:
    actions.submit(settings, chain=chain)
    for _ in range(2):
        actions.schedule(settings)
        Worker(settings, task_types=["execution_chain"]).run(until_empty=True)
    actions.schedule(settings)
    return _queued(settings, chain["job_name"])



def test_a_small_urgent_job_submitted_after_a_large_grid_runs_next(installed):
    """The SQL claim takes the urgent job's attempts before any other, whatever queues a
    worker serves. RabbitMQ orders by priority within each queue (a worker serving several
    takes from each in turn): there a worker of each queue takes the urgent job's attempts
    before the grid's."""
    control = ["execution_chain", "execution_for_loop"]
    actions.submit(installed, chain=_grid("grid", GRID))
    for _ in ("root", "loop"):
        actions.schedule(installed)
        assert Worker(installed, task_types=control).run(until_empty=True,
                                                         max_attempts=1) == 1
    actions.schedule(installed)
    assert len(_queued(installed, "grid")) == GRID
    assert Worker(installed).run(until_empty=True, max_attempts=30) == 30  # under way
    actions.schedule(installed)
    assert _queued(installed, "grid")  # grid chains and grid nulls wait in both queues

    actions.submit(installed, chain=_null_chain("urgent", 3), priority=5)
    sql = installed.queue_implementation == "sql"
    for count, serves in ((1, ["execution_chain"]), (3, ["null"])):  # its chain, its tasks
        actions.schedule(installed)
        worker = Worker(installed, task_types=None if sql else serves)
        assert worker.run(until_empty=True, max_attempts=count) == count
    urgent = started_attempts(installed, "urgent")
    assert [kind for _, _, kind in urgent] == ["execution_chain", "null", "null", "null"]
    assert [row for row in started_attempts(installed, "grid") if row[0] >= urgent[0][0]] == []


@pytest.fixture
def amqp_settings(tmp_path, mariadb, rabbitmq, clean_queues):
    settings, name = mysql_settings_for(mariadb, tmp_path, **amqp_options(rabbitmq))
    yield settings
    mariadb.drop_database(name)


def _declare_without_priorities(settings, name: str, messages: int = 0) -> None:
    """A queue as an earlier release declared it (durable, no arguments)."""
    with Database(settings) as db:
        queue = AmqpQueue(db)
        try:
            def declare():
                queue._ch.queue_declare(queue=name, durable=True)
                for i in range(messages):
                    queue._ch.basic_publish(exchange="", routing_key=name,
                                            body=str(10**6 + i).encode())
            queue._broker(declare)
        finally:
            queue.close()


def test_queues_declared_before_priorities_are_upgraded_once_empty(amqp_settings):
    actions.init_schema(amqp_settings)
    _declare_without_priorities(amqp_settings, "null", messages=2)
    _declare_without_priorities(amqp_settings, "error")
    first = actions.init_queues(amqp_settings)
    assert first["upgraded"] == ["error"]
    assert first["without_priority"] == {"null": 2}
    assert first["warnings"] and "empty it (empty_queue null)" in first["warnings"][0]
    with Database(amqp_settings) as db:
        queue = AmqpQueue(db)
        try:  # the upgraded queue has the priority argument: declaring it so is accepted
            queue._broker(lambda: queue._ch.queue_declare(queue="error", durable=True,
                                                           arguments=QUEUE_ARGUMENTS))
            assert queue._broker(lambda: queue._has_priorities("null")) is False
            queue._broker(lambda: queue._ch.queue_purge(queue="null"))
        finally:
            queue.close()
    second = actions.init_queues(amqp_settings)
    assert second["changed"] and second["upgraded"] == ["null"]
    assert second["without_priority"] == {} and second["warnings"] == []
    third = actions.init_queues(amqp_settings)
    assert third["changed"] is False and third["upgraded"] == []
