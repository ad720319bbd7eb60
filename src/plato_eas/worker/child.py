"""Run attempts of task implementations in a child process of the worker.

The worker keeps one forked *task-runner* child and hands it one attempt at a time over a
pipe. The child never touches the database: it returns the outcome (output metadata, captured
log records, QC verdicts, CPU times) and the worker records it, sending heartbeats while it
waits. A task that crashes, exits or is killed takes only the runner with it: the attempt is
recorded as failed and a fresh runner is forked. The runner is also replaced after any failed
attempt (its state may be damaged) and after ``RECYCLE_AFTER`` attempts.

Why not a new process per attempt: the prototype started a Python interpreter per task and
per QC check and managed a few tasks per second; even a bare fork per attempt costs several
milliseconds here (copy-on-write faults), a persistent runner about a tenth of that.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import resource
import select
import signal
import struct
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import EasError
from ..expressions import resolve
from ..model.context import AttemptContext
from ..model.metadata import check_metadata
from ..tasks.api import TaskRun, default_qc, implementation

RECYCLE_AFTER = 500
_HEADER = struct.Struct("!I")


@dataclass
class Outcome:
    ok: bool
    error_text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    logs: list[tuple[float, int, str]] = field(default_factory=list)
    qc: dict[str, bool] = field(default_factory=dict)
    wall: float = 0.0
    cpu: float = 0.0
    cpu_children: float = 0.0


class _Capture(logging.Handler):
    """Collects the task's log records (tracebacks included) for eas_log_messages."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[float, int, str]] = []
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.created, record.levelno, self.format(record)))


def task_run(ctx: AttemptContext, output_dir: Path) -> TaskRun:
    description = resolve(ctx.description, ctx.metadata, ctx.requested_metadata)
    return TaskRun(
        attempt_id=ctx.attempt_id, task_id=ctx.task_id, task_type=ctx.task_type,
        description=description, metadata=ctx.metadata,
        requested_metadata=ctx.requested_metadata,
        inputs={s: output_dir / p for s, p in ctx.inputs.items()},
        outputs={s: output_dir / p for s, p in ctx.outputs.items()},
        working_dir=output_dir / ctx.working_directory)


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_s = own.ru_utime + own.ru_stime
    return own_s, own_s + kids.ru_utime + kids.ru_stime


def execute(ctx: AttemptContext, output_dir: Path) -> Outcome:
    """Run one attempt here and now (in the runner process)."""
    capture = _Capture()
    root = logging.getLogger()
    root.handlers[:] = [capture]
    root.setLevel(logging.INFO)
    start, (cpu0, all0) = time.time(), _cpu()
    outcome = Outcome(ok=False)
    try:
        run = task_run(ctx, output_dir)
        run.working_dir.mkdir(parents=True, exist_ok=True)
        result = implementation(ctx.task_type)(run)
        metadata = check_metadata(result or {}, "the task's output metadata")
        outcome = Outcome(ok=True, metadata=metadata, qc=default_qc(run))
    except EasError as exc:  # refused expression, missing implementation: no traceback needed
        logging.getLogger("plato_eas.task").error("%s", exc)
        outcome.error_text = str(exc)
    except Exception as exc:  # noqa: BLE001 - the task's failure is data, not a crash
        logging.getLogger("plato_eas.task").error("task raised:\n%s", traceback.format_exc())
        outcome.error_text = f"{type(exc).__name__}: {exc}"
    cpu1, all1 = _cpu()
    outcome.logs = capture.records
    outcome.wall, outcome.cpu, outcome.cpu_children = time.time() - start, cpu1 - cpu0, all1 - all0
    return outcome


def _send(fd: int, obj: Any) -> None:
    data = pickle.dumps(obj)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _recv_exact(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _recv(fd: int) -> Any:
    header = _recv_exact(fd, _HEADER.size)
    if header is None:
        return None
    body = _recv_exact(fd, _HEADER.unpack(header)[0])
    return None if body is None else pickle.loads(body)  # noqa: S301 - our own child


def _runner_main(requests: int, replies: int, output_dir: Path) -> None:
    gc.enable()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        ctx = _recv(requests)
        if ctx is None:
            return
        _send(replies, execute(ctx, output_dir))


class TaskRunner:
    """The worker's side of the task-runner child."""

    def __init__(self, output_dir: Path):
        self.output_dir = output_dir
        self.pid: int | None = None
        self.served = 0

    def _start(self) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        gc.freeze()  # keep the fork's pages shared: no collection walks the inherited heap
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                os.close(req_w)
                os.close(rep_r)
                _runner_main(req_r, rep_w, self.output_dir)
            except BaseException:  # noqa: BLE001
                status = 1
            finally:
                os._exit(status)
        gc.unfreeze()
        os.close(req_r)
        os.close(rep_w)
        self.pid, self.requests, self.replies, self.served = pid, req_w, rep_r, 0

    def stop(self) -> str | None:
        """End the runner; returns how it ended when it had died on its own."""
        if self.pid is None:
            return None
        os.close(self.requests)
        os.close(self.replies)
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) != signal.SIGTERM:
            return f"killed by signal {os.WTERMSIG(status)}"
        if os.WIFEXITED(status) and os.WEXITSTATUS(status):
            return f"exited with status {os.WEXITSTATUS(status)}"
        return None

    def run(self, ctx: AttemptContext, heartbeat: Callable[[], None],
            interval: float) -> Outcome:
        if self.pid is None:
            self._start()
        start = time.time()
        _send(self.requests, ctx)
        next_beat = start + interval
        while True:
            ready, _, _ = select.select([self.replies], [], [],
                                        max(0.0, next_beat - time.time()))
            if ready:
                break
            heartbeat()
            next_beat = time.time() + interval
        outcome = _recv(self.replies)
        self.served += 1
        if outcome is None:  # the task took the runner down with it
            reason = self.stop() or "ended"
            message = f"task process {reason} before reporting"
            return Outcome(ok=False, error_text=message, wall=time.time() - start,
                           logs=[(time.time(), logging.ERROR, message)])
        if not outcome.ok or self.served >= RECYCLE_AFTER:
            self.close()
        return outcome

    def close(self) -> None:
        if self.pid is not None:
            os.kill(self.pid, signal.SIGTERM)
            self.stop()
