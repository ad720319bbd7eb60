"""What a task implementation receives, how implementations are found, and the fields a task
type declares for its task descriptions."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import Any, Callable

from ..errors import RegistryError

ENTRY_POINT_GROUP = "plato_eas.tasks"
FIELDS_ENTRY_POINT_GROUP = "plato_eas.task_fields"


@dataclass
class TaskRun:
    """One attempt as seen by a task implementation.

    ``description`` has every top-level expression already evaluated; ``inputs`` and
    ``outputs`` map semantic types to absolute paths inside the data directory;
    ``input_metadata`` maps each input's semantic type to the metadata the task database holds
    for that file; a task puts the metadata of each file it writes into ``output_metadata``
    (semantic type -> dict), stored with the file's version. ``cpus`` is the number of CPUs
    the registry assigns to the task's container (the most threads it should use), and
    ``input_dir`` the root of the input data directory (external files to ingest). The
    callable returns its output metadata (a dict, or None)."""

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
    input_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    output_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    cpus: int | None = None
    input_dir: Path | None = None


TaskFunction = Callable[[TaskRun], "dict[str, Any] | None"]
# A QC callable: (run, output metadata) -> (pass/fail per declared output, metadata to add).
QcFunction = Callable[[TaskRun, dict], "tuple[dict[str, bool], dict[str, Any]]"]


def _extra_installed(ep: EntryPoint) -> bool:
    """An entry point declared with ``[extra]`` counts only when that extra's requirements are
    installed (the science types ship in this distribution behind the ``science`` extra)."""
    if not ep.extras or ep.dist is None:
        return True
    for requirement in ep.dist.requires or []:
        name, _, marker = requirement.partition(";")
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        if extra is None or extra.group(1) not in ep.extras:
            continue
        package = re.match(r"\s*([A-Za-z0-9._-]+)", name)
        try:
            version(package.group(1) if package else name)
        except PackageNotFoundError:
            return False
    return True


@lru_cache(maxsize=1)
def implementations() -> dict[str, TaskFunction | EntryPoint]:
    """Every installed task implementation by task type name, from the ``plato_eas.tasks``
    entry points (plato_eas registers its own test types there too). Entry points load
    lazily, so one broken science package cannot stop a worker that never runs its types."""
    found: dict[str, TaskFunction | EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if _extra_installed(ep):
            found.setdefault(ep.name, ep)
    return found


def implementation(task_type: str) -> TaskFunction:
    """The task type's function, its entry point loaded on first use and kept (loading one
    costs more than running a ``null`` task); a load that fails is tried again next time."""
    found = implementations()
    fn = found.get(task_type)
    if fn is None:
        raise RegistryError(f"no implementation is installed for task type {task_type!r}")
    if isinstance(fn, EntryPoint):
        fn = found[task_type] = fn.load()
    return fn


def default_qc(run: TaskRun, metadata: dict | None = None) -> tuple[dict[str, bool], dict]:
    """Every declared output exists and is non-empty."""
    return {sem: path.is_file() and path.stat().st_size > 0
            for sem, path in run.outputs.items()}, {}


def qc_for(fn: TaskFunction) -> QcFunction:
    """The QC callable a task type ships next to its implementation (its ``qc`` attribute),
    else the default."""
    return getattr(fn, "qc", None) or default_qc


# --- the fields a task type declares -----------------------------------------------------

TaskFields = dict[str, Any]


@lru_cache(maxsize=1)
def _field_declarations() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=FIELDS_ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)
    return found


@cache
def task_fields(task_type: str) -> TaskFields | None:
    """The fields a task type declares for its descriptions, beyond the common ones (``task``,
    ``name``, ``inputs``, ``outputs``, ``job_name``, ``working_directory``,
    ``requires_metadata_from``, ``requires_metadata_from_child``, ``specs``): a dict of field
    name -> JSON schema (draft 2020-12) of its value, or None when the type declares nothing.

    A package declares them with an entry point in the ``plato_eas.task_fields`` group, named
    after the task type, naming a dict::

        [project.entry-points."plato_eas.task_fields"]
        synthesis_batman = "my_science.fields:SYNTHESIS_BATMAN"

        # my_science/fields.py: imports nothing heavy (the control plane loads it at submit)
        SYNTHESIS_BATMAN = {
            "specs": {"type": "object", "additionalProperties": False, "properties": {
                "duration": {"type": "number", "exclusiveMinimum": 0}, ...}},
            "lc_duration": {"type": "number"},
        }

    Submission then refuses any other field of that type's tasks (with a "did you mean"
    suggestion) and checks each declared field's value against its schema; a value given as
    an expression is checked once evaluated, not at submission. A type that declares nothing
    (or whose package is not installed where the chain is submitted) keeps free-form fields.
    """
    ep = _field_declarations().get(task_type)
    if ep is None:
        return None
    try:
        fields = ep.load()
    except Exception as exc:  # noqa: BLE001 - a broken declaration is the package's error
        raise RegistryError(f"the field declaration of task type {task_type!r} "
                            f"({ep.value}) cannot be loaded: {exc!r}") from None
    if not isinstance(fields, dict) or not all(
            isinstance(k, str) and isinstance(v, (dict, bool)) for k, v in fields.items()):
        raise RegistryError(f"the field declaration of task type {task_type!r} ({ep.value}) "
                            "must be a dict of field name -> JSON schema")
    return fields
