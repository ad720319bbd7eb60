"""Run-time semantics of the four control-flow task types.

Each turns a running control-flow task into the child tasks it registers. Expressions that
decide a child's wiring (type, name, working directory, inputs, outputs) are evaluated here,
in the parent's context, and each evaluated value is checked before anything is written: a
name must be a string within its column, a file must stay inside the data directory, a loop
value must be JSON. Everything else in the child's description is evaluated when the child
itself runs. Loop children are ``execution_chain`` tasks whose metadata adds the loop
variable and its ``_index``.

Loops are bounded: a for loop registers at most ``max_loop_iterations`` children (a setting),
a do-while loop runs at most its ``max_iterations`` (default ``MAX_DO_WHILE_ITERATIONS``, and
never more than ``max_loop_iterations``); past that the task fails, saying so.
"""

from __future__ import annotations

import math
import posixpath
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from ..defaults import LOOP_BODY_TASKS, MAX_DO_WHILE_ITERATIONS, MAX_LOOP_ITERATIONS
from ..errors import ChainError, EasError
from ..expressions import evaluate, is_expression, resolve
from ..model.context import AttemptContext
from ..model.metadata import decode, encode
from ..model.values import NAME_LENGTH, identifier_problem, json_problem, name_problem
from ..tasks.availability import ALLOW_KEY, missing_implementation
from ..tasks.registry import Registry
from .bulk import no_cyclic_gc
from .paths import (
    check_file,
    check_relative,
    join,
    location_problem,
    working_directory_problem,
)
from .register import Body, ChildSpec

WIRING_KEYS = ("task", "name", "job_name", "working_directory", "inputs", "outputs",
               "requires_metadata_from")


@dataclass(frozen=True)
class Limits:
    """How far one expansion may go (from the settings)."""

    max_loop_iterations: int = MAX_LOOP_ITERATIONS


def _value(value: Any, ctx: AttemptContext, metadata: dict) -> Any:
    return evaluate(value, metadata, ctx.requested_metadata) if is_expression(value) else value


def _refuse(path: str, message: str | None, *keys: str) -> None:
    """Raise a ChainError at ``path`` (+ ``.key`` for each of ``keys``) when there is a
    ``message``: the path is built only then (a large chain's children have no problem)."""
    if message:
        raise ChainError([(".".join((path, *map(str, keys))), message)])


def _files(wiring: dict, key: str, path: str, working_directory: str) -> dict[str, str]:
    """The evaluated ``inputs``/``outputs``: semantic type -> normalised file name."""
    files = wiring.get(key, {})
    _refuse(path, None if isinstance(files, dict) else
            f"{key} must be an object (semantic type -> file name), not {type(files).__name__}",
            key)
    out = {}
    for semantic_type, filename in files.items():
        problem = identifier_problem(semantic_type, "semantic type", NAME_LENGTH)
        if not isinstance(filename, str):
            problem = problem or f"the file name must be a string, not {type(filename).__name__}"
        else:
            try:
                out[semantic_type] = name = check_file(filename, key[:-1])
            except ValueError as exc:
                problem = problem or str(exc)
            else:
                problem = problem or location_problem(join(working_directory, name), key[:-1])
        _refuse(path, problem, key, semantic_type)
    return out


def _literal(wiring: dict) -> bool:
    """Whether a wiring is plainly free of expressions (most of a large chain's): it is then
    its own evaluation, and :func:`resolve` need not copy it. Strings, and objects or lists
    of strings, are looked at; anything deeper answers False (resolve then decides)."""
    for value in wiring.values():
        kind = type(value)
        if kind is dict or kind is list:
            for item in value.values() if kind is dict else value:
                if type(item) is not str or is_expression(item):
                    return False
        elif kind is str and is_expression(value):
            return False
    return True


@lru_cache(maxsize=256)
def _directory(working_directory: str) -> str:
    """A working directory normalised (``""`` for the data directory root), or ValueError:
    the same few directories come up for every child of a large chain."""
    normalised = check_relative(working_directory or ".", "working_directory")
    return "" if normalised == "." else normalised


