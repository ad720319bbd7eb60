"""Pod resources for a worker container: the registry's request, capped to a node fraction.

The prototype's ``--limit-to-system-fraction`` (default 0.25, as ``defaults.SYSTEM_FRACTION``)
kept any one worker from asking for more than that fraction of the machine. On Kubernetes the
"machine" is a node: the cap is ``fraction`` x the node's allocatable CPU and memory. GPUs are
whole devices and are never split: a container gets what the registry asks for, at most the
node's GPU count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..defaults import SYSTEM_FRACTION
from ..errors import ConfigError
from ..tasks.registry import Container
from .quantity import GIB, format_cpu, format_memory, parse_quantity

GPU_RESOURCE = "nvidia.com/gpu"


@dataclass(frozen=True)
class NodeCapacity:
    """Allocatable resources of one node (None: unknown, no cap on that resource)."""

    cpu: float | None = None
    memory_gb: float | None = None
    gpu: int | None = None


@dataclass(frozen=True)
class WorkerResources:
    cpu: float
    memory_gb: float
    gpu: int
    capped: tuple[str, ...]  # which resources the cap lowered

    def as_k8s(self) -> dict[str, dict[str, str]]:
        """``resources:`` of a container spec: requests equal limits (Guaranteed QoS)."""
        values = {"cpu": format_cpu(self.cpu), "memory": format_memory(self.memory_gb)}
        if self.gpu:
            values[GPU_RESOURCE] = str(self.gpu)
        return {"requests": dict(values), "limits": dict(values)}


def node_capacity(value: Mapping[str, Any] | None = None,
                  nodes: Iterable[Mapping[str, Any]] = ()) -> NodeCapacity:
    """The capacity to cap against: explicit ``value`` (cpu, memory_gb, gpu) wins; otherwise
    the smallest allocatable of the given Node objects (so a capped pod fits on every node);
    otherwise unknown (no cap)."""
    if value:
        unknown = set(value) - {"cpu", "memory_gb", "gpu"}
        if unknown:
            raise ConfigError(f"node capacity has unknown key(s): {', '.join(sorted(unknown))}")
        try:
            return NodeCapacity(
                cpu=None if value.get("cpu") is None else parse_quantity(value["cpu"]),
                memory_gb=None if value.get("memory_gb") is None else float(value["memory_gb"]),
                gpu=None if value.get("gpu") is None else int(value["gpu"]),
            )
        except (TypeError, ValueError):
            raise ConfigError(f"node capacity is malformed: {dict(value)!r}") from None
    cpus, mems, gpus = [], [], []
    for node in nodes:
        spec = node.get("spec") or {}
        if spec.get("unschedulable"):
            continue
        alloc = (node.get("status") or {}).get("allocatable") or {}
        if "cpu" in alloc:
            cpus.append(parse_quantity(alloc["cpu"]))
        if "memory" in alloc:
            mems.append(parse_quantity(alloc["memory"]) / GIB)
        gpus.append(int(parse_quantity(alloc.get(GPU_RESOURCE, 0))))
    return NodeCapacity(
        cpu=min(cpus) if cpus else None,
        memory_gb=min(mems) if mems else None,
        gpu=max(gpus) if any(gpus) else None,  # no GPU node seen: leave GPU asks alone
    )


def worker_resources(container: Container, node: NodeCapacity | None = None,
                     fraction: float = SYSTEM_FRACTION) -> WorkerResources:
    """Requests/limits for one worker pod of ``container``."""
    if not 0 < fraction <= 1:
        raise ConfigError(f"system fraction must be in (0, 1], not {fraction!r}")
    node = node or NodeCapacity()
    cpu, memory, gpu = container.cpu, container.memory_gb, container.gpu
    capped = []
    if node.cpu is not None:
        limit = math.floor(node.cpu * fraction * 1000) / 1000
        if cpu > limit:
            cpu, capped = max(limit, 0.001), [*capped, "cpu"]
    if node.memory_gb is not None:
        limit = math.floor(node.memory_gb * fraction * 1024) / 1024
        if memory > limit:
            memory, capped = max(limit, 1 / 1024), [*capped, "memory"]
    if node.gpu is not None and gpu > node.gpu:
        gpu, capped = node.gpu, [*capped, "gpu"]
    return WorkerResources(cpu=cpu, memory_gb=memory, gpu=gpu, capped=tuple(capped))
