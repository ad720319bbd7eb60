"""The task types, one module each; registered under the ``plato_eas.tasks`` entry points.

A task callable takes the control plane's ``TaskRun`` and returns its output metadata; its QC
callable (the ``qc`` attribute, set by :func:`science_task`) takes the run and that metadata and
returns ``(verdicts, extra metadata)``: a pass/fail per declared output, and items to add to
the attempt's metadata (a search's ``outcome`` and ``target_period``). Every task type here is
declared with :func:`science_task`, which also makes what it returns storable.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from ..taskkit import finite

QcResult = tuple[dict[str, bool], dict[str, Any]]


def science_task(qc: Callable[..., QcResult] | None = None) -> Callable:
    """Decorator for each task type of this package: NaN and infinities in the metadata the
    task returns, or its QC adds, become null (with a warning in the attempt's log) rather
    than failing the attempt when it is recorded; ``qc`` is attached where the control plane
    looks for it."""

    def declare(task: Callable) -> Callable:
        @functools.wraps(task)
        def run_task(run: Any) -> dict[str, Any]:
            return finite(task(run) or {}, run.log, f"{run.task_type} output metadata")

        if qc is not None:
            def run_qc(run: Any, metadata: dict[str, Any]) -> QcResult:
                verdicts, extra = qc(run, metadata)
                return verdicts, finite(extra, run.log, f"{run.task_type} QC metadata")

            run_task.qc = run_qc
        return run_task

    return declare
