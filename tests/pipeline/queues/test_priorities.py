"""Priorities on the embedded default: the scheduler numbers attempts and the SQL claim takes
them highest priority first, first in first out within a priority, so a small urgent job
submitted behind a large grid runs next."""

from __future__ import annotations

from job_helpers import (
    CONTROL_FLOW,
    attempts_of_type,
    expand_all,
    grid_chain,
    job_row,
    new_host,
    null_chain,
    queued_job,
)
from pipeline_helpers import started_attempts

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.queues.sql import SqlQueue
from plato_eas.worker.worker import Worker

GRID = 100_000  # a large grid: without priorities the urgent job would wait for all of it


def claims(settings, count: int) -> list[int]:
    host = new_host(settings)
    with Database(settings) as db:
        queue = SqlQueue(db)
        return [queue.claim(["null"], host) for _ in range(count)]


def test_equal_priorities_are_first_in_first_out(installed):
    first = queued_job(installed, null_chain("first", 30))
    second = queued_job(installed, null_chain("second", 30))
    assert claims(installed, 60) == first + second


def test_higher_priority_first_whenever_it_was_queued(installed):
    low = queued_job(installed, null_chain("low", 10, priority=-2))
    normal = queued_job(installed, null_chain("normal", 10))
    high = queued_job(installed, null_chain("high", 10, priority=3))
    mixed = queued_job(installed, {"job_name": "mixed", "priority": 1, "task_list": [
        {"task": "null", "name": "urgent", "priority": 5}, {"task": "null", "name": "plain"}]})
    assert claims(installed, 33) == [mixed[0], *high, mixed[1], *normal, *low, None]



def test_a_small_urgent_job_submitted_after_a_large_grid_runs_next(installed):
    actions.submit(installed, chain=grid_chain("grid", GRID))
    for _ in ("root", "loop"):
        actions.schedule(installed)
        assert Worker(installed, task_types=CONTROL_FLOW).run(until_empty=True,
                                                             max_attempts=1) == 1
    actions.schedule(installed)
    assert len(attempts_of_type(installed, "grid", "execution_chain", queued=True)) == GRID
    worker = Worker(installed)  # every type, as a real worker serves them
    assert worker.run(until_empty=True, max_attempts=50) == 50  # the grid is under way
    actions.schedule(installed)
    waiting = len(attempts_of_type(installed, "grid", None, queued=True))
    assert waiting > GRID - 50

    actions.submit(installed, chain=null_chain("urgent", 3), priority=5)
    for count in (1, 3):  # its chain, then its three tasks: each runs as soon as it is queued
        actions.schedule(installed)
        assert Worker(installed).run(until_empty=True, max_attempts=count) == count
    urgent = started_attempts(installed, "urgent")
    assert [kind for _, _, kind in urgent] == ["execution_chain", "null", "null", "null"]
    grid_after = [row for row in started_attempts(installed, "grid") if row[0] >= urgent[0][0]]
    assert grid_after == []  # not one grid attempt started between
    assert job_row(installed, "urgent")["state"] == "finished"
    assert len(attempts_of_type(installed, "grid", None, queued=True)) >= waiting - 1


def test_a_task_inherits_its_jobs_priority_down_the_tree(installed):
    chain = grid_chain("nested", 3, priority=2)
    chain["task_list"].append({"task": "null", "name": "own", "priority": -1})
    actions.submit(installed, chain=chain)
    expand_all(installed)
    with Database(installed) as db:
        found = db.read(lambda tx: tx.tuples(
            "SELECT tt.taskTypeName, t.taskName, t.priority, a.priority FROM eas_task t"
            " JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
            " LEFT JOIN eas_scheduling_attempt a ON a.taskId = t.taskId ORDER BY t.taskId"))
    assert {(kind, name, task, attempt) for kind, name, task, attempt in found
            if kind != "null"} == {("execution_chain", "root", 2, 2),
                                   ("execution_for_loop", None, 2, 2),
                                   ("execution_chain", "i_0", 2, 2),
                                   ("execution_chain", "i_1", 2, 2),
                                   ("execution_chain", "i_2", 2, 2)}
    nulls = [(name, task, attempt) for kind, name, task, attempt in found if kind == "null"]
    assert sorted(nulls, key=str) == sorted([(None, 2, 2)] * 3 + [("own", -1, -1)], key=str)
