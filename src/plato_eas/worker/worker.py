"""The worker (SPEC §6): claims attempts of the task types its container implements, runs each
(control-flow types in the worker itself, everything else in a forked child), and records the
result. Runs forever (service mode) or until its queues are empty."""

from __future__ import annotations

import logging
import os
import signal
import socket
import time

from ..admin.queues import check_implementation
from ..chains.expand import Limits, expand
from ..db import Database
from ..errors import ChainError, EasError
from ..model import attempts
from ..model.context import load_context
from ..model.schema import check_version
from ..queues.base import open_queue
from ..settings import Settings
from ..tasks.api import implementations
from ..tasks.registry import CONTROL_FLOW_TYPES, load_registry
from .child import Outcome, TaskRunner
from .record import record

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, settings: Settings, container: str | None = None,
                 task_types: list[str] | None = None, daemon: bool = False):
        self.settings = settings
        self.output_dir = settings.output_dir
        self.db = Database(settings)
        self.db.read(check_version)
        check_implementation(self.db)
        registry = load_registry(settings)
        wanted = task_types or registry.types_for(container)
        runnable = set(CONTROL_FLOW_TYPES) | set(implementations())
        self.task_types = [t for t in wanted if t in runnable]
        skipped = sorted(set(wanted) - runnable)
        if skipped:
            log.info("no implementation installed for %s: not serving them", skipped)
        self.queue = open_queue(self.db, daemon=daemon)
        self.host_id = self.db.run(lambda tx: tx.insert(
            "INSERT INTO eas_worker_host (hostname) VALUES (?)",
            (f"{socket.gethostname()}/{os.getpid()}",)))
        self.heartbeat_interval = max(0.2, min(30.0, settings.max_heartbeat_age / 4))
        self.runner = TaskRunner(self.output_dir)
        self.stopping = False
        self.attempts_run = 0

    def stop(self, *_: object) -> None:
        """Finish the current attempt, then leave (SIGTERM/SIGINT in service mode)."""
        self.stopping = True

    def run(self, until_empty: bool = False, max_attempts: int | None = None) -> int:
        """Serve attempts; returns how many were run."""
        signal.signal(signal.SIGTERM, self.stop)
        idle = 0.01
        try:
            while not self.stopping:
                if max_attempts is not None and self.attempts_run >= max_attempts:
                    break
                attempt_id = self.queue.claim(self.task_types, self.host_id)
                if attempt_id is None:
                    if until_empty:
                        break
                    time.sleep(idle)
                    idle = min(idle * 2, 0.5)
                    continue
                idle = 0.01
                self.execute(attempt_id)
                self.queue.done(attempt_id)
                self.attempts_run += 1
        finally:
            self.runner.close()
            self.queue.close()
            self.db.close()
        return self.attempts_run

    def heartbeat(self, attempt_id: int) -> None:
        """The attempt is alive (database) and so is our claim on it (the queue's connection:
        a broker that drops it would deliver the attempt again)."""
        self.db.run(lambda tx: attempts.heartbeat(tx, attempt_id, time.time()))
        self.queue.keepalive()

    def execute(self, attempt_id: int) -> bool:
        ctx = self.db.read(lambda tx: load_context(tx, attempt_id))
        if ctx.task_type in CONTROL_FLOW_TYPES:
            return self._run_control_flow(ctx)
        outcome = self.runner.run(ctx, lambda: self.heartbeat(attempt_id),
                                  self.heartbeat_interval)
        return record(self.db, ctx, outcome, self.output_dir)

    def _run_control_flow(self, ctx) -> bool:
        start, cpu = time.time(), time.process_time()

        def outcome(ok: bool, message: str, level: int) -> Outcome:
            spent = time.process_time() - cpu
            return Outcome(ok=ok, error_text=None if ok else message,
                           logs=[(time.time(), level, message)], wall=time.time() - start,
                           cpu=spent, cpu_children=spent)

        try:
            children = expand(ctx, Limits(self.settings.max_loop_iterations))
        except EasError as exc:
            return record(self.db, ctx, outcome(False, str(exc), logging.ERROR), self.output_dir)
        done = outcome(True, f"{ctx.task_type} registered {len(children)} task(s)", logging.INFO)
        try:
            return record(self.db, ctx, done, self.output_dir, children)
        except ChainError as exc:
            return record(self.db, ctx, outcome(False, str(exc), logging.ERROR), self.output_dir)


def serve(settings: Settings, container: str | None = None, until_empty: bool = False,
          task_types: list[str] | None = None) -> int:
    """Entry point for `eas worker` and the embedded runner's worker processes."""
    worker = Worker(settings, container=container, task_types=task_types,
                    daemon=not until_empty)
    return worker.run(until_empty=until_empty)
