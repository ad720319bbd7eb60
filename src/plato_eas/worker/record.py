"""Record a finished attempt: one transaction that closes the attempt, moves its output files
into place and imports them as product versions (MD5, size, QC), stores its log records and
output metadata, and — for control-flow tasks — registers the children it expanded into
and queues those ready to run (no scheduling pass in between).

Closing the attempt (``attempts.finish``) is conditional on it still being ours (running,
unfinished), and the files move only after it, inside the same transaction: if the scheduler
declared the attempt stalled meanwhile and re-queued the task, this late result is discarded,
files included, rather than recorded twice or written over the recorded one.

Anything that goes wrong while recording — a value the database cannot hold, a child it
refuses, an error nobody predicted — fails that attempt alone, with the reason in its log
(the errors report), and the worker goes on.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from pathlib import Path
from typing import Callable

from ..chains.register import ChildSpec, register_children, register_families
from ..db import Database, Tx
from ..errors import ChainError, EasError
from ..model import attempts, checks
from ..model.context import AttemptContext
from ..model.metadata import write_items
from ..queues.base import JobQueue
from ..scheduling.scheduler import queue_marked
from . import staging
from .child import Outcome

log = logging.getLogger(__name__)

MAX_REASON = 2000  # characters of an exception kept in the failure's log line

_LOG = ("INSERT INTO eas_log_messages (generatedByTaskExecution, timestamp, severity, "
        "message) VALUES (?, ?, ?, ?)")


def _file_facts(path: Path) -> tuple[str, int, float, float] | None:
    try:
        stat = path.stat()
        digest = hashlib.md5(usedforsecurity=False)
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest(), stat.st_size, stat.st_ctime, stat.st_mtime


def _versions(ctx: AttemptContext, outcome: Outcome, output_dir: Path) -> list[tuple]:
    """(semantic type, row) of each output file written."""
    rows = []
    for sem, rel in ctx.outputs.items():
        facts = _file_facts(staging.staged_path(output_dir, ctx.attempt_id, sem, rel))
        if facts is None:
            continue
        md5, size, created, modified = facts
        passed = bool(outcome.ok and outcome.qc.get(sem, False))
        rows.append((sem, (ctx.output_products[sem], ctx.attempt_id, uuid.uuid4().hex, created,
                           modified, md5, size, passed)))
    return rows


def _judge(ctx: AttemptContext, outcome: Outcome) -> tuple[bool, str | None]:
    """(all products passed QC, error text) — a task that ran but left a declared output
    missing or empty has failed."""
    if not outcome.ok:
        return False, outcome.error_text or "task failed"
    bad = sorted(sem for sem in ctx.outputs if not outcome.qc.get(sem, False))
    if bad:
        return False, f"QC failed for output(s): {', '.join(bad)}"
    return True, None


def describe(exc: BaseException) -> str:
    """One storable line about ``exc``: bounded, and valid UTF-8 whatever it contained."""
    text = str(exc) if isinstance(exc, EasError) else f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())[:MAX_REASON]
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


Following = Callable[[Tx], "int | None"]


def record(db: Database, ctx: AttemptContext, outcome: Outcome, output_dir: Path,
           queue: JobQueue | None = None, following: Following | None = None,
           claimed: list[int] | None = None) -> bool:
    """Store the outcome and (given the ``queue``) queue the tasks it made ready; returns
    False when the attempt was no longer ours (or could not be recorded at all). Given
    ``following`` (claim the worker's next attempt), it runs in the same transaction and,
    once that committed, the attempt it claimed is appended to ``claimed``."""
    try:
        return _store(db, ctx, outcome, output_dir, queue, following, claimed)
    except Exception as exc:  # noqa: BLE001 - one attempt fails, never the worker
        reason = f"recording the result failed: {describe(exc)}"
        log.error("attempt %d: %s", ctx.attempt_id, reason)
        return fail(db, ctx.attempt_id, reason, outcome)
    finally:
        if ctx.outputs:  # without outputs the attempt has no staged files
            staging.discard(output_dir, ctx.attempt_id)


def _store(db: Database, ctx: AttemptContext, outcome: Outcome, output_dir: Path,
           queue: JobQueue | None, following: Following | None,
           claimed: list[int] | None) -> bool:
    passed, error_text = _judge(ctx, outcome)
    if error_text and outcome.ok:
        outcome.logs.append((time.time(), logging.ERROR, error_text))
    versions = _versions(ctx, outcome, output_dir)
    children = outcome.children
    queued: list[attempts.Queued] = []
    taken: list[int] = []

    def unit(tx: Tx) -> bool:
        queued.clear()
        taken.clear()
        if not attempts.finish(tx, ctx.attempt_id, passed, error_text, outcome.wall,
                               outcome.cpu, outcome.cpu_children, time.time(),
                               outcome.failure_kind, ctx.task_id, mark_readers=False):
            return False
        expanded: list[int] = []
        if children and passed and not _has_children(tx, ctx.task_id):
            expanded = register_children(tx, ctx.task_id, children)  # marked for a check
            expanded += _register_bodies(tx, ctx.attempt_id, expanded, children)
        file_metadata = []
        for sem, row in versions:
            version_id = tx.insert(
                "INSERT INTO eas_product_version (productId, generatedByTaskExecution, "
                "repositoryId, createdTime, modifiedTime, fileMD5, fileSize, passedQc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            if outcome.product_metadata.get(sem):
                file_metadata.append((version_id, outcome.product_metadata[sem]))
        write_items(tx, "productVersionId", file_metadata)
        tx.executemany(_LOG, [(ctx.attempt_id, ts, level, msg) for ts, level, msg in outcome.logs])
        if outcome.metadata:
            write_items(tx, "schedulingAttemptId", [(ctx.attempt_id, outcome.metadata)])
        # Last, as they take the scheduler lock: the readers of this task's results.
        readers = checks.mark_consumers(tx, ctx.task_id)
        if queue is not None:  # what this result made ready runs now, not at the next pass
            ready = [*readers, *expanded]  # readers and children
            queued.extend(queue_marked(tx, queue, ready, time.time()))
        nxt = following(tx) if following is not None else None
        if nxt is not None:
            taken.append(nxt)
        staging.publish(output_dir, ctx.attempt_id, ctx.outputs)  # last: the attempt is ours
        return True

    stored = db.run(unit)
    if claimed is not None:
        claimed.extend(taken)
    if queued and queue is not None:
        _publish(queue)
    return stored


def _publish(queue: JobQueue) -> None:
    """Send what the recording transaction staged (AMQP); if the broker is away, the next
    scheduling pass sends it."""
    try:
        queue.publish()
    except EasError as exc:
        log.warning("could not publish the attempts made ready: %s", exc)


def fail(db: Database, attempt_id: int, reason: str, outcome: Outcome | None = None) -> bool:
    """Close a running attempt as failed with ``reason`` in its log (after the task's own log
    records, when those can still be stored); False when it was no longer ours or even this
    could not be written (it is then swept as stalled)."""
    spent = outcome or Outcome(ok=False)
    now = time.time()
    for logs in (spent.logs, []):
        lines = [*logs, (now, logging.ERROR, reason)]

        def unit(tx: Tx, lines=lines) -> bool:
            if not attempts.finish(tx, attempt_id, False, reason, spent.wall, spent.cpu,
                                   spent.cpu_children, now):
                return False
            tx.executemany(_LOG, [(attempt_id, ts, level, msg) for ts, level, msg in lines])
            return True

        try:
            return db.run(unit)
        except Exception as exc:  # noqa: BLE001 - try once more with the reason alone
            log.error("attempt %d: could not record its failure: %s", attempt_id, describe(exc))
    return False


def _register_bodies(tx: Tx, attempt_id: int, task_ids: list[int],
                     children: list[ChildSpec]) -> list[int]:
    """The children of the loop bodies expanded with their loop (``chains/expand.py``),
    registered under their bodies, whose attempts are recorded done (on the loop's host, at
    once); returns the new task ids. When the database refuses any of them, none is kept
    (a savepoint): every body is then queued and expands in an attempt of its own, as it
    would have, and the one refused fails alone."""
    done = [(task_id, spec.body) for task_id, spec in zip(task_ids, children, strict=True)
            if spec.body is not None]
    if not done:
        return []
    tx.execute("SAVEPOINT loop_bodies")
    try:
        registered = [i for ids in register_families(
            tx, [(task_id, body.children) for task_id, body in done]) for i in ids]
    except (ChainError, *tx.dialect.driver_errors) as exc:
        if isinstance(exc, tx.dialect.driver_errors) and (
                tx.dialect.is_retryable(exc) or tx.dialect.is_disconnect(exc)):
            raise  # the whole transaction is retried
        tx.execute("ROLLBACK TO SAVEPOINT loop_bodies")
        return []
    tx.execute("RELEASE SAVEPOINT loop_bodies")
    attempts.record_expanded(tx, attempt_id, [
        (task_id, body.wall, body.cpu,
         f"plato_eas.task: execution_chain expanded into {len(body.children)} task(s) "
         f"with its loop (attempt {attempt_id})") for task_id, body in done], time.time())
    return registered


def _has_children(tx: Tx, task_id: int) -> bool:
    """A re-run of a control-flow task whose earlier expansion committed must not repeat it."""
    return tx.scalar("SELECT 1 FROM eas_task WHERE parentTask = ? LIMIT 1", (task_id,)) is not None
