"""Run-time semantics of the four control-flow task types (SPEC §4).

Each turns a running control-flow task into the child tasks it registers. Expressions that
decide a child's wiring (type, name, working directory, inputs, outputs) are evaluated here,
in the parent's context; everything else in the child's description is evaluated when the
child itself runs. Loop children are ``execution_chain`` tasks whose metadata adds the loop
variable and its ``_index``.
"""

from __future__ import annotations

import math
import posixpath
from typing import Any, Callable

from ..errors import ChainError, EasError
from ..expressions import evaluate, is_expression, resolve
from ..model.context import AttemptContext
from .paths import check_relative
from .register import ChildSpec

WIRING_KEYS = ("task", "name", "job_name", "working_directory", "inputs", "outputs",
               "requires_metadata_from")


def _value(value: Any, ctx: AttemptContext, metadata: dict) -> Any:
    return evaluate(value, metadata, ctx.requested_metadata) if is_expression(value) else value


def child_spec(item: dict, ctx: AttemptContext, metadata: dict, path: str) -> ChildSpec:
    """Evaluate one task-list entry's wiring in the context it will inherit."""
    wiring = resolve({k: item[k] for k in WIRING_KEYS if k in item}, metadata, {})
    working_directory = ctx.working_directory
    if wiring.get("working_directory") not in (None, ""):
        working_directory = posixpath.join(ctx.working_directory, wiring["working_directory"])
    try:
        working_directory = check_relative(working_directory or ".", "working_directory")
        inputs = {s: check_relative(str(f), "input") for s, f in wiring.get("inputs", {}).items()}
        outputs = {s: check_relative(str(f), "output")
                   for s, f in wiring.get("outputs", {}).items()}
        for name in (*inputs.values(), *outputs.values()):
            check_relative(posixpath.join(working_directory, name), "file")
    except ValueError as exc:
        raise ChainError([(path, str(exc))]) from None
    if working_directory == ".":
        working_directory = ""
    return ChildSpec(
        task_type=str(wiring["task"]), description=item, metadata=dict(metadata),
        working_directory=working_directory, job_name=wiring.get("job_name") or ctx.job_name,
        name=wiring.get("name"), inputs=inputs, outputs=outputs,
        requires_metadata_from=list(wiring.get("requires_metadata_from", [])), path=path)


def _sub_chain(ctx: AttemptContext, task_list: list, metadata: dict, name: str | None,
               path: str) -> ChildSpec:
    description = {"task": "execution_chain", "task_list": task_list}
    return ChildSpec(task_type="execution_chain", description=description, metadata=metadata,
                     working_directory=ctx.working_directory, job_name=ctx.job_name,
                     name=name, path=path)


def expand_chain(ctx: AttemptContext) -> list[ChildSpec]:
    return [child_spec(item, ctx, ctx.metadata, f"$.task_list[{i}]")
            for i, item in enumerate(ctx.description.get("task_list", []))]


def loop_values(desc: dict, ctx: AttemptContext) -> list[Any]:
    if "values" in desc:
        return [_value(v, ctx, ctx.metadata) for v in desc["values"]]
    kind = "linear_range" if "linear_range" in desc else "log_range"
    start, end, count = (_value(v, ctx, ctx.metadata) for v in desc[kind])
    count = int(count)
    if count < 1:
        raise ChainError([(f"$.{kind}[2]", "count must be at least 1")])
    if count == 1:
        return [float(start)]
    steps = range(count)
    if kind == "linear_range":
        return [start + (end - start) * i / (count - 1) for i in steps]
    if start <= 0 or end <= 0:
        raise ChainError([(f"$.{kind}", "log_range needs positive start and end")])
    ratio = math.log(end / start)
    return [start * math.exp(ratio * i / (count - 1)) for i in steps]


def expand_for_loop(ctx: AttemptContext) -> list[ChildSpec]:
    desc = ctx.description
    parameter = desc["parameter"]
    return [
        _sub_chain(ctx, desc["task_list"],
                   {**ctx.metadata, parameter: value, f"{parameter}_index": index},
                   f"{parameter}_{index}", f"$.task_list<{parameter}={value!r}>")
        for index, value in enumerate(loop_values(desc, ctx))
    ]


def expand_conditional(ctx: AttemptContext) -> list[ChildSpec]:
    desc = ctx.description
    if _value(desc["criterion"], ctx, ctx.metadata):
        return [_sub_chain(ctx, desc["task_list"], dict(ctx.metadata), "then", "$.task_list")]
    if desc.get("else_task_list"):
        return [_sub_chain(ctx, desc["else_task_list"], dict(ctx.metadata), "else",
                           "$.else_task_list")]
    return []


def expand_do_while(ctx: AttemptContext) -> list[ChildSpec]:
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
    check = {k: v for k, v in desc.items() if k not in ("check_iteration", "name")}
    check.update(name=f"{desc['iteration_name']}_check", check_iteration=iteration,
                 requires_metadata_from=list(desc.get("requires_metadata_from_child", [])))
    return [_sub_chain(ctx, [*desc["task_list"], check], {**ctx.metadata, index_key: iteration},
                       f"{desc['iteration_name']}_{iteration}", "$.task_list")]


EXPANDERS: dict[str, Callable[[AttemptContext], list[ChildSpec]]] = {
    "execution_chain": expand_chain,
    "execution_for_loop": expand_for_loop,
    "execution_conditional": expand_conditional,
    "execution_do_while_loop": expand_do_while,
}


def expand(ctx: AttemptContext) -> list[ChildSpec]:
    """Children of a control-flow attempt; raises EasError (expression, path) on bad input."""
    try:
        return EXPANDERS[ctx.task_type](ctx)
    except EasError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ChainError([("$", f"{ctx.task_type} description is invalid: {exc!r}")]) from None
