"""The worker (SPEC §6): claims attempts of the task types its container implements, runs each
in its task-runner child (control-flow expansions too), and records the result. Runs forever
(service mode) or until its queues are empty.

Told to stop (SIGTERM, or SIGINT from a terminal), it does not wait for a running attempt: it
kills the runner's process group, gives the attempt back to the queue marked as interrupted
(not failed, so any worker may run it again at once) and leaves.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import socket
import threading
import time
from typing import Any

from .. import defaults
from ..admin.queues import check_implementation
from ..chains.expand import Limits, expand
from ..db import Database
from ..errors import EasError
from ..model import attempts
from ..model.context import AttemptContext, load_context
from ..model.schema import check_version
from ..queues.base import open_queue
from ..queues.doorbell import Doorbell
from ..settings import Settings
from ..tasks.api import implementations
from ..tasks.registry import CONTROL_FLOW_TYPES, Registry, load_registry
from . import staging
from .child import Stopped, TaskRunner, Withdrawn
from .record import describe, fail, record

log = logging.getLogger(__name__)
daemon_log = logging.getLogger("plato_eas.daemon")  # start lines, shown without -v
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
IDLE_WAIT = (0.01, 0.5)  # seconds between claims while the queue is empty: first, longest


def time_limit(ctx: AttemptContext, registry: Registry) -> float | None:
    """Seconds the attempt may run: the task's own ``time_limit``, else its type's in the
    registry, else (control-flow expansions only) the default expansion limit."""
    own = ctx.description.get("time_limit") if isinstance(ctx.description, dict) else None
    if isinstance(own, (int, float)) and not isinstance(own, bool) and 0 < own < float("inf"):
        return float(own)
    if ctx.task_type in registry.time_limits:
        return registry.time_limits[ctx.task_type]
    return defaults.EXPANSION_TIME_LIMIT if ctx.task_type in CONTROL_FLOW_TYPES else None


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class Worker:
    def __init__(self, settings: Settings, container: str | None = None,
                 task_types: list[str] | None = None, daemon: bool = False,
                 work_bell: Doorbell | None = None, idle_bell: Doorbell | None = None):
        """``work_bell`` rings when attempts were queued (the worker waits on it when the
        queue is empty, and rings it when it queues some); ``idle_bell`` is rung when the
        worker finds the queue empty (``eas run``: its driver looks at once)."""
        self.settings = settings
        self.work_bell, self.idle_bell = work_bell, idle_bell
        self.output_dir = settings.output_dir
        self.db = Database(settings)
        self.db.read(check_version)
        check_implementation(self.db)
        self.registry = load_registry(settings)
        wanted = task_types or self.registry.types_for(container)
        runnable = set(CONTROL_FLOW_TYPES) | set(implementations())
        self.task_types = [t for t in wanted if t in runnable]
        skipped = sorted(set(wanted) - runnable)
        if skipped:
            log.info("no implementation installed for %s: not serving them", skipped)
        self.queue = open_queue(self.db, daemon=daemon)
        if work_bell is not None and hasattr(self.queue, "doorbell"):
            self.queue.doorbell = work_bell
        self.hostname = f"{socket.gethostname()}/{os.getpid()}"
        self.host_id = self.db.run(lambda tx: tx.insert(
            "INSERT INTO eas_worker_host (hostname) VALUES (?)", (self.hostname,)))
        low, high = defaults.HEARTBEAT_INTERVAL_RANGE
        self.heartbeat_interval = min(high, max(
            low, settings.max_heartbeat_age / defaults.HEARTBEATS_PER_AGE))
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        limits = Limits(settings.max_loop_iterations)
        self.runner = TaskRunner(
            self.output_dir, expander=lambda ctx: expand(ctx, limits, self.registry),
            wake_fd=self._wake_r, input_dir=settings.input_dir)
        self.stopping = False
        self.stop_signal: int | None = None
        self.attempts_run = 0
        self.returned: list[int] = []  # attempts given back to the queue
        # the next attempt, claimed by the transaction that recorded the last (its context
        # is read after that COMMIT, outside SQLite's write lock)
        self.claimed: list[int] = []
        self._clear_leftovers()

    def stop(self, signum: int | None = None, _frame: Any = None) -> None:
        """Leave as soon as possible; a running attempt goes back to the queue (signal
        handler for SIGTERM/SIGINT: only sets a flag and wakes the wait)."""
        self.stopping = True
        self.stop_signal = self.stop_signal or signum
        try:
            os.write(self._wake_w, b"!")
        except OSError:
            pass

    def _catch_signals(self) -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {s: signal.signal(s, self.stop) for s in STOP_SIGNALS}

    def run(self, until_empty: bool = False, max_attempts: int | None = None) -> int:
        """Serve attempts; returns how many were run."""
        previous = self._catch_signals()
        idle = IDLE_WAIT[0]
        try:
            while not self.stopping:
                if max_attempts is not None and self.attempts_run >= max_attempts:
                    break
                attempt_id = self.claimed.pop() if self.claimed else self.queue.claim(
                    self.task_types, self.host_id)
                if attempt_id is None:
                    if until_empty:
                        break
                    self._wait_for_work(idle, first=idle == IDLE_WAIT[0])
                    idle = min(idle * 2, IDLE_WAIT[1])
                    continue
                idle = IDLE_WAIT[0]
                log.info("claimed attempt %d", attempt_id)
                if self.stopping or not self._serve(attempt_id, max_attempts=max_attempts):
                    self._release(attempt_id)
                    break
                self.queue.done(attempt_id)
                self.attempts_run += 1
        finally:
            try:
                while self.claimed:  # claimed with the last record, never started
                    self._release(self.claimed.pop())
                self.runner.close()
                self.queue.close()
                self.db.close()
            finally:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)
                os.close(self._wake_r)
                os.close(self._wake_w)
        if self.stop_signal is not None:
            log.warning("interrupted (%s); %s returned to the queue",
                        signal.Signals(self.stop_signal).name,
                        plural(len(set(self.returned)), "attempt"))
        return self.attempts_run

    def _wait_for_work(self, timeout: float, first: bool) -> None:
        """The queue is empty: wait ``timeout`` s, less when work is queued meanwhile (a
        doorbell rings) or the worker is told to stop (its wake pipe). ``first``: the first
        wait since the last attempt (then the idle bell rings)."""
        if first and self.idle_bell is not None:
            self.idle_bell.ring()
        if self.work_bell is not None:
            self.work_bell.wait(timeout, self._wake_r)
        else:
            select.select([self._wake_r], [], [], timeout)

    def _serve(self, attempt_id: int, ctx: AttemptContext | None = None,
               max_attempts: int | None = None) -> bool:
        """Run and record one attempt; False when the worker was stopped while it ran. Any
        failure on the way fails that attempt, never the worker; an attempt withdrawn while it
        ran (its job cancelled) was stopped and is not recorded. Unless this is the last
        attempt it may run, the recording transaction claims the next one too."""
        last = max_attempts is not None and self.attempts_run + 1 >= max_attempts
        try:
            self.execute(attempt_id, ctx, claim_next=not last)
        except Stopped:
            return False
        except Withdrawn:
            log.info("attempt %d is no longer ours (cancelled or swept): stopped", attempt_id)
            staging.discard(self.output_dir, attempt_id)
        except Exception as exc:  # noqa: BLE001 - one attempt fails, never the worker
            reason = f"the worker could not run this attempt: {describe(exc)}"
            log.error("attempt %d: %s", attempt_id, reason)
            fail(self.db, attempt_id, reason)
        return True

    def heartbeat(self, attempt_id: int, beat: bool = True) -> bool:
        """The attempt is alive (database; with ``beat`` False only check that it is still
        ours) and so is our claim on it (the queue's connection: a broker that drops it would
        deliver the attempt again). False when the attempt is no longer running: its job was
        cancelled, or the scheduler declared it stalled."""
        def unit(tx) -> bool:
            if beat:
                return attempts.heartbeat(tx, attempt_id, time.time())
            return attempts.still_running(tx, attempt_id)

        try:
            ours = self.db.run(unit)
        except EasError as exc:  # the database is away: the next beat tries again
            log.warning("heartbeat for attempt %d failed: %s", attempt_id, exc)
            ours = True
        self.queue.keepalive()
        return ours

    def execute(self, attempt_id: int, ctx: AttemptContext | None = None,
                claim_next: bool = False) -> bool:
        """Run one attempt and record it; raises Stopped when told to stop meanwhile, and
        Withdrawn when the attempt was cancelled meanwhile (then checked every
        ``CANCEL_CHECK_INTERVAL`` seconds, a heartbeat written every heartbeat interval).
        With ``claim_next``, the recording transaction also claims the worker's next attempt
        (into ``self.claimed``) when the queue can claim inside it. The attempt's context is
        read in a read transaction of its own (on SQLite: no write lock held while reading):
        the claim made it ours, and a cancel that lands meanwhile is found as during the
        run (the attempt is then not recorded)."""
        if ctx is None:
            ctx = self.db.read(lambda tx: load_context(tx, attempt_id))
        check = min(self.heartbeat_interval, defaults.CANCEL_CHECK_INTERVAL)
        last_beat = time.monotonic()

        def alive() -> bool:
            nonlocal last_beat
            beat = time.monotonic() - last_beat >= self.heartbeat_interval - check / 2
            if beat:
                last_beat = time.monotonic()
            return self.heartbeat(attempt_id, beat)

        outcome = self.runner.run(ctx, alive, check, time_limit(ctx, self.registry))
        if not claim_next or self.stopping:
            return record(self.db, ctx, outcome, self.output_dir, self.queue)
        self.queue.reserve(self.task_types)
        stamps: list[float] = []  # each claim's start time: how a lost COMMIT finds it

        def following(tx) -> int | None:
            stamps.append(time.time())  # after what this transaction queued: a later start
            return self.queue.claim_within(tx, self.task_types, self.host_id, stamps[-1])

        stored = record(self.db, ctx, outcome, self.output_dir, self.queue, following,
                        self.claimed)
        if not stored and not self.claimed and stamps:
            self._claimed_after_all(stamps)
        return stored

    def _claimed_after_all(self, stamps: list[float]) -> None:
        """A recording transaction whose COMMIT went through although the connection died
        before its answer was re-run and found its attempt no longer running: the attempt
        it claimed (stamped with one of ``stamps``) is ours all the same; without this it
        would be held until swept as stalled."""
        def unit(tx) -> int | None:
            for now in stamps:
                attempt_id = attempts.taken_by(tx, self.host_id, now)
                if attempt_id is not None:
                    return attempt_id
            return None

        try:
            found = self.db.read(unit)
        except EasError as exc:
            log.warning("could not look for an attempt claimed while recording: %s", exc)
            return
        if found is not None:
            self.claimed.append(found)

    def _release(self, attempt_id: int) -> None:
        """Give an attempt we hold back to the queue, marked as interrupted."""
        name = signal.Signals(self.stop_signal).name if self.stop_signal else "stop"
        reason = f"interrupted ({name}) on {self.hostname}: returned to the queue"
        try:
            self.queue.release(attempt_id, reason)
            self.returned.append(attempt_id)
        except EasError as exc:
            log.error("attempt %d: could not return it to the queue (%s); it will be swept "
                      "as stalled", attempt_id, exc)
        staging.discard(self.output_dir, attempt_id)

    def _clear_leftovers(self) -> None:
        """Staging folders of attempts that are finished (their worker died) are nobody's."""
        found = staging.leftovers(self.output_dir)
        if found:
            for attempt_id in self.db.read(lambda tx: attempts.finished_among(tx, found)):
                staging.discard(self.output_dir, attempt_id)


def serve(settings: Settings, container: str | None = None, until_empty: bool = False,
          task_types: list[str] | None = None) -> int:
    """Entry point for `eas worker` and the embedded runner's worker processes."""
    worker = Worker(settings, container=container, task_types=task_types,
                    daemon=not until_empty)
    daemon_log.info("worker started: %s, task types %s, pid %d", settings.where(),
                    ", ".join(worker.task_types) or "none", os.getpid())
    return worker.run(until_empty=until_empty)
