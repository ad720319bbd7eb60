"""Retry policies: when a failed attempt of a task gets another one, and after how long.

A policy has ``max_retries`` (how many more attempts a task may get after failures), ``on``
(which failures count: ``error`` — the task raised or failed its QC, ``time_limit``,
``stalled`` — no heartbeat), ``backoff`` (seconds before the first retry), ``backoff_factor``
(each further retry waits this many times longer) and ``max_backoff`` (no retry waits
longer). Each task type may have one in the registry; a task in a chain overrides any of its
fields with its own ``retry``. A type without one retries stalled attempts only, at most
``retry_limit`` times (a setting), at once — the behaviour before policies existed.

Each retry is a new attempt; a task's retries are counted by its failed attempts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

from ..defaults import (
    MAX_RETRIES,
    MAX_RETRY_BACKOFF,
    RETRY_BACKOFF,
    RETRY_BACKOFF_FACTOR,
    RETRY_LIMIT,
    RETRY_ON,
)
from ..model.attempts import FAILURE_KINDS

FIELDS = ("max_retries", "on", "backoff", "backoff_factor", "max_backoff")


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = RETRY_LIMIT
    on: tuple[str, ...] = RETRY_ON
    backoff: float = RETRY_BACKOFF
    backoff_factor: float = RETRY_BACKOFF_FACTOR
    max_backoff: float = MAX_RETRY_BACKOFF

    def retries(self, kind: str | None, failures: int) -> bool:
        """Whether a task whose latest attempt failed with ``kind``, after ``failures``
        failed attempts in all, gets another attempt."""
        return kind in self.on and failures - 1 < self.max_retries

    def delay(self, failures: int) -> float:
        """Seconds between the ``failures``-th failure and the retry that follows it."""
        if self.backoff <= 0:
            return 0.0
        try:
            wait = self.backoff * self.backoff_factor ** max(0, failures - 1)
        except OverflowError:
            wait = math.inf
        return min(wait, self.max_backoff)

    def public(self) -> dict[str, Any]:
        return {"max_retries": self.max_retries, "on": list(self.on), "backoff": self.backoff,
                "backoff_factor": self.backoff_factor, "max_backoff": self.max_backoff}


def default_policy(retry_limit: int = RETRY_LIMIT) -> RetryPolicy:
    return RetryPolicy(max_retries=retry_limit)


def policy_problem(given: Any) -> str | None:
    """Why ``given`` is not a retry policy (or part of one); None when it is."""
    if not isinstance(given, Mapping):
        return "retry must be a mapping of " + ", ".join(FIELDS)
    unknown = sorted(set(given) - set(FIELDS))
    if unknown:
        return f"retry has no field {', '.join(map(str, unknown))} (fields: {', '.join(FIELDS)})"
    for name in ("max_retries", "backoff", "backoff_factor", "max_backoff"):
        value = given.get(name)
        if name in given and (isinstance(value, bool) or not isinstance(value, (int, float))
                              or not math.isfinite(value)):
            return f"retry.{name} must be a number, not {value!r}"
    if "max_retries" in given and (not float(given["max_retries"]).is_integer()
                                   or not 0 <= given["max_retries"] <= MAX_RETRIES):
        return f"retry.max_retries must be a whole number from 0 to {MAX_RETRIES}"
    for name, low in (("backoff", 0), ("max_backoff", 0), ("backoff_factor", 1)):
        if name in given and given[name] < low:
            return f"retry.{name} must be at least {low}"
    on = given.get("on", [])
    if not isinstance(on, (list, tuple)) or any(kind not in FAILURE_KINDS for kind in on):
        return f"retry.on must be a list of {', '.join(FAILURE_KINDS)}"
    return None


def merged(base: RetryPolicy, given: Mapping[str, Any] | None) -> RetryPolicy:
    """``base`` with the fields ``given`` sets (checked with :func:`policy_problem` first)."""
    if not given:
        return base
    changes: dict[str, Any] = {}
    for name in FIELDS:
        if name in given:
            value = given[name]
            if name == "on":
                changes[name] = tuple(dict.fromkeys(value))
            elif name == "max_retries":
                changes[name] = int(value)
            else:
                changes[name] = float(value)
    return replace(base, **changes)
