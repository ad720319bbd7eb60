"""Everything a worker needs to know to run one attempt, read in one go."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..db import Tx
from .metadata import product_version_metadata, requested_metadata, task_metadata


@dataclass
class AttemptContext:
    attempt_id: int
    task_id: int
    task_type: str
    task_name: str | None
    job_name: str | None
    working_directory: str
    description: dict[str, Any]
    metadata: dict[str, Any]
    requested_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    # semantic type -> path relative to the output directory
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    output_products: dict[str, int] = field(default_factory=dict)
    priority: int = 0  # the task's: its children inherit it unless they set their own
    # semantic type -> metadata of the input file's latest version that passed QC
    input_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    cpus: int | None = None  # CPUs the registry assigns to the container running this type


# The attempt's task, its type and the CPUs of the container the registry runs that type in
# (the smallest, when several can; NULL when no container states any).
_TASK = """
SELECT t.taskId, tt.taskTypeName, t.taskName, t.jobName, t.workingDirectory, t.priority,
  (SELECT MIN(COALESCE(c.assignedCpus, c.requestedCpus)) FROM eas_task_containers tc
   JOIN eas_worker_containers c ON c.containerId = tc.containerId
   WHERE tc.taskTypeId = t.taskTypeId)
FROM eas_scheduling_attempt a JOIN eas_task t ON t.taskId = a.taskId
JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId
WHERE a.schedulingAttemptId = ?
"""
# The task's file inputs (1) and outputs (0), in one read.
_FILES = """
SELECT 1, st.name, p.directoryName, p.filename, p.productId FROM eas_task_input i
JOIN eas_product p ON p.productId = i.inputId
JOIN eas_semantic_type st ON st.semanticTypeId = i.semanticType
WHERE i.taskId = ?
UNION ALL
SELECT 0, st.name, p.directoryName, p.filename, p.productId FROM eas_product p
JOIN eas_semantic_type st ON st.semanticTypeId = p.semanticType
WHERE p.generatorTask = ?
"""


def load_context(tx: Tx, attempt_id: int) -> AttemptContext:
    task_id, task_type, name, job, directory, priority, cpus = tx.tuples(
        _TASK, (attempt_id,))[0]
    metadata, description = task_metadata(tx, task_id)
    ctx = AttemptContext(
        attempt_id=attempt_id, task_id=task_id, task_type=task_type, task_name=name,
        job_name=job, working_directory=directory, description=description or {},
        metadata=metadata, requested_metadata=requested_metadata(tx, task_id),
        priority=int(priority), cpus=max(1, int(cpus)) if cpus else None)
    for is_input, sem, folder, filename, product in tx.tuples(_FILES, (task_id, task_id)):
        if is_input:
            ctx.inputs[sem] = _join(folder, filename)
            ctx.input_metadata[sem] = product_version_metadata(tx, product)
        else:
            ctx.outputs[sem] = _join(folder, filename)
            ctx.output_products[sem] = product
    return ctx


def _join(directory: str, filename: str) -> str:
    return f"{directory}/{filename}" if directory else filename
