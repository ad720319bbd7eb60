"""What every science task type needs from a task run: its settings, its input light curves
(with the metadata the task database holds for them), somewhere to write its outputs, and how
many threads it may use; and metadata the task database can store (finite numbers only)."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any, Iterable

from .formats import read_lightcurve, write_lightcurve
from .lightcurve import LightCurve


class TaskInputError(ValueError):
    """A task description this task type cannot run (missing input, bad spec value)."""


def setting(run, name: str, default: Any = None, kind: type = float) -> Any:
    """A top-level field of the task description (e.g. ``lc_duration``, ``cadence``)."""
    value = run.description.get(name, default)
    return None if value is None else convert(run.task_type, name, value, kind)


def convert(task_type: str, name: str, value: Any, kind: type) -> Any:
    try:
        if kind is bool:
            return value if isinstance(value, bool) else bool(float(value))
        return kind(value)
    except (TypeError, ValueError):
        raise TaskInputError(
            f"{task_type}: {name} must be a {kind.__name__}, not {value!r}") from None


def specs(run, known: dict[str, tuple[type, Any]], field: str = "specs") -> dict[str, Any]:
    """The ``specs`` object merged over the defaults in ``known`` (name -> (type, default)),
    each value converted; an unknown name is refused (a typo must not pass silently)."""
    given = run.description.get(field) or {}
    if not isinstance(given, dict):
        raise TaskInputError(f"{run.task_type}: {field} must be an object")
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise TaskInputError(f"{run.task_type}: unknown {field} key(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(known))}")
    out = {}
    for name, (kind, default) in known.items():
        value = given.get(name, default)
        out[name] = None if value is None else convert(run.task_type, name, value, kind)
    return out


def input_path(run, semantic_type: str) -> Path:
    try:
        return Path(run.inputs[semantic_type])
    except KeyError:
        raise TaskInputError(
            f"{run.task_type} needs an input {semantic_type!r} (task 'inputs')") from None


def output_path(run, semantic_type: str) -> Path:
    try:
        return Path(run.outputs[semantic_type])
    except KeyError:
        raise TaskInputError(
            f"{run.task_type} needs an output {semantic_type!r} (task 'outputs')") from None


def input_metadata(run, semantic_type: str) -> dict[str, Any]:
    """Metadata the task database holds for an input file (``run.input_metadata``)."""
    return dict(run.input_metadata.get(semantic_type) or {})


def read_input(run, semantic_type: str) -> LightCurve:
    """An input light curve; the database's metadata for the file overrides its header's."""
    lc = read_lightcurve(input_path(run, semantic_type))
    lc.metadata.update(input_metadata(run, semantic_type))
    return lc


def write_output(run, semantic_type: str, lc: LightCurve) -> Path:
    """Write an output light curve and hand its metadata to the control plane, which stores it
    with the file's version in the task database (``run.output_metadata``)."""
    path = write_lightcurve(lc, output_path(run, semantic_type))
    run.output_metadata[semantic_type] = finite(lc.metadata, run.log,
                                                f"output {semantic_type!r}")
    return path


def _finite(value: Any, path: str, found: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v, f"{path}.{k}" if path else str(k), found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", None) == 0:
        value = value.item()  # a numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        found.append(f"{path}={value!r}")
        return None
    return value


def finite(values: dict[str, Any], log: logging.Logger | None = None,
           what: str = "metadata") -> dict[str, Any]:
    """``values`` with every NaN or infinite number (numpy scalars included, at any depth)
    replaced by null, which the task database stores; a search with no signal, a prototype
    file's metadata, can hold them, and the control plane refuses them. Each replacement is
    logged as one warning."""
    found: list[str] = []
    clean = _finite(dict(values), "", found)
    if found and log is not None:
        log.warning("%s: non-finite %s recorded as null", what, ", ".join(found))
    return clean


def threads(run) -> int:
    """Threads a search may use: the CPUs assigned to the task's container (``run.cpus``),
    never more than this process may run on."""
    available = len(os.sched_getaffinity(0))
    assigned = run.cpus
    return max(1, min(available, int(assigned))) if assigned else available


def numbers_only(values: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The named items that are present (for propagating input metadata to results)."""
    return {name: values[name] for name in names if values.get(name) is not None}
