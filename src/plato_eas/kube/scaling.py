"""Worker replicas on demand: from queue depths, within per-container bounds and a budget.

The prototype only claimed to scale; this is the rule we use, deterministic so that running it
repeatedly with the same queue depths gives the same answer:

1. demand of a container = messages waiting in the queues of the task types only it runs;
   queues of types every container runs (``all``: control flow, test types) count towards
   the ``shared_container`` (default: the registry's first container);
2. wanted replicas = ceil(demand / ``tasks_per_replica``), clamped to [min, max];
3. every container gets its ``min`` first (even beyond the budget: minimums are the operator's
   explicit choice, and the plan says so in ``over_budget``); then replicas are added one at a
   time while the budget's CPU, memory and GPU still cover one more pod: first to containers
   that have demand but no replica yet (so no queue starves - the control-flow tasks that
   expand chains must always run), then to the container with the most unmet demand per
   replica (ties: registry order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..defaults import MAX_REPLICAS, MIN_REPLICAS, TASKS_PER_REPLICA
from ..errors import ConfigError
from ..tasks.registry import Registry
from .resources import WorkerResources


@dataclass(frozen=True)
class ScalingPolicy:
    min_replicas: Mapping[str, int] = field(default_factory=dict)  # per container
    max_replicas: Mapping[str, int] = field(default_factory=dict)
    default_min: int = MIN_REPLICAS
    default_max: int = MAX_REPLICAS
    tasks_per_replica: int = TASKS_PER_REPLICA
    budget_cpu: float | None = None  # None: unlimited
    budget_memory_gb: float | None = None
    budget_gpu: int | None = None
    shared_container: str | None = None

    def bounds(self, name: str) -> tuple[int, int]:
        low = int(self.min_replicas.get(name, self.default_min))
        high = int(self.max_replicas.get(name, self.default_max))
        if low < 0 or high < low:
            raise ConfigError(f"replica bounds for {name} must satisfy 0 <= min <= max, "
                              f"not min={low} max={high}")
        return low, high


def _demand(registry: Registry, depths: Mapping[str, int], shared: str) -> dict[str, int]:
    demand = {c.name: 0 for c in registry.containers}
    for queue, depth in depths.items():
        if depth < 0:
            raise ConfigError(f"queue depth of {queue} is negative: {depth}")
        where = registry.task_types.get(queue)
        if where is None:
            continue  # a queue no registered type feeds: nobody here can drain it
        demand[shared if where == "all" else where] += int(depth)
    return demand


def plan_replicas(registry: Registry, depths: Mapping[str, int],
                  resources: Mapping[str, WorkerResources],
                  policy: ScalingPolicy | None = None) -> dict[str, Any]:
    """Replicas per container. Returns ``replicas`` {container: n}, ``demand``, ``wanted``,
    ``used`` (cpu, memory_gb, gpu of the plan), ``over_budget`` (minimums alone exceed it)."""
    policy = policy or ScalingPolicy()
    if policy.tasks_per_replica < 1:
        raise ConfigError("tasks_per_replica must be at least 1")
    names = [c.name for c in registry.containers]
    shared = policy.shared_container or names[0]
    if shared not in names:
        raise ConfigError(f"shared_container {shared!r} is not a registry container")
    for name in list(policy.min_replicas) + list(policy.max_replicas):
        if name not in names:
            raise ConfigError(f"scaling bounds name unknown container {name!r}")
    demand = _demand(registry, depths, shared)
    bounds = {n: policy.bounds(n) for n in names}
    wanted = {n: min(max(math.ceil(demand[n] / policy.tasks_per_replica), bounds[n][0]),
                     bounds[n][1]) for n in names}
    replicas = {n: bounds[n][0] for n in names}

    def used(plan: Mapping[str, int]) -> tuple[float, float, int]:
        return (sum(resources[n].cpu * k for n, k in plan.items()),
                sum(resources[n].memory_gb * k for n, k in plan.items()),
                sum(resources[n].gpu * k for n, k in plan.items()))

    def fits(plan: Mapping[str, int]) -> bool:
        cpu, mem, gpu = used(plan)
        eps = 1e-9
        return ((policy.budget_cpu is None or cpu <= policy.budget_cpu + eps)
                and (policy.budget_memory_gb is None or mem <= policy.budget_memory_gb + eps)
                and (policy.budget_gpu is None or gpu <= policy.budget_gpu))

    over_budget = not fits(replicas)
    while True:
        candidates = []
        for index, n in enumerate(names):
            if replicas[n] >= wanted[n]:
                continue
            trial = dict(replicas, **{n: replicas[n] + 1})
            if fits(trial):
                unmet = (demand[n] - replicas[n] * policy.tasks_per_replica) / (replicas[n] + 1)
                candidates.append((replicas[n] > 0, -unmet, index, n))
        if not candidates:
            break
        replicas[min(candidates)[3]] += 1
    cpu, mem, gpu = used(replicas)
    return {
        "replicas": replicas,
        "demand": demand,
        "wanted": wanted,
        "used": {"cpu": round(cpu, 3), "memory_gb": round(mem, 3), "gpu": gpu},
        "over_budget": over_budget,
    }
