"""Run one attempt of a task implementation in a forked child process.

Forking (rather than starting a new interpreter) keeps the per-attempt cost to about a
millisecond while still isolating the worker from the task: a crash, a leaked thread or a
changed working directory dies with the child. The child never touches the database; it sends
its outcome (output metadata, captured log records, error) back through a pipe as JSON, and the
parent keeps sending heartbeats while it waits.
"""

from __future__ import annotations

import json
import logging
import os
import select
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..context import AttemptContext
from ..errors import EasError
from ..expressions import resolve
from ..tasks.api import TaskRun, default_qc, implementation


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


def _child_main(ctx: AttemptContext, output_dir: Path, fd: int) -> None:
    capture = _Capture()
    root = logging.getLogger()
    root.handlers[:] = [capture]
    root.setLevel(logging.INFO)
    payload: dict[str, Any] = {"ok": False}
    try:
        run = task_run(ctx, output_dir)
        run.working_dir.mkdir(parents=True, exist_ok=True)
        result = implementation(ctx.task_type)(run)
        if result is not None and not isinstance(result, dict):
            raise TypeError(f"task returned {type(result).__name__}, expected a dict or None")
        payload = {"ok": True, "metadata": result or {},
                   "qc": default_qc(run)}
    except EasError as exc:  # refused expression, unknown implementation: no traceback needed
        logging.getLogger("plato_eas.task").error("%s", exc)
        payload = {"ok": False, "error_text": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - the task's failure is data, not a crash
        logging.getLogger("plato_eas.task").error("task raised:\n%s", traceback.format_exc())
        payload = {"ok": False, "error_text": f"{type(exc).__name__}: {exc}"}
    payload["logs"] = capture.records
    payload["cpu"] = time.process_time()
    data = json.dumps(payload, default=str).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def run_in_child(ctx: AttemptContext, output_dir: Path, heartbeat: Callable[[], None],
                 interval: float) -> Outcome:
    read_fd, write_fd = os.pipe()
    start = time.time()
    pid = os.fork()
    if pid == 0:  # child
        status = 0
        try:
            os.close(read_fd)
            _child_main(ctx, output_dir, write_fd)
        except BaseException:  # noqa: BLE001
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    chunks = []
    next_beat = start + interval
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while True:
            ready, _, _ = select.select([pipe], [], [], max(0.0, next_beat - time.time()))
            if ready:
                chunk = pipe.read(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            if time.time() >= next_beat:
                heartbeat()
                next_beat = time.time() + interval
    _, status, usage = os.wait4(pid, 0)
    wall = time.time() - start
    cpu_children = usage.ru_utime + usage.ru_stime
    try:
        payload = json.loads(b"".join(chunks))
    except ValueError:
        reason = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                  else f"exited with status {os.waitstatus_to_exitcode(status)}")
        return Outcome(ok=False, error_text=f"task process {reason} before reporting",
                       wall=wall, cpu=cpu_children, cpu_children=cpu_children,
                       logs=[(time.time(), logging.ERROR, f"task process {reason}")])
    return Outcome(ok=payload["ok"], error_text=payload.get("error_text"),
                   metadata=payload.get("metadata", {}),
                   logs=[tuple(x) for x in payload.get("logs", [])],
                   qc=payload.get("qc", {}), wall=wall, cpu=payload.get("cpu", cpu_children),
                   cpu_children=cpu_children)
