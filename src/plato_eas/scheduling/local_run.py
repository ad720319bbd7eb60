"""Embedded mode (SPEC §10): the scheduler plus N local worker processes on this machine,
until a job (or all work) is finished, can make no more progress, or a timeout passes.

However the run ends — finished, timed out, SIGINT (Ctrl-C) or SIGTERM — its workers stop the
same way: SIGTERM (each kills its task runner and gives its attempt back to the queue, marked
as interrupted), SIGKILL after ``STOP_GRACE`` seconds for any still there (its runner dies with
it), then whatever a killed worker still held goes back to the queue too. No worker outlives
the run, and none of its attempts stays "running" until the heartbeat age. A run stopped by a
signal raises :class:`~plato_eas.errors.Interrupted`: "interrupted; N attempts returned to the
queue".

Work that does not progress is never silent: the result's ``stopped`` says why (task types no
installed package implements, worker processes that could not start, the timeout with what the
workers were busy with), ``failure`` is the one line an operator's run fails with (failed
tasks first, else ``stopped``), and ``worker_errors`` holds each worker process's exit, one
line each.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from typing import Any, Callable

from .. import defaults, summaries
from ..admin.queues import check_implementation
from ..db import Database, marks
from ..errors import Interrupted
from ..model import attempts, jobs
from ..model.schema import check_version
from ..model.states import (
    STATES,
    UNFINISHED_STATES,
    blocked_tasks,
    job_summary,
    pending_attempts,
    task_state_counts,
    unqueued_tasks,
)
from ..queues.base import open_queue
from ..queues.doorbell import Doorbell
from ..reports import run_report
from ..settings import Settings
from ..tasks.availability import missing_implementations
from ..tasks.registry import Registry, load_registry
from ..worker.record import describe
from ..worker.worker import Worker, plural
from .scheduler import schedule_pass

log = logging.getLogger(__name__)
SIGNALS = (signal.SIGINT, signal.SIGTERM)
STARTUP_FAILED = 3  # exit status of a worker process that could not start: not restarted


class _Signals:
    """SIGINT and SIGTERM while the run lasts: remembered, and the run's wait woken (a
    handler that only sets a flag: no KeyboardInterrupt, no traceback)."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._owner = os.getpid()
        self._previous: dict = {}

    def __enter__(self) -> _Signals:
        self._r, self._w = os.pipe()
        os.set_blocking(self._w, False)
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in SIGNALS}
        return self

    def _handle(self, signum: int, _frame: Any) -> None:
        if os.getpid() != self._owner:  # a worker process that is not listening yet
            os._exit(128 + signum)
        self.received = self.received or signum
        try:
            os.write(self._w, b"!")
        except OSError:
            pass

    def wait(self, seconds: float, bell: Doorbell | None = None) -> None:
        """Until a signal, the ``bell`` or ``seconds``."""
        if bell is not None:
            bell.wait(seconds, self._r)
        else:
            select.select([self._r], [], [], max(0.0, seconds))

    def __exit__(self, *exc: Any) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        os.close(self._r)
        os.close(self._w)


SLOT_IDS = 16  # attempt ids a worker process can report as given back


def _worker_process(settings: Settings, slot: Any, errors: Any, bells: tuple) -> None:
    """One worker; ``slot`` tells the run its host id, then the attempts it gave back; why it
    stops goes to ``errors`` as one line; ``bells``: the run's work and idle doorbells."""
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("plato_eas.worker.worker").setLevel(logging.ERROR)  # the run says it once
    try:
        worker = Worker(settings, daemon=True, work_bell=bells[0], idle_bell=bells[1])
    except Exception as exc:  # noqa: BLE001 - reported to the run as one line
        errors.put((os.getpid(), describe(exc)))
        sys.exit(STARTUP_FAILED)
    slot[0] = worker.host_id
    try:
        worker.run()
    except Exception as exc:  # noqa: BLE001
        errors.put((os.getpid(), describe(exc)))
        sys.exit(1)
    returned = worker.returned[:SLOT_IDS]
    slot[2:2 + len(returned)] = returned
    slot[1] = len(returned)


