"""One call of a task type's implementation and its QC, with every metadata value checked as
the task database will store it. The worker and ``eas task run`` both run tasks through here,
so a task that passes on a developer's machine cannot fail in the pipeline on its metadata."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model.metadata import check_metadata
from .api import TaskRun, implementation, qc_for


@dataclass
class Invocation:
    """What one run of a task produced: its output metadata (QC's additions included), the
    QC verdict per declared output, and the metadata of each file it wrote."""

    metadata: dict[str, Any]
    qc: dict[str, bool]
    file_metadata: dict[str, dict[str, Any]]


def invoke(run: TaskRun) -> Invocation:
    """Run ``run.task_type``'s implementation, then its QC; raise
    :class:`~plato_eas.model.metadata.MetadataError` naming the first value the database
    cannot store (a NaN, a key too long…)."""
    fn = implementation(run.task_type)
    metadata = check_metadata(fn(run) or {}, "the task's output metadata")
    verdicts, extra = qc_for(fn)(run, metadata)
    metadata = {**metadata, **check_metadata(extra, "the task's QC metadata")}
    files = {sem: check_metadata(values, f"the metadata of output {sem!r}")
             for sem, values in run.output_metadata.items()}
    return Invocation(metadata=metadata, qc=verdicts, file_metadata=files)
