"""Everything a worker needs to know to run one attempt, read in one go."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..db import Tx
from .metadata import requested_metadata, task_metadata


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


def load_context(tx: Tx, attempt_id: int) -> AttemptContext:
    row = tx.rows(
        "SELECT t.taskId, tt.taskTypeName, t.taskName, t.jobName, t.workingDirectory, "
        "t.priority "
        "FROM eas_scheduling_attempt a JOIN eas_task t ON t.taskId = a.taskId "
        "JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId "
        "WHERE a.schedulingAttemptId = ?", (attempt_id,))[0]
    task_id = row["taskId"]
    metadata, description = task_metadata(tx, task_id)
    ctx = AttemptContext(
        attempt_id=attempt_id, task_id=task_id, task_type=row["taskTypeName"],
        task_name=row["taskName"], job_name=row["jobName"],
        working_directory=row["workingDirectory"], description=description or {},
        metadata=metadata, requested_metadata=requested_metadata(tx, task_id),
        priority=int(row["priority"]))
    for sem, directory, filename in tx.tuples(
            "SELECT st.name, p.directoryName, p.filename FROM eas_task_input i "
            "JOIN eas_product p ON p.productId = i.inputId "
            "JOIN eas_semantic_type st ON st.semanticTypeId = i.semanticType "
            "WHERE i.taskId = ?", (task_id,)):
        ctx.inputs[sem] = _join(directory, filename)
    for sem, directory, filename, product in tx.tuples(
            "SELECT st.name, p.directoryName, p.filename, p.productId FROM eas_product p "
            "JOIN eas_semantic_type st ON st.semanticTypeId = p.semanticType "
            "WHERE p.generatorTask = ?", (task_id,)):
        ctx.outputs[sem] = _join(directory, filename)
        ctx.output_products[sem] = product
    return ctx


def _join(directory: str, filename: str) -> str:
    return f"{directory}/{filename}" if directory else filename
