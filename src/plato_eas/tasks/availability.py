"""Which task types can run: a job must never wait for a worker that cannot exist.

A type is runnable here when it is a control-flow type or an installed package implements it
(``implementations``). The control node usually has the same packages as the workers; when it
does not, the operator says so explicitly (``allow_unimplemented``)."""

from __future__ import annotations

from typing import Iterable

from .api import implementations
from .registry import CONTROL_FLOW_TYPES, Registry

ALLOW_KEY = "allow_unimplemented"  # metadata a job submitted with the option carries


def missing_implementation(task_type: str, registry: Registry) -> str | None:
    """The one-line reason ``task_type`` cannot run anywhere, or None when it can (types the
    registry does not know are reported as unknown elsewhere)."""
    if task_type in CONTROL_FLOW_TYPES or task_type in implementations():
        return None
    if task_type not in registry.task_types:
        return None
    containers = ", ".join(registry.containers_for(task_type))
    return f"{task_type}: no implementation installed (container {containers})"


def missing_implementations(task_types: Iterable[str], registry: Registry) -> dict[str, str]:
    found = {t: missing_implementation(t, registry) for t in set(task_types)}
    return {t: reason for t, reason in sorted(found.items()) if reason}
