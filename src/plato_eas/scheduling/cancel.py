"""Cancel a job: stop everything of it, keep its history.

In one unit under the scheduler lock the job is marked cancelled (no pass schedules, retries
or queues anything of it until ``reschedule`` names it), and its queued attempts, running
attempts and waiting retries end as *cancelled* — not failed, not stalled — with the reason
in their log; then the queue drops the messages of the attempts that were queued (RabbitMQ
too). A worker running a cancelled attempt notices within ``CANCEL_CHECK_INTERVAL`` seconds,
kills its task-runner's process group and records nothing (a result that arrives later is
discarded: the attempt is no longer running). Other jobs are untouched.
"""

from __future__ import annotations

import time

from ..db import Database, Tx
from ..model import attempts, jobs
from ..model.schema import check_version
from ..queues.base import open_queue


def _result(job_name: str, newly: bool, ended: dict) -> dict:
    queued = sorted(i for ids in ended["queued"].values() for i in ids)
    return {"changed": bool(newly or queued or ended["running"] or ended["retries"]),
            "job_name": job_name, "cancelled": newly,
            "queued_attempt_ids": queued, "running_attempt_ids": ended["running"],
            "retry_attempt_ids": ended["retries"]}


def cancel(db: Database, job_name: str, check_mode: bool = False) -> dict:
    """Cancel ``job_name`` (an unknown job is refused); a second cancel changes nothing.
    Returns changed, job_name, cancelled (newly marked), and the ids of the queued attempts
    removed, the running attempts stopped and the waiting retries dropped."""
    def look(tx: Tx) -> tuple[bool, dict]:
        check_version(tx)
        jobs.require(tx, job_name)
        return jobs.is_cancelled(tx, job_name), attempts.live_of_job(tx, job_name)

    already, live = db.read(look)
    if check_mode:
        return _result(job_name, not already, live)
    reason = f"cancelled: job {job_name!r} was cancelled"
    outcome: dict = {}

    def unit(tx: Tx) -> dict[str, list[int]]:
        now = time.time()
        outcome["newly"] = jobs.cancel(tx, job_name, now)
        outcome["ended"] = attempts.cancel_job(tx, job_name, reason, now)
        return outcome["ended"]["queued"]

    queue = open_queue(db)
    try:
        queue.withdraw(unit)
    finally:
        queue.close()
    return _result(job_name, outcome["newly"], outcome["ended"])
