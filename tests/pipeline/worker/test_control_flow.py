"""Control-flow tasks run in the worker itself: a re-run after the worker died mid-expansion
neither fails nor registers the children twice."""

from __future__ import annotations

import multiprocessing
import os
import time

from plato_eas import actions
from plato_eas.chains import register
from plato_eas.db import Database
from plato_eas.worker.worker import Worker

CTX = multiprocessing.get_context("fork")


def _attempt_rows(settings) -> list[dict]:
    with Database(settings) as db:
        return db.read(lambda tx: tx.rows(
            "SELECT a.*, tt.taskTypeName FROM eas_scheduling_attempt a "
            "JOIN eas_task t ON t.taskId = a.taskId "
            "JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"))


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
    rows = [a for a in _attempt_rows(fast) if a["taskTypeName"] == "execution_chain"]
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
