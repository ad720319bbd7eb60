"""Run attempts in a child process of the worker.

The worker keeps one forked *task-runner* child and hands it one attempt at a time over a
pipe. The child never touches the database: it returns the outcome (output metadata, captured
log records, QC verdicts, CPU times; for a control-flow task, the children it expands into) and
the worker records it, sending heartbeats while it waits. Control-flow expansion runs here too,
under a memory limit, so a runaway expression fails its own task while the worker goes on
beating; registering the children stays in the worker's recording transaction.

The runner leads a process group of its own and dies with its worker (see ``lifeline``). An
attempt past its time limit, or one whose worker is told to stop, ends by killing that whole
group. A task that crashes, exits or is killed takes only the runner with it: the attempt is
recorded as failed and a fresh runner is forked. The runner is also replaced after any failed
attempt (its state may be damaged) and after ``RECYCLE_AFTER`` attempts.

Why not a new process per attempt: the prototype started a Python interpreter per task and
per QC check and managed a few tasks per second; even a bare fork per attempt costs several
milliseconds here (copy-on-write faults), a persistent runner about a tenth of that.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import pickle
import resource
import select
import signal
import struct
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import defaults
from ..chains.expand import expand
from ..chains.register import ChildSpec
from ..errors import EasError
from ..expressions import resolve
from ..model import attempts
from ..model.context import AttemptContext
from ..tasks.api import TaskRun
from ..tasks.invocation import invoke
from ..tasks.registry import CONTROL_FLOW_TYPES
from . import staging
from .lifeline import Guard, die_with_parent, kill_group

RECYCLE_AFTER = 500
_HEADER = struct.Struct("!I")


@dataclass
class Outcome:
    ok: bool
    error_text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    logs: list[tuple[float, int, str]] = field(default_factory=list)
    qc: dict[str, bool] = field(default_factory=dict)
    product_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    wall: float = 0.0
    cpu: float = 0.0
    cpu_children: float = 0.0
    children: list[ChildSpec] | None = None  # control-flow tasks: what to register
    failure_kind: str = attempts.ERROR  # when not ok: attempts.FAILURE_KINDS, for retries


def failure(message: str, wall: float = 0.0, kind: str = attempts.ERROR) -> Outcome:
    """A failed outcome (of ``kind``) whose log says why."""
    return Outcome(ok=False, error_text=message, wall=wall, failure_kind=kind,
                   logs=[(time.time(), logging.ERROR, message)])


class Stopped(Exception):
    """The worker was told to stop while an attempt ran: the runner is gone, nothing recorded."""


class Withdrawn(Exception):
    """The attempt stopped being ours while it ran (its job was cancelled, or the scheduler
    declared it stalled): the runner is gone, nothing recorded."""


class _LimitExceeded(EasError):
    pass


class _Capture(logging.Handler):
    """Collects the task's log records (tracebacks included) for eas_log_messages."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[float, int, str]] = []
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.created, record.levelno, self.format(record)))


_CAPTURE: list[_Capture] = []


def _capture() -> _Capture:
    """The runner's one capture handler, emptied (making a handler per attempt costs more
    than a ``null`` task)."""
    if not _CAPTURE:
        _CAPTURE.append(_Capture())
    _CAPTURE[0].records = []
    return _CAPTURE[0]


def task_run(ctx: AttemptContext, output_dir: Path, input_dir: Path | None = None) -> TaskRun:
    """The task's view of the attempt; its outputs go to the attempt's staging folder."""
    description = resolve(ctx.description, ctx.metadata, ctx.requested_metadata)
    outputs = staging.prepare(output_dir, ctx.attempt_id, ctx.working_directory, ctx.outputs)
    return TaskRun(
        attempt_id=ctx.attempt_id, task_id=ctx.task_id, task_type=ctx.task_type,
        description=description, metadata=ctx.metadata,
        requested_metadata=ctx.requested_metadata,
        inputs=staging.input_paths(output_dir, ctx.inputs),
        outputs=outputs, working_dir=output_dir / ctx.working_directory,
        input_metadata=ctx.input_metadata, cpus=ctx.cpus, input_dir=input_dir)