def child_spec(item: dict, ctx: AttemptContext, metadata: dict, path: str,
               registry: Registry | None = None) -> ChildSpec:
    """Evaluate one task-list entry's wiring in the context it will inherit."""
    wiring = {k: item[k] for k in WIRING_KEYS if k in item}
    if not _literal(wiring):
        wiring = resolve(wiring, metadata, {})
    task_type = wiring.get("task")
    _refuse(path, name_problem(task_type, "the task type", 64), "task")
    if registry is not None and is_expression(item.get("task")):
        _refuse(path, _type_problem(task_type, metadata, registry), "task")
    name, job_name = wiring.get("name"), wiring.get("job_name")
    if name is not None:
        _refuse(path, name_problem(name, "the task name"), "name")
    if job_name not in (None, ""):
        _refuse(path, name_problem(job_name, "the job name")
                or identifier_problem(job_name, "the job name", NAME_LENGTH), "job_name")
    working_directory = ctx.working_directory
    given = wiring.get("working_directory")
    if given not in (None, ""):
        _refuse(path, None if isinstance(given, str) else
                f"the working directory must be a string, not {type(given).__name__}",
                "working_directory")
        working_directory = posixpath.join(ctx.working_directory, given)
    try:
        working_directory = _directory(working_directory)
    except ValueError as exc:
        raise ChainError([(f"{path}.working_directory", str(exc))]) from None
    _refuse(path, working_directory_problem(working_directory), "working_directory")
    inputs = _files(wiring, "inputs", path, working_directory)
    outputs = _files(wiring, "outputs", path, working_directory)
    wanted = wiring.get("requires_metadata_from", [])
    _refuse(path, None if isinstance(wanted, list) and all(
        isinstance(n, str) for n in wanted) else "must be a list of task names (strings)",
        "requires_metadata_from")
    return ChildSpec(
        task_type=task_type, description=item, metadata=dict(metadata),
        working_directory=working_directory, job_name=job_name or ctx.job_name,
        name=name, inputs=inputs, outputs=outputs, requires_metadata_from=list(wanted),
        path=path, priority=_priority(item, ctx))


def _priority(item: dict, ctx: AttemptContext) -> int:
    """A task's own ``priority`` (validated at submission), else its parent's."""
    own = item.get("priority")
    return own if isinstance(own, int) and not isinstance(own, bool) else ctx.priority


def _type_problem(task_type: str, metadata: dict, registry: Registry) -> str | None:
    """A type reached through an expression: known to the registry, and implemented by an
    installed package unless the job was submitted with allow_unimplemented."""
    if task_type not in registry.task_types:
        return f"unknown task type {task_type!r}"
    return None if metadata.get(ALLOW_KEY) else missing_implementation(task_type, registry)


def _sub_chain(ctx: AttemptContext, task_list: list, metadata: dict, name: str | None,
               path: str) -> ChildSpec:
    description = {"task": "execution_chain", "task_list": task_list}
    return ChildSpec(task_type="execution_chain", description=description, metadata=metadata,
                     working_directory=ctx.working_directory, job_name=ctx.job_name,
                     name=name, path=path, priority=ctx.priority)


def expand_chain(ctx: AttemptContext, limits: Limits,
                 registry: Registry | None = None) -> list[ChildSpec]:
    return [child_spec(item, ctx, ctx.metadata, f"$.task_list[{i}]", registry)
            for i, item in enumerate(ctx.description.get("task_list", []))]


