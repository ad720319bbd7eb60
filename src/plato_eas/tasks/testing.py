"""The test task types of SPEC §4: ``null`` and ``error`` — chains can exercise scheduling,
file dependencies and conditions without any science code."""

from __future__ import annotations

import json
import time
from typing import Any

from .api import TaskFields, TaskRun

# The fields of the test types' descriptions (the plato_eas.task_fields entry points).
NULL_FIELDS: TaskFields = {
    "sleep": {"description": "a number of seconds (at least 0) or an expression",
              "anyOf": [{"type": "number", "minimum": 0},
                        {"type": "string", "pattern": "^[('\"]"}]},
    "set_metadata": {"type": "object"},
}
ERROR_FIELDS: TaskFields = {}


def null_task(run: TaskRun) -> dict[str, Any]:
    """Optionally sleep, write each declared output as a small file, and return the evaluated
    ``set_metadata`` object as output metadata."""
    sleep = float(run.description.get("sleep") or 0)
    if sleep > 0:
        time.sleep(sleep)
    for sem, path in run.outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"task_id": run.task_id, "attempt_id": run.attempt_id,
                                    "semantic_type": sem, "inputs": sorted(run.inputs)}) + "\n")
    run.log.info("null task wrote %d output(s)", len(run.outputs))
    return dict(run.description.get("set_metadata") or {})


def error_task(run: TaskRun) -> None:
    """Always fails, with a traceback."""
    run.log.info("error task about to fail on purpose")
    raise RuntimeError(f"error task {run.task_id} failed on purpose")