class _Workers:
    """The run's worker processes, and every host id they ever had. They are not daemonic: a
    task may start processes of its own (TLS runs a multiprocessing pool), which Python forbids
    in a daemonic process; :meth:`stop` ends them all. One that dies while serving is
    restarted; one that could not start is not (it would fail the same way again). Every exit
    is reported. Two doorbells connect them to the run: ``work`` rings when attempts are
    queued (by the run's passes or by a worker's recording transaction) and wakes the idle
    workers; ``idle`` rings when a worker finds the queue empty and wakes the run, which then
    looks whether the work is done."""

    def __init__(self, settings: Settings, size: int):
        self.settings = settings
        self.work, self.idle = Doorbell(), Doorbell()
        self.ctx = multiprocessing.get_context("fork")
        self.errors = self.ctx.SimpleQueue()
        self.reports: list[str] = []
        self.reasons: dict[int, str] = {}
        self.procs: list[Any] = []
        self.slots: list[Any] = []
        for _ in range(size):
            self.procs.append(self._spawn())

    def _spawn(self) -> Any:
        slot = self.ctx.Array("q", 2 + SLOT_IDS, lock=False)
        proc = self.ctx.Process(target=_worker_process,
                                args=(self.settings, slot, self.errors, (self.work, self.idle)))
        proc.start()
        self.slots.append(slot)
        return proc

    def host_ids(self) -> list[int]:
        return [int(slot[0]) for slot in self.slots if slot[0]]

    def check(self) -> bool:
        """Report dead workers and replace those that had started; False when none is left."""
        dead = [p for p in self.procs if not p.is_alive()]
        if not dead:
            return True
        reasons = self.reasons  # kept: a reason may come before its process is seen dead
        while not self.errors.empty():
            pid, reason = self.errors.get()
            reasons[pid] = reason
        alive = [p for p in self.procs if p.is_alive()]
        for p in dead:
            if p.exitcode == STARTUP_FAILED:
                report = f"worker {p.pid} could not start: {reasons.get(p.pid, 'no reason given')}"
            else:
                how = reasons.get(p.pid) or (f"killed by signal {-p.exitcode}"
                                             if p.exitcode < 0 else f"exit status {p.exitcode}")
                report = f"worker {p.pid} stopped ({how}); restarted"
                alive.append(self._spawn())
            log.warning("%s", report)
            self.reports.append(report)
        self.procs = alive
        return bool(alive)

    def stop(self, grace: float = defaults.STOP_GRACE) -> int:
        """Stop every worker (SIGTERM, then SIGKILL after ``grace`` s); returns how many
        attempts went back to the queue (one given back twice — released by one worker, taken
        and released again by another that was stopping too — counts once)."""
        for proc in self.procs:
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGTERM)
        end = time.monotonic() + grace
        for proc in self.procs:
            proc.join(max(0.0, end - time.monotonic()))
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()
                proc.join()
        returned = {int(i) for slot in self.slots for i in slot[2:2 + slot[1]]}
        self.errors.close()
        self.work.close()
        self.idle.close()
        return len(returned | set(_release_leftovers(self.settings, self.host_ids())))


def _release_leftovers(settings: Settings, hosts: list[int]) -> list[int]:
    """Give back the attempts still running on the run's (now gone) workers, and put them on
    the queue again; returns their ids."""
    if not hosts:
        return []
    reason = "interrupted: its worker process was stopped; returned to the queue"
    with Database(settings) as db:
        queue = open_queue(db)
        try:
            def unit(tx) -> list[int]:
                held = attempts.release_held(tx, hosts, reason, time.time())
                queue.stage(tx, held)
                return [i for ids in held.values() for i in ids]

            released = db.run(unit)
            if released:
                queue.publish()
            return released
        finally:
            queue.close()