def _count(value: Any, limits: Limits, path: str) -> int:
    """A loop's count: an integer from 1 to max_loop_iterations."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    _refuse(path, None if isinstance(value, int) and not isinstance(value, bool)
            else f"the count must be an integer, not {value!r}")
    _refuse(path, None if value >= 1 else "the count must be at least 1")
    _refuse(path, None if value <= limits.max_loop_iterations else
            f"the loop would run {value:,} times, more than max_loop_iterations "
            f"({limits.max_loop_iterations:,})")
    return value


def loop_values(desc: dict, ctx: AttemptContext, limits: Limits) -> list[Any]:
    if "values" in desc:
        values = desc["values"]
        _refuse("$.values", None if isinstance(values, list) else "values must be a list")
        _count(len(values), limits, "$.values")
        out = []
        for index, value in enumerate(values):
            value = _value(value, ctx, ctx.metadata)
            _refuse(f"$.values[{index}]", json_problem(value))
            out.append(value)
        return out
    kind = "linear_range" if "linear_range" in desc else "log_range"
    start, end, count = (_value(v, ctx, ctx.metadata) for v in desc[kind])
    for index, bound in enumerate((start, end)):
        _refuse(f"$.{kind}[{index}]", None if _finite(bound) else
                f"a {kind} bound must be a finite number, not {bound!r}")
    count = _count(count, limits, f"$.{kind}[2]")
    if count == 1:
        return [float(start)]
    steps = range(count)
    if kind == "linear_range":
        return [start + (end - start) * i / (count - 1) for i in steps]
    if start <= 0 or end <= 0:
        raise ChainError([(f"$.{kind}", "log_range needs positive start and end")])
    ratio = math.log(end / start)
    return [start * math.exp(ratio * i / (count - 1)) for i in steps]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def expand_for_loop(ctx: AttemptContext, limits: Limits) -> list[ChildSpec]:
    desc = ctx.description
    parameter = desc["parameter"]
    return [
        _sub_chain(ctx, desc["task_list"],
                   {**ctx.metadata, parameter: value, f"{parameter}_index": index},
                   f"{parameter}_{index}", f"$.task_list<{parameter}={value!r}>")
        for index, value in enumerate(loop_values(desc, ctx, limits))
    ]


def expand_conditional(ctx: AttemptContext, limits: Limits) -> list[ChildSpec]:
    desc = ctx.description
    if _value(desc["criterion"], ctx, ctx.metadata):
        return [_sub_chain(ctx, desc["task_list"], dict(ctx.metadata), "then", "$.task_list")]
    if desc.get("else_task_list"):
        return [_sub_chain(ctx, desc["else_task_list"], dict(ctx.metadata), "else",
                           "$.else_task_list")]
    return []


def expand_do_while(ctx: AttemptContext, limits: Limits) -> list[ChildSpec]:
    """First run: iteration 1. Each iteration's chain ends with a *check* task (the loop task
    again, marked with ``check_iteration``) that waits for the body's named children, then
    evaluates ``repeat_criterion`` and registers the next iteration when it holds."""
    desc = ctx.description
    index_key = f"{desc['iteration_name']}_index"
    iteration = desc.get("check_iteration")
    if iteration is not None:
        if not _value(desc["repeat_criterion"], ctx, ctx.metadata):
            return []
        iteration += 1
    else:
        iteration = 1
    most = min(desc.get("max_iterations", MAX_DO_WHILE_ITERATIONS), limits.max_loop_iterations)
    _refuse("$.repeat_criterion", None if iteration <= most else
            f"still true after {most:,} iterations: the loop stops at its max_iterations "
            f"({most:,}; at most max_loop_iterations, {limits.max_loop_iterations:,})")
    check = {k: v for k, v in desc.items() if k not in ("check_iteration", "name")}
    check.update(name=f"{desc['iteration_name']}_check", check_iteration=iteration,
                 requires_metadata_from=list(desc.get("requires_metadata_from_child", [])))
    return [_sub_chain(ctx, [*desc["task_list"], check], {**ctx.metadata, index_key: iteration},
                       f"{desc['iteration_name']}_{iteration}", "$.task_list")]


EXPANDERS: dict[str, Callable[[AttemptContext, Limits], list[ChildSpec]]] = {
    "execution_chain": expand_chain,
    "execution_for_loop": expand_for_loop,
    "execution_conditional": expand_conditional,
    "execution_do_while_loop": expand_do_while,
}


def _body_context(spec: ChildSpec, parent: AttemptContext) -> AttemptContext:
    """The context a loop body's own attempt would load: its metadata and description as
    the database gives them back."""
    def stored(values: dict) -> dict:
        return {key: decode(*encode(value)) for key, value in values.items()}

    return AttemptContext(
        attempt_id=0, task_id=0, task_type=spec.task_type, task_name=spec.name,
        job_name=spec.job_name, working_directory=spec.working_directory,
        description=decode(*encode(spec.description)), metadata=stored(spec.metadata),
        priority=spec.priority, cpus=parent.cpus)


def expand_bodies(children: list[ChildSpec], parent: AttemptContext, limits: Limits,
                  registry: Registry | None) -> list[ChildSpec]:
    """Expand the loop bodies among ``children`` (sub-chains of a loop or condition: no
    inputs, no metadata from other tasks) now, with their loop: registered together, each
    body's attempt recorded done at once, one attempt instead of one per body. A body whose
    expansion fails is left to fail in an attempt of its own, as it would have; so are all
    the bodies of a loop whose bodies hold more than ``LOOP_BODY_TASKS`` tasks in all (one
    transaction and one expansion's memory stay bounded)."""
    bodies = [spec for spec in children if spec.task_type == "execution_chain"
              and not spec.inputs and not spec.requires_metadata_from]
    lists = [spec.description.get("task_list") for spec in bodies]
    if sum(len(t) if isinstance(t, list) else LOOP_BODY_TASKS + 1 for t in lists) \
            > LOOP_BODY_TASKS:
        return children
    for spec in bodies:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            grandchildren = expand_chain(_body_context(spec, parent), limits, registry)
        except (EasError, KeyError, TypeError, ValueError, OverflowError):
            continue
        spec.body = Body(grandchildren, time.perf_counter() - wall, time.process_time() - cpu)
    return children


def expand(ctx: AttemptContext, limits: Limits | None = None,
           registry: Registry | None = None) -> list[ChildSpec]:
    """Children of a control-flow attempt; raises EasError (expression, path, a task type
    that cannot run) on bad input. With a ``registry``, task types given as expressions are
    checked against it and against the installed implementations (only a chain's items name
    task types: loops and conditions register sub-chains)."""
    try:
        with no_cyclic_gc():
            if ctx.task_type == "execution_chain":
                return expand_chain(ctx, limits or Limits(), registry)
            return expand_bodies(EXPANDERS[ctx.task_type](ctx, limits or Limits()), ctx,
                                 limits or Limits(), registry)
    except EasError:
        raise
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ChainError([("$", f"{ctx.task_type} description is invalid: {exc!r}")]) from None
