"""Build a TaskRun as the worker does: absolute paths inside one directory."""

from __future__ import annotations

from pathlib import Path

from plato_eas.tasks.api import TaskRun


def make_run(directory: Path, task_type: str, description: dict, inputs=None,
             outputs=None) -> TaskRun:
    def place(files):
        return {sem: (p if Path(p).is_absolute() else directory / p)
                for sem, p in (files or {}).items()}

    return TaskRun(attempt_id=1, task_id=1, task_type=task_type,
                   description={"task": task_type, **description}, metadata={},
                   requested_metadata={}, inputs=place(inputs), outputs=place(outputs),
                   working_dir=directory)
