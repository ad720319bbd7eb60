"""Embedded mode (SPEC §10): the scheduler plus N local worker processes on this machine,
until a job (or all work) is finished, can make no more progress, or a timeout passes."""

from __future__ import annotations

import logging
import multiprocessing
import time

from ..admin.queues import check_implementation
from ..db import Database
from ..model.schema import check_version
from ..model.states import UNFINISHED_STATES, blocked_tasks, job_summary, live_attempts
from ..queues.base import open_queue
from ..reports import run_report
from ..settings import Settings
from ..worker.worker import serve
from .scheduler import schedule_pass

log = logging.getLogger(__name__)


def _worker_process(settings: Settings) -> None:
    logging.basicConfig(level=logging.WARNING)
    serve(settings)


def _settled(db: Database, job_name: str | None) -> bool:
    """Nothing is queued, running or stalled for the job."""
    return db.read(lambda tx: live_attempts(tx, job_name)) == 0


def preview(settings: Settings, workers: int, job_name: str | None = None) -> dict:
    """What a run would do (check mode): the current progress, changed when work is left."""
    with Database(settings) as db:
        result = run_report(db, "progress", job_name=job_name)
    left = sum(result["total"].get(state, 0) for state in UNFINISHED_STATES)
    result["changed"] = left > 0
    result["msg"] = f"would run {workers} worker(s) for {left} unfinished task(s)"
    return result


def run_local(settings: Settings, workers: int = 2, job_name: str | None = None,
              timeout: float | None = None, poll: float = 0.2) -> dict:
    with Database(settings) as db:
        db.read(check_version)
        check_implementation(db)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker_process, args=(settings,), daemon=True)
             for _ in range(max(1, workers))]
    for p in procs:
        p.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    timed_out = False
    try:
        with Database(settings) as db:
            queue = open_queue(db)
            while True:
                # Read the state *before* the pass: if nothing was queued or running then,
                # nobody can have added tasks since, so an empty pass means no progress is
                # possible (finished, or blocked on failures).
                settled = _settled(db, job_name)
                scheduled = schedule_pass(db, queue=queue, job_name=job_name)
                if settled and not scheduled["attempt_ids"] and not scheduled["requeued"]:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    timed_out = True
                    break
                if any(not p.is_alive() for p in procs):
                    dead = [p.exitcode for p in procs if not p.is_alive()]
                    log.warning("worker process(es) exited (%s); restarting", dead)
                    procs = [p if p.is_alive() else _restart(ctx, settings) for p in procs]
                time.sleep(poll if not scheduled["attempt_ids"] else poll / 4)
            queue.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.join(timeout=30)
    return _result(settings, job_name, timed_out, timeout)


def _restart(ctx, settings: Settings):
    p = ctx.Process(target=_worker_process, args=(settings,), daemon=True)
    p.start()
    return p


def _result(settings: Settings, job_name: str | None, timed_out: bool,
            timeout: float | None) -> dict:
    with Database(settings) as db:
        max_age = settings.max_heartbeat_age
        summary = db.read(lambda tx: job_summary(tx, job_name, max_age=max_age))
        blocked = db.read(lambda tx: blocked_tasks(tx, job_name, max_age=max_age))
        progress = run_report(db, "progress", job_name=job_name)
    finished = not timed_out and summary["done"] == summary["total"]
    failure = (f"{summary['failed']} task(s) failed; see plato.eas.errors_info"
               if summary["failed"] else
               f"timed out after {timeout:g} s with work left" if timed_out else None)
    return {
        "changed": True,
        "job_name": job_name,
        "finished": finished,
        "timed_out": timed_out,
        "summary": summary,
        "failed": summary["failed"],
        "blocked": blocked,
        "rows": progress["rows"],
        "table": progress["table"],
        "failure": failure,
    }
