"""What a task implementation receives, and how implementations are found."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Callable

from ..errors import RegistryError

ENTRY_POINT_GROUP = "plato_eas.tasks"


@dataclass
class TaskRun:
    """One attempt as seen by a task implementation.

    ``description`` has every top-level expression already evaluated; ``inputs`` and
    ``outputs`` map semantic types to absolute paths inside the data directory. The callable
    returns its output metadata (a dict, or None)."""

    attempt_id: int
    task_id: int
    task_type: str
    description: dict[str, Any]
    metadata: dict[str, Any]
    requested_metadata: dict[str, dict[str, Any]]
    inputs: dict[str, Path]
    outputs: dict[str, Path]
    working_dir: Path
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("plato_eas.task"))


TaskFunction = Callable[[TaskRun], "dict[str, Any] | None"]


@lru_cache(maxsize=1)
def implementations() -> dict[str, TaskFunction | EntryPoint]:
    """Every registered task implementation by task type name, from the ``plato_eas.tasks``
    entry points (plato_eas registers its own test types there too). Entry points load
    lazily, so one broken science package cannot stop a worker that never runs its types."""
    found: dict[str, TaskFunction | EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)
    return found


def implementation(task_type: str) -> TaskFunction:
    fn = implementations().get(task_type)
    if fn is None:
        raise RegistryError(f"no implementation is installed for task type {task_type!r}")
    return fn.load() if isinstance(fn, EntryPoint) else fn


def default_qc(run: TaskRun) -> dict[str, bool]:
    """Every declared output exists and is non-empty."""
    return {sem: path.is_file() and path.stat().st_size > 0 for sem, path in run.outputs.items()}