_QUEUED_TYPES = (
    "SELECT DISTINCT tt.taskTypeName FROM eas_scheduling_attempt a "
    "JOIN eas_task t ON t.taskId = a.taskId JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId "
    "WHERE a.isQueued = 1 AND a.isRunning = 0 AND a.isFinished = 0 "
    "AND (? IS NULL OR t.jobName = ?)")

_RUNNING_ON = (
    "SELECT a.schedulingAttemptId, tt.taskTypeName, t.jobName, a.startTime "
    "FROM eas_scheduling_attempt a "
    "JOIN eas_task t ON t.taskId = a.taskId JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId "
    "WHERE a.isRunning = 1 AND a.isFinished = 0 AND a.hostId IN ({marks}) "
    "ORDER BY a.schedulingAttemptId")


def _unrunnable(db: Database, job_name: str | None, registry: Registry) -> list[str]:
    """Why queued work can never start here: its task types have no installed implementation
    (a job submitted with allow_unimplemented, meant for other workers)."""
    types = [r[0] for r in db.read(lambda tx: tx.tuples(_QUEUED_TYPES, (job_name, job_name)))]
    return list(missing_implementations(types, registry).values())


def _busy(db: Database, hosts: list[int]) -> list[str]:
    """What this run's workers are running (any job's attempts: workers serve the whole queue,
    oldest first)."""
    if not hosts:
        return []
    rows = db.read(lambda tx: tx.tuples(_RUNNING_ON.format(marks=marks(hosts)), hosts))
    now = time.time()
    return [f"attempt {attempt} ({task_type}, job {job}) for {now - (start or now):.0f} s"
            for attempt, task_type, job, start in rows]


def _settled(db: Database, job_name: str | None) -> bool:
    """Nothing is queued, running or stalled for the job, and no retry is to come."""
    return db.read(lambda tx: pending_attempts(tx, job_name)) == 0


def preview(settings: Settings, workers: int, job_name: str | None = None) -> dict:
    """What a run would do (check mode): the current progress, changed when work is left."""
    with Database(settings) as db:
        result = run_report(db, "progress", job_name=job_name)
    left = sum(result["total"].get(state, 0) for state in UNFINISHED_STATES)
    result["changed"] = left > 0
    result["msg"] = f"would run {workers} worker(s) for {left} unfinished task(s)"
    return result


class _Reporter:
    """Task counts for a live display, read at most every ``interval`` seconds (longer when
    the count itself is slow: a large job's counts must not slow its run down)."""

    def __init__(self, callback: Callable[[dict], None] | None, job_name: str | None,
                 max_age: float, interval: float = 1.0):
        self.callback, self.job_name, self.max_age = callback, job_name, max_age
        self.interval = interval
        self.next = 0.0

    def __call__(self, db: Database, force: bool = False) -> None:
        if self.callback is None or (not force and time.monotonic() < self.next):
            return
        started = time.monotonic()
        counts = db.read(lambda tx: task_state_counts(tx, self.job_name, max_age=self.max_age))
        snapshot = {state: sum(c[state] for c in counts.values()) for state in STATES}
        snapshot["total"] = sum(snapshot[state] for state in STATES)
        took = time.monotonic() - started
        self.next = time.monotonic() + max(self.interval, 10 * took)
        self.callback(snapshot)


