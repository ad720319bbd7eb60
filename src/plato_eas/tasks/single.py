"""Run one task type outside any chain, for science developers (``eas task run``): in a
scratch directory, with no database or queue, printing its outputs, metadata and QC — the
prototype's stand-alone launcher with its test task configurations."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError, RegistryError
from ..expressions import resolve
from ..settings import Settings
from .api import TaskRun
from .availability import missing_implementation
from .invocation import invoke
from .registry import load_registry


def load_spec(path: str | None) -> dict[str, Any]:
    """The task's description fields (``specs``, ``lc_duration``, ``outputs``…) from JSON."""
    if not path:
        return {}
    try:
        spec = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read spec file {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"spec file {path} is not valid JSON: {exc}") from None
    if not isinstance(spec, dict):
        raise ConfigError(f"spec file {path} must hold a JSON object (the task's fields)")
    return spec


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise ConfigError(f"--{what} must look like NAME=PATH, not {item!r}")
        out[name] = value
    return out


def _cpus(settings: Settings | None, task_type: str) -> int | None:
    registry = load_registry(settings)
    sizes = [registry.container(c).cpu for c in registry.containers_for(task_type)]
    return max(1, int(min(sizes))) if sizes else None


def run_task(task_type: str, spec: dict[str, Any], inputs: list[str] | None = None,
             outputs: list[str] | None = None, workdir: str | None = None,
             settings: Settings | None = None) -> dict[str, Any]:
    registry = load_registry(settings)
    if task_type not in registry.task_types:
        raise RegistryError(f"unknown task type {task_type!r}")
    reason = missing_implementation(task_type, registry)
    if reason:
        raise RegistryError(reason)
    scratch = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="eas-task-"))
    scratch.mkdir(parents=True, exist_ok=True)
    input_paths = {}
    for sem, src in _pairs(inputs, "input").items():
        source = Path(src)
        if not source.is_file():
            raise ConfigError(f"input {sem}: no such file {src}")
        input_paths[sem] = scratch / "inputs" / source.name
        input_paths[sem].parent.mkdir(exist_ok=True)
        shutil.copyfile(source, input_paths[sem])
        cfg = source.with_name(source.name + ".metadata.cfg")  # the prototype's metadata
        if cfg.is_file():
            shutil.copyfile(cfg, input_paths[sem].with_name(cfg.name))
    description = resolve({"task": task_type, **spec}, {}, {})
    declared = {**(description.pop("outputs", None) or {}), **_pairs(outputs, "output")}
    for sem, name in declared.items():
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ConfigError(f"output {sem}: {name!r} must be a plain name inside the scratch "
                              "directory")
    run = TaskRun(
        attempt_id=0, task_id=0, task_type=task_type, description=description, metadata={},
        requested_metadata={}, inputs=input_paths,
        outputs={sem: scratch / name for sem, name in declared.items()}, working_dir=scratch,
        cpus=_cpus(settings, task_type),
        input_dir=Path(settings.input_dir) if settings else None)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    saved = run.log.propagate, run.log.level
    run.log.addHandler(handler)
    run.log.propagate, run.log.level = False, logging.INFO
    start = time.perf_counter()
    try:
        result = invoke(run)  # the worker's checks: what passes here passes in the pipeline
    finally:
        run.log.removeHandler(handler)
        run.log.propagate, run.log.level = saved
    return {
        "task_type": task_type, "scratch_dir": str(scratch),
        "seconds": round(time.perf_counter() - start, 3),
        "outputs": {sem: {"path": str(p), "bytes": p.stat().st_size if p.is_file() else None}
                    for sem, p in run.outputs.items()},
        "metadata": result.metadata,
        "file_metadata": result.file_metadata,
        "qc": result.qc, "passed": all(result.qc.get(sem, False) for sem in run.outputs),
    }
