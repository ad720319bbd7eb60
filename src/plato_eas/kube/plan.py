"""What each worker Deployment should be: a pure function of the registry, the queue depths and
the node capacity (``actions.worker_plan`` feeds it; the ``worker_plan_info`` module calls
that)."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from ..defaults import SYSTEM_FRACTION
from ..errors import ConfigError
from ..tasks.registry import Registry
from .resources import node_capacity, worker_resources
from .scaling import ScalingPolicy, plan_replicas

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DEPLOYMENT_PREFIX = "eas-worker-"


def deployment_name(container: str) -> str:
    name = DEPLOYMENT_PREFIX + container
    if len(name) > 63 or not _DNS_LABEL.match(name):
        raise ConfigError(f"worker container {container!r} does not give a valid Kubernetes "
                          f"name ({name!r}: lower-case letters, digits, '-', at most 63)")
    return name


def worker_plan(
    registry: Registry,
    containers: Iterable[str] | None = None,
    node: Mapping[str, Any] | None = None,
    nodes: Iterable[Mapping[str, Any]] = (),
    fraction: float = SYSTEM_FRACTION,
    replicas: Mapping[str, int] | None = None,
    images: Mapping[str, str] | None = None,
    scaling: Mapping[str, Any] | None = None,
    queue_depths: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The worker Deployments to run, one per registry container (or the named ones).

    ``replicas`` fixes the count per container (default 1). With ``scaling`` (the fields of
    :class:`ScalingPolicy`) the count comes from ``queue_depths`` ({queue: waiting messages})
    instead.
    """
    known = [c.name for c in registry.containers]
    chosen = list(known if containers is None else containers)
    for name in chosen:
        registry.container(name)  # raises RegistryError for an unknown one
    replicas = dict(replicas or {})
    images = dict(images or {})
    for label, mapping in (("replicas", replicas), ("images", images)):
        unknown = sorted(set(mapping) - set(known))
        if unknown:
            raise ConfigError(f"{label} names unknown container(s): {', '.join(unknown)}")
    capacity = node_capacity(node, nodes)
    resources = {c.name: worker_resources(c, capacity, fraction) for c in registry.containers}

    result: dict[str, Any] = {
        "node": {"cpu": capacity.cpu, "memory_gb": capacity.memory_gb, "gpu": capacity.gpu},
        "fraction": fraction,
        "scaling": None,
    }
    if scaling is not None:
        try:
            policy = ScalingPolicy(**dict(scaling))
        except TypeError as exc:
            raise ConfigError(f"scaling options are malformed: {exc}") from None
        depths = dict(queue_depths or {})
        result["scaling"] = dict(plan_replicas(registry, depths, resources, policy),
                                 queue_depths=depths)
        counts = result["scaling"]["replicas"]
    else:
        counts = {name: int(replicas.get(name, 1)) for name in known}
        bad = {n: k for n, k in counts.items() if k < 0}
        if bad:
            raise ConfigError(f"replicas must not be negative: {bad}")
    result["workers"] = [
        {
            "container": name,
            "deployment": deployment_name(name),
            "image": images.get(name, registry.container(name).image),
            "command": ["eas", "worker", "--container", name],
            "task_types": registry.types_for(name),
            "resources": resources[name].as_k8s(),
            "capped": list(resources[name].capped),
            "replicas": counts[name],
        }
        for name in chosen
    ]
    return result
