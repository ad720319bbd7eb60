"""Helpers for the job-control tests (cancel, priorities, retries): jobs of null tasks
submitted, expanded and queued through the real actions and a real worker."""

from __future__ import annotations

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.settings import Settings
from plato_eas.worker.worker import Worker

CONTROL_FLOW = ["execution_chain", "execution_for_loop", "execution_conditional",
                "execution_do_while_loop"]


def null_chain(job: str, count: int, priority: int | None = None, **task) -> dict:
    chain: dict = {"job_name": job,
                   "task_list": [{"task": "null", "name": f"t{i}", **task} for i in range(count)]}
    if priority is not None:
        chain["priority"] = priority
    return chain


def grid_chain(job: str, count: int, priority: int | None = None) -> dict:
    """One for loop of ``count`` null tasks (how a large grid is written)."""
    chain: dict = {"job_name": job, "task_list": [{
        "task": "execution_for_loop", "parameter": "i", "linear_range": [0, 1, count],
        "task_list": [{"task": "null"}]}]}
    if priority is not None:
        chain["priority"] = priority
    return chain


def expand_all(settings: Settings) -> int:
    """Schedule and run control-flow attempts until none is left; returns how many ran."""
    return run_all(settings, CONTROL_FLOW)


def run_all(settings: Settings, task_types: list[str] | None = None) -> int:
    """Schedule and run attempts (of ``task_types``; None: every type) in this process until
    none is queued; returns how many ran."""
    ran = 0
    while True:
        actions.schedule(settings)
        done = Worker(settings, task_types=task_types).run(until_empty=True)
        if not done:
            actions.schedule(settings)  # decide on the last failures
            return ran
        ran += done


def queued_job(settings: Settings, chain: dict) -> list[int]:
    """Submit ``chain``, expand it and queue its leaf tasks; returns their attempt ids."""
    actions.submit(settings, chain=chain)
    expand_all(settings)
    return attempts_of(settings, chain["job_name"], queued=True)


def attempts_of(settings: Settings, job: str, queued: bool = False) -> list[int]:
    """The job's attempts of null tasks (only the queued ones), in id order."""
    return attempts_of_type(settings, job, "null", queued)


def attempts_of_type(settings: Settings, job: str, task_type: str | None,
                     queued: bool = False) -> list[int]:
    with Database(settings) as db:
        return [r[0] for r in db.read(lambda tx: tx.tuples(
            "SELECT a.schedulingAttemptId FROM eas_scheduling_attempt a JOIN eas_task t"
            " ON t.taskId = a.taskId JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
            " WHERE t.jobName = ? AND (? IS NULL OR tt.taskTypeName = ?)"
            " AND (a.isQueued = 1 OR ? = 0) ORDER BY a.schedulingAttemptId",
            (job, task_type, task_type, int(queued))))]


def attempt_rows(settings: Settings, job: str) -> list[dict]:
    with Database(settings) as db:
        return db.read(lambda tx: tx.rows(
            "SELECT a.*, tt.taskTypeName FROM eas_scheduling_attempt a JOIN eas_task t"
            " ON t.taskId = a.taskId JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
            " WHERE t.jobName = ? ORDER BY a.schedulingAttemptId", (job,)))


def job_row(settings: Settings, job: str) -> dict:
    (row,) = actions.report(settings, "jobs", job_name=job)["rows"]
    return row


def new_host(settings: Settings, name: str = "test-host") -> int:
    with Database(settings) as db:
        return db.run(lambda tx: tx.insert(
            "INSERT INTO eas_worker_host (hostname) VALUES (?)", (name,)))