@contextmanager
def _address_space_limit(megabytes: int) -> Iterator[None]:
    """Lower the soft address-space limit to what is in use now plus ``megabytes`` (an
    allocation beyond it raises MemoryError), and put it back afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        with open("/proc/self/statm") as fh:
            used = int(fh.read().split()[0]) * resource.getpagesize()
    except OSError:  # not Linux: no limit
        yield
        return
    limit = used + megabytes * 2**20
    for bound in (soft, hard):
        if bound != resource.RLIM_INFINITY:
            limit = min(limit, bound)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


Expander = Callable[[AttemptContext], "list[ChildSpec]"]


def _expand(ctx: AttemptContext, expander: Expander) -> Outcome:
    megabytes = defaults.EXPANSION_MEMORY_MB
    try:
        with _address_space_limit(megabytes):
            children = expander(ctx)
    except MemoryError:
        raise _LimitExceeded(f"{ctx.task_type} expansion exceeded its memory limit of "
                             f"{megabytes} MiB") from None
    message = f"{ctx.task_type} expanded into {len(children)} task(s)"
    logging.getLogger("plato_eas.task").info("%s", message)
    return Outcome(ok=True, children=children)


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_s = own.ru_utime + own.ru_stime
    return own_s, own_s + kids.ru_utime + kids.ru_stime


def execute(ctx: AttemptContext, output_dir: Path, expander: Expander = expand,
            input_dir: Path | None = None) -> Outcome:
    """Run one attempt here and now (in the runner process)."""
    capture = _capture()
    root = logging.getLogger()
    root.handlers[:] = [capture]
    root.setLevel(logging.INFO)
    start, (cpu0, all0) = time.time(), _cpu()
    outcome = Outcome(ok=False)
    try:
        if ctx.task_type in CONTROL_FLOW_TYPES:
            outcome = _expand(ctx, expander)
        else:
            result = invoke(task_run(ctx, output_dir, input_dir))
            outcome = Outcome(ok=True, metadata=result.metadata, qc=result.qc,
                              product_metadata=result.file_metadata)
    except EasError as exc:  # refused expression, path, limit, missing implementation
        logging.getLogger("plato_eas.task").error("%s", exc)
        outcome.error_text = str(exc)
    except Exception as exc:  # noqa: BLE001 - the task's failure is data, not a crash
        logging.getLogger("plato_eas.task").error("task raised:\n%s", traceback.format_exc())
        outcome.error_text = f"{type(exc).__name__}: {exc}"
    cpu1, all1 = _cpu()
    outcome.logs = capture.records
    outcome.wall, outcome.cpu, outcome.cpu_children = time.time() - start, cpu1 - cpu0, all1 - all0
    return outcome


def _packed(outcome: Outcome) -> bytes:
    """The outcome for the pipe; one that cannot be pickled becomes a failure saying why."""
    try:
        return pickle.dumps(outcome)
    except Exception as exc:  # noqa: BLE001 - whatever a task returned
        message = (f"the task's result cannot be passed to the worker: "
                   f"{type(exc).__name__}: {exc}")
        failed = failure(message, outcome.wall)
        failed.logs = [*outcome.logs, *failed.logs]
        failed.cpu, failed.cpu_children = outcome.cpu, outcome.cpu_children
        return pickle.dumps(failed)


def _send(fd: int, data: bytes) -> None:
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


def _runner_main(requests: int, replies: int, output_dir: Path, expander: Expander,
                 input_dir: Path | None) -> None:
    gc.enable()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        ctx = _recv(requests)
        if ctx is None:
            return
        _send(replies, _packed(execute(ctx, output_dir, expander, input_dir)))


class TaskRunner:
    """The worker's side of the task-runner child. ``expander`` turns a control-flow attempt
    into its children; ``wake_fd`` becomes readable when the worker is told to stop: a
    running attempt is then abandoned (:class:`Stopped`); ``input_dir`` is where tasks read
    external data (ingest)."""

    def __init__(self, output_dir: Path, expander: Expander = expand,
                 wake_fd: int | None = None, input_dir: Path | None = None):
        self.output_dir = output_dir
        self.expander = expander
        self.wake_fd = wake_fd
        self.input_dir = input_dir
        self.pid: int | None = None
        self.served = 0
        self.guard = Guard()

    def _start(self) -> None:
        self.guard.start()
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        worker = os.getpid()
        gc.freeze()  # keep the fork's pages shared: no collection walks the inherited heap
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                os.setpgid(0, 0)
                die_with_parent(worker)
                os.close(self.guard.fd)  # only the worker may hold the guard's pipe
                os.close(req_w)
                os.close(rep_r)
                _runner_main(req_r, rep_w, self.output_dir, self.expander, self.input_dir)
            except BaseException:  # noqa: BLE001
                status = 1
            finally:
                os._exit(status)
        gc.unfreeze()
        try:
            os.setpgid(pid, pid)  # as the child does: whichever runs first
        except OSError:
            pass
        self.guard.watch(pid)
        os.close(req_r)
        os.close(rep_w)
        self.pid, self.requests, self.replies, self.served = pid, req_w, rep_r, 0

    def _end(self) -> str | None:
        """Kill the runner's process group and reap the runner; returns how the runner had
        ended when it died on its own before."""
        if self.pid is None:
            return None
        kill_group(self.pid)
        os.close(self.requests)
        os.close(self.replies)
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        self.guard.watch(0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) != signal.SIGKILL:
            return f"killed by signal {os.WTERMSIG(status)}"
        if os.WIFEXITED(status) and os.WEXITSTATUS(status):
            return f"exited with status {os.WEXITSTATUS(status)}"
        return None

    def _hand_over(self, ctx: AttemptContext) -> None:
        data = pickle.dumps(ctx)
        if self.pid is None:
            self._start()
        try:
            _send(self.requests, data)
        except BrokenPipeError:  # the idle runner was killed from outside: a fresh one
            self._end()
            self._start()
            _send(self.requests, data)

    def run(self, ctx: AttemptContext, heartbeat: Callable[[], bool], interval: float,
            time_limit: float | None = None) -> Outcome:
        """The attempt's outcome; calls ``heartbeat`` every ``interval`` s while it runs. Past
        ``time_limit`` seconds the runner's group is killed and the attempt failed; when
        ``heartbeat`` says the attempt is no longer ours, the group is killed and
        :class:`Withdrawn` raised."""
        start = time.time()
        self._hand_over(ctx)
        next_beat = start + interval
        deadline = math.inf if time_limit is None else start + time_limit
        watched = [self.replies] + ([self.wake_fd] if self.wake_fd is not None else [])
        while True:
            now = time.time()
            if now >= deadline:
                self._end()
                return failure(f"time limit of {time_limit:g} s exceeded", now - start,
                               attempts.TIME_LIMIT)
            ready, _, _ = select.select(watched, [], [], max(0.0, min(next_beat, deadline) - now))
            if self.replies in ready:
                break
            if ready:
                self._end()
                raise Stopped
            if time.time() >= next_beat:
                if not heartbeat():
                    self._end()
                    raise Withdrawn
                next_beat = time.time() + interval
        outcome = _recv(self.replies)
        self.served += 1
        if outcome is None:  # the task took the runner down with it
            reason = self._end() or "ended"
            return failure(f"task process {reason} before reporting", time.time() - start)
        if not outcome.ok or self.served >= RECYCLE_AFTER:
            self._end()
        return outcome

    def close(self) -> None:
        self._end()
        self.guard.close()
