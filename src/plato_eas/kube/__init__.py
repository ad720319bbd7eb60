"""Kubernetes-side planning for the EAS pipeline (SPEC §7, §10): no Ansible, no API calls.

* :mod:`.quantity` parses and formats Kubernetes resource quantities;
* :mod:`.resources` turns a registry container into pod resource requests/limits, capped to a
  fraction of a node (the prototype's ``--limit-to-system-fraction``);
* :mod:`.scaling` plans worker replicas from queue depths within a resource budget.

Pure functions of the registry, queue depths and node capacity: ``actions.worker_plan`` reads
those and calls :func:`worker_plan`; the ``plato.eas`` roles reach it through the
``worker_plan_info`` module.
"""

from .plan import worker_plan
from .quantity import format_cpu, format_memory, parse_quantity
from .resources import NodeCapacity, WorkerResources, node_capacity, worker_resources
from .scaling import ScalingPolicy, plan_replicas

__all__ = [
    "NodeCapacity",
    "ScalingPolicy",
    "WorkerResources",
    "format_cpu",
    "format_memory",
    "node_capacity",
    "parse_quantity",
    "plan_replicas",
    "worker_plan",
    "worker_resources",
]