def _drive(settings: Settings, pool: _Workers, signals: _Signals, job_name: str | None,
           timeout: float | None, poll: float, report: _Reporter) -> dict:
    """Schedule until done, blocked, unable to progress, interrupted or past ``timeout``;
    returns why it stopped early (``stopped``, ``timed_out``, ``unrunnable``)."""
    registry = load_registry(settings)
    deadline = None if timeout is None else time.monotonic() + timeout
    why: dict = {"stopped": None, "timed_out": False, "unrunnable": []}
    with Database(settings) as db:
        queue = open_queue(db)
        if hasattr(queue, "doorbell"):
            queue.doorbell = pool.work  # what a pass queues wakes the idle workers
        try:
            while not signals.received:
                # Read the state *before* the pass: if nothing was queued or running then,
                # nobody can have added tasks since, so an empty pass means no progress is
                # possible (finished, or blocked on failures).
                settled = _settled(db, job_name)
                scheduled = schedule_pass(db, queue=queue, job_name=job_name)
                if settled and not scheduled["attempt_ids"] and not scheduled["requeued"]:
                    report(db, force=True)
                    return why
                why["unrunnable"] = _unrunnable(db, job_name, registry)
                if why["unrunnable"]:
                    why["stopped"] = "queued work cannot run here: " + "; ".join(why["unrunnable"])
                    return why
                if signals.received:  # workers stopping on the same signal are no news
                    return why
                if not pool.check():
                    why["stopped"] = "no worker process could start"
                    return why
                if deadline is not None and time.monotonic() > deadline:
                    busy = _busy(db, pool.host_ids())
                    why["timed_out"] = True
                    why["stopped"] = f"timed out after {timeout:g} s with work left" + (
                        "; the workers were running " + ", ".join(busy) if busy else "")
                    return why
                report(db)
                pause = poll if not scheduled["attempt_ids"] else poll / 4
                if deadline is not None:
                    pause = min(pause, deadline - time.monotonic())
                signals.wait(pause, pool.idle)
            return why
        finally:
            queue.close()


def run_local(settings: Settings, workers: int = defaults.LOCAL_WORKERS,
              job_name: str | None = None, timeout: float | None = None,
              poll: float = 0.2, progress: Callable[[dict], None] | None = None) -> dict:
    """``progress``: called now and then with the job's task counts by state and ``total``
    (a live display); never when None."""
    with Database(settings) as db:
        db.read(check_version)
        if job_name is not None:  # an unknown job is an error, not a run that does nothing
            db.read(lambda tx: jobs.require(tx, job_name))
        check_implementation(db)
    report = _Reporter(progress, job_name, settings.max_heartbeat_age)
    with _Signals() as signals:
        pool = _Workers(settings, max(1, workers))
        try:
            why = _drive(settings, pool, signals, job_name, timeout, poll, report)
        finally:
            returned = pool.stop()
    if signals.received:
        raise Interrupted(f"interrupted; {plural(returned, 'attempt')} returned to the queue",
                          signals.received)
    return _result(settings, job_name, why, pool.reports, returned)


def _result(settings: Settings, job_name: str | None, why: dict,
            worker_errors: list[str], returned: int) -> dict:
    with Database(settings) as db:
        max_age = settings.max_heartbeat_age

        def facts(tx) -> tuple:
            return (job_summary(tx, job_name, max_age=max_age),
                    blocked_tasks(tx, job_name, max_age=max_age),
                    unqueued_tasks(tx, job_name))

        summary, blocked, unqueued = db.read(facts)
        progress = run_report(db, "progress", job_name=job_name)
    stopped = why["stopped"]
    finished = stopped is None and summary["done"] == summary["total"]
    if not finished and stopped is None:
        stopped = "no more progress possible"
    if why["timed_out"]:
        stopped += f"; {plural(returned, 'attempt')} returned to the queue"
    result = {
        "changed": True,
        "job_name": job_name,
        "finished": finished,
        "timed_out": why["timed_out"],
        "stopped": stopped,
        "summary": summary,
        "failed": summary["failed"],
        "blocked": blocked,
        "unrunnable": why["unrunnable"],
        "worker_errors": worker_errors,
        "unqueued": unqueued,
        "returned_to_queue": returned,
        "rows": progress["rows"],
        "table": progress["table"],
    }
    result["msg"] = summaries.local_run(result)
    # What fails the module: a run that did not finish its work, saying why.
    result["failure"] = None if finished else result["msg"]
    return result
