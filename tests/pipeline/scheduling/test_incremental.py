"""The incremental pass at scale, on real SQLite: a pass checks only the marked tasks, yet
after every pass no ready task is left unqueued (the full definition of ready finds none) and
no task ever has two attempts, while workers finish attempts (queueing their dependents
themselves) between the passes."""

from __future__ import annotations

import random

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.scheduling.scheduler import _ready_sql, schedule_pass
from plato_eas.worker.worker import Worker

LAYERS, WIDTH = 12, 150  # 1,800 tasks reading files and metadata of the layer before


def _layered_chain(seed: int) -> dict:
    rng = random.Random(seed)
    tasks = []
    for layer in range(LAYERS):
        for i in range(WIDTH):
            task: dict = {"task": "null", "name": f"l{layer}_{i}",
                          "outputs": {"lightcurve": f"l{layer}_{i}.lc"}}
            if layer:
                task["inputs"] = {"lightcurve": f"l{layer - 1}_{rng.randrange(WIDTH)}.lc"}
                task["requires_metadata_from"] = [
                    f"l{layer - 1}_{j}" for j in rng.sample(range(WIDTH), rng.randint(0, 4))]
            tasks.append(task)
    return {"job_name": "layers", "working_directory": "layers", "task_list": tasks}


def _ready_left(db: Database) -> list[int]:
    """Tasks ready by the full definition (every task checked) that have no attempt."""
    sql, params = _ready_sql(None, "")
    return [r[0] for r in db.read(lambda tx: tx.tuples(sql, params))]


def _attempt_counts(db: Database) -> tuple[int, int, int]:
    """(tasks, tasks with exactly one attempt, attempts)."""
    return db.read(lambda tx: tx.tuples(
        "SELECT (SELECT COUNT(*) FROM eas_task),"
        " (SELECT COUNT(*) FROM (SELECT taskId FROM eas_scheduling_attempt GROUP BY taskId"
        "  HAVING COUNT(*) = 1) o),"
        " (SELECT COUNT(*) FROM eas_scheduling_attempt)"))[0]


def test_incremental_passes_miss_nothing_and_queue_nothing_twice(installed):
    actions.submit(installed, chain=_layered_chain(15))
    rng = random.Random(15)
    with Database(installed) as db:
        schedule_pass(db)
        Worker(installed, task_types=["execution_chain"]).run(until_empty=True)
        schedule_pass(db)  # the first layer (the expansion marked every child)
        passes = 0
        while True:
            ran = Worker(installed, task_types=["null"]).run(
                until_empty=True, max_attempts=rng.randint(1, 400))
            if rng.random() < 0.5:  # a pass only now and then: the finishes queue the rest
                schedule_pass(db)
                passes += 1
                assert _ready_left(db) == []
            tasks, once, total = _attempt_counts(db)
            assert once == total  # no task has two attempts
            if ran == 0:
                break
        assert passes > 0
        assert _ready_left(db) == []
        tasks, once, total = _attempt_counts(db)
        assert (once, total) == (tasks, tasks)  # every task ran, exactly once
        assert db.read(lambda tx: tx.scalar(
            "SELECT COUNT(*) FROM eas_scheduling_attempt WHERE isFinished = 1"
            " AND errorFail = 0")) == tasks
        assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_task_check")) == 0


def test_an_idle_pass_reads_no_task(installed):
    """With 2,000 tasks waiting for a file not yet written, an idle pass checks none of them:
    the full definition would (it scans every task), the marked one finds nothing marked."""
    chain = {"job_name": "wait", "working_directory": "wait", "task_list": [
        {"task": "null", "name": "p", "outputs": {"lightcurve": "p.lc"}},
        *[{"task": "null", "name": f"c{i}", "inputs": {"lightcurve": "p.lc"}}
          for i in range(2000)]]}
    actions.submit(installed, chain=chain)
    with Database(installed) as db:
        schedule_pass(db)
        Worker(installed, task_types=["execution_chain"]).run(until_empty=True)
        # the expansion queued p itself; its 2,000 readers wait, unmarked
        assert schedule_pass(db)["attempt_ids"] == []
        assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_task_check")) == 0
        seen: list[str] = []
        db.conn.set_trace_callback(seen.append)
        try:
            schedule_pass(db)
        finally:
            db.conn.set_trace_callback(None)
        ready = [s for s in seen if "eas_task_input" in s]
        assert ready == []  # the ready query did not even run
