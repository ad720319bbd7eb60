"""The scheduler's retry step: decide on each new failure by its task's retry policy, and queue
the retries whose backoff is over.

A failure asks for a decision (``attempts.finish`` and the stalled sweep set its ``retryAt``).
Each pass takes the failures due, and for each: nothing to do when the task has a newer
attempt or its job was cancelled; a retry when the policy counts that kind of failure and the
task has retries left — a new attempt, queued at once or waiting out its backoff; else the
task has failed for good. The decision is written to the failed attempt's log, so the errors
report tells every attempt's story.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from ..db import Tx
from ..model import attempts
from ..model.metadata import task_metadata
from ..tasks.registry import Registry
from ..tasks.retries import RetryPolicy, merged, policy_problem

log = logging.getLogger(__name__)


@dataclass
class Decisions:
    """What one retry step did: the retries it queued now (attempt rows, for staging), those
    waiting out a backoff (attempt ids), and the tasks given up on."""

    queued: list[attempts.Queued] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    given_up: list[int] = field(default_factory=list)


def task_policy(tx: Tx, registry: Registry, retry_limit: int, task_id: int,
                task_type: str) -> RetryPolicy:
    """The type's policy with the task's own ``retry`` fields over it."""
    base = registry.retry_policy(task_type, retry_limit)
    _, description = task_metadata(tx, task_id)
    own = description.get("retry") if isinstance(description, dict) else None
    if own is None:
        return base
    problem = policy_problem(own)
    if problem:  # validation refuses it at submission: only a hand-edited database has it
        log.warning("task %d: ignoring its retry field (%s)", task_id, problem)
        return base
    return merged(base, own)


def decide(tx: Tx, registry: Callable[[], Registry], retry_limit: int, now: float) -> Decisions:
    """Decide on every failure due and queue every retry due. The caller holds the scheduler
    lock; ``registry`` is called (once) only when there is a failure to decide on."""
    out = Decisions()
    due = attempts.failures_due(tx, now)
    open_ = [f for f in due if f["open"]]
    counts = attempts.failure_counts(tx, [f["task_id"] for f in open_]) if open_ else {}
    loaded = registry() if open_ else None
    for failure in open_:
        policy = task_policy(tx, loaded, retry_limit, failure["task_id"], failure["task_type"])
        failures = counts.get(failure["task_id"], 1)
        if not policy.retries(failure["kind"], failures):
            out.given_up.append(failure["task_id"])
            if failure["kind"] in policy.on:
                attempts.note(tx, [failure["attempt_id"]], logging.WARNING,
                              f"no more retries: {failures} failed attempts, at most "
                              f"{policy.max_retries} retries", now)
            continue
        wait = policy.delay(failures)
        at = (failure["end"] or now) + wait
        retry_id = attempts.plan_retry(tx, failure["task_id"], at)
        if at > now:
            out.waiting.append(retry_id)
        attempts.note(tx, [failure["attempt_id"]], logging.INFO,
                      f"retry {failures} of {policy.max_retries}: attempt {retry_id}"
                      + (f" after {wait:g} s" if wait > 0 else ""), now)
    attempts.decided(tx, [f["attempt_id"] for f in due])
    out.queued = attempts.queue_due_retries(tx, now)
    return out
