"""The task types, one module each; registered under the ``plato_eas.tasks`` entry points.

A task callable takes the control plane's ``TaskRun`` and returns its output metadata; its QC
callable (the ``qc`` attribute, set by :func:`with_qc`) takes the run and that metadata and
returns ``(verdicts, extra metadata)``: a pass/fail per declared output, and items to add to
the attempt's metadata (a search's ``outcome`` and ``target_period``).
"""

from __future__ import annotations

from typing import Any, Callable

QcResult = tuple[dict[str, bool], dict[str, Any]]


def with_qc(qc: Callable[..., QcResult]) -> Callable:
    """Decorator: attach ``qc`` to a task callable, where the control plane looks for it."""

    def attach(task: Callable) -> Callable:
        task.qc = qc
        return task

    return attach
