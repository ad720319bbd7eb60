"""Record a finished attempt: one transaction that closes the attempt, imports its output
files as product versions (MD5, size, QC), stores its log records and output metadata, and —
for control-flow tasks — registers the children it expanded into.

Closing the attempt (``attempts.finish``) is conditional on it still being ours (running,
unfinished): if the scheduler declared it stalled meanwhile and re-queued the task, this late
result is discarded rather than recorded twice.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from pathlib import Path

from ..chains.register import ChildSpec, register_children
from ..db import Database, Tx
from ..model import attempts
from ..model.context import AttemptContext
from ..model.metadata import write_items
from .child import Outcome


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
    rows = []
    for sem, rel in ctx.outputs.items():
        facts = _file_facts(output_dir / rel)
        if facts is None:
            continue
        md5, size, created, modified = facts
        passed = bool(outcome.ok and outcome.qc.get(sem, False))
        rows.append((ctx.output_products[sem], ctx.attempt_id, uuid.uuid4().hex, created,
                     modified, md5, size, passed))
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


def record(db: Database, ctx: AttemptContext, outcome: Outcome, output_dir: Path,
           children: list[ChildSpec] | None = None) -> bool:
    """Store the outcome; returns False when the attempt was no longer ours."""
    passed, error_text = _judge(ctx, outcome)
    if error_text and outcome.ok:
        outcome.logs.append((time.time(), logging.ERROR, error_text))
    versions = _versions(ctx, outcome, output_dir)

    def unit(tx: Tx) -> bool:
        if not attempts.finish(tx, ctx.attempt_id, passed, error_text, outcome.wall,
                               outcome.cpu, outcome.cpu_children, time.time()):
            return False
        if children and passed and not _has_children(tx, ctx.task_id):
            register_children(tx, ctx.task_id, children)
        tx.executemany(
            "INSERT INTO eas_product_version (productId, generatedByTaskExecution, repositoryId, "
            "createdTime, modifiedTime, fileMD5, fileSize, passedQc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", versions)
        tx.executemany(
            "INSERT INTO eas_log_messages (generatedByTaskExecution, timestamp, severity, "
            "message) VALUES (?, ?, ?, ?)",
            [(ctx.attempt_id, ts, level, msg) for ts, level, msg in outcome.logs])
        if outcome.metadata:
            write_items(tx, "schedulingAttemptId", [(ctx.attempt_id, outcome.metadata)])
        return True

    return db.run(unit)


def _has_children(tx: Tx, task_id: int) -> bool:
    """A re-run of a control-flow task whose earlier expansion committed must not repeat it."""
    return tx.scalar("SELECT 1 FROM eas_task WHERE parentTask = ? LIMIT 1", (task_id,)) is not None
