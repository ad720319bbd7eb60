"""The task-type registry (SPEC §7): which worker containers exist, which task types each runs.

Shipped as ``data/registry.yaml``; an operator overrides it with the ``registry_file``
setting. ``schema`` loads it into the database; ``deploy`` renders worker Deployments from it.
A task type may set ``time_limit`` (seconds): the default for its attempts, which a task in a
chain overrides with its own ``time_limit``. It may have a ``retry`` policy
(:mod:`plato_eas.tasks.retries`), which a task in a chain overrides with its own ``retry``;
the scheduler reads it when an attempt fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from ..errors import RegistryError
from ..settings import Settings
from .retries import RetryPolicy, default_policy, merged, policy_problem

CONTROL_FLOW_TYPES = (
    "execution_chain",
    "execution_for_loop",
    "execution_do_while_loop",
    "execution_conditional",
)


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    cpu: float
    gpu: int
    memory_gb: float


@dataclass(frozen=True)
class Registry:
    containers: tuple[Container, ...]
    task_types: dict[str, str]  # task type -> container name or "all"
    time_limits: dict[str, float] = field(default_factory=dict)  # task type -> seconds
    retry: dict[str, dict] = field(default_factory=dict)  # task type -> its retry fields

    def retry_policy(self, task_type: str, retry_limit: int) -> RetryPolicy:
        """The type's retry policy; the default one (``retry_limit`` stalled retries) for
        the fields it does not set."""
        return merged(default_policy(retry_limit), self.retry.get(task_type))

    def container(self, name: str) -> Container:
        for c in self.containers:
            if c.name == name:
                return c
        raise RegistryError(f"unknown worker container {name!r}")

    def types_for(self, container: str | None) -> list[str]:
        """Task types a worker of ``container`` serves (None = every type)."""
        if container is None:
            return sorted(self.task_types)
        self.container(container)
        return sorted(t for t, c in self.task_types.items() if c in ("all", container))

    def containers_for(self, task_type: str) -> list[str]:
        where = self.task_types[task_type]
        return [c.name for c in self.containers] if where == "all" else [where]


def _text(settings: Settings | None) -> tuple[str, str]:
    if settings is not None and settings.registry_file:
        path = Path(settings.registry_file)
        try:
            return path.read_text(), str(path)
        except OSError as exc:
            raise RegistryError(f"cannot read registry_file {path}: {exc.strerror}") from None
    return resources.files("plato_eas").joinpath("data/registry.yaml").read_text(), "built-in"


def load_registry(settings: Settings | None = None) -> Registry:
    text, origin = _text(settings)
    try:
        data = yaml.safe_load(text)
        containers = tuple(
            Container(name=str(c["name"]), image=str(c["image"]), cpu=float(c["cpu"]),
                      gpu=int(c.get("gpu", 0)), memory_gb=float(c["memory_gb"]))
            for c in data["containers"]
        )
        task_types = {str(t["name"]): str(t.get("container", "all")) for t in data["task_types"]}
        time_limits = {str(t["name"]): float(t["time_limit"]) for t in data["task_types"]
                       if t.get("time_limit") is not None}
        retry = {str(t["name"]): t["retry"] for t in data["task_types"]
                 if t.get("retry") is not None}
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise RegistryError(f"registry ({origin}) is malformed: {exc!r}") from None
    names = {c.name for c in containers}
    for task_type, where in task_types.items():
        if where != "all" and where not in names:
            raise RegistryError(
                f"registry ({origin}): task type {task_type!r} names unknown container {where!r}"
            )
    for task_type, seconds in time_limits.items():
        if not seconds > 0 or seconds == float("inf"):
            raise RegistryError(f"registry ({origin}): task type {task_type!r} needs a positive "
                                f"time_limit (seconds), not {seconds!r}")
    for task_type, policy in retry.items():
        problem = policy_problem(policy)
        if problem:
            raise RegistryError(f"registry ({origin}): task type {task_type!r}: {problem}")
    for required in CONTROL_FLOW_TYPES:
        if required not in task_types:
            raise RegistryError(f"registry ({origin}) lacks control-flow type {required!r}")
    return Registry(containers=containers, task_types=task_types, time_limits=time_limits,
                    retry=retry)
