"""The job tree: the task hierarchy, parent before children in task-id order, with each
task's attempts counted by §3.2 state.

Two set-based queries (tasks, attempt counts) and the tree is built in Python, so the cost
does not grow with a query per task.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ..db import Database, Tx
from ..model.states import LIVE_STATES, STATES, WAITING, attempt_state_counts
from ..model.states import empty_counts as no_attempts
from .base import Report, ReportError
from .render import Table

COUNTED = tuple(s for s in STATES if s != WAITING)  # a task's attempts, by state
INDENT = " | "
_TASKS = (
    "SELECT t.taskId, t.parentTask, t.jobName, tt.taskTypeName, t.taskName FROM eas_task t"
    " INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    " WHERE (? IS NULL OR t.jobName = ?) ORDER BY t.taskId"
)


@dataclass
class Forest:
    """Tasks by id, their children (in id order) and the roots: tasks whose parent is not
    among the selected tasks."""

    info: dict[int, tuple] = field(default_factory=dict)
    kids: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    roots: list[int] = field(default_factory=list)


def _forest(rows: list[tuple]) -> Forest:
    forest = Forest()
    forest.info = {int(r[0]): r for r in rows}
    for task_id, parent, *_ in rows:
        if parent is not None and int(parent) in forest.info:
            forest.kids[int(parent)].append(int(task_id))
        else:
            forest.roots.append(int(task_id))
    return forest


def _postorder(forest: Forest) -> list[int]:
    """Every task after all of its descendants (iterative: chains nest deeply)."""
    order, stack = [], [(r, False) for r in reversed(forest.roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((k, False) for k in forest.kids.get(node, ()))
    return order


def _keep_live(forest: Forest, counts: dict[int, dict[str, int]]) -> None:
    """Prune branches with no queued or running attempt anywhere below them."""
    live: set[int] = set()
    for node in _postorder(forest):
        kept = [k for k in forest.kids.get(node, ()) if k in live]
        forest.kids[node] = kept
        own = counts.get(node)
        if kept or (own and any(own[s] for s in LIVE_STATES)):
            live.add(node)
    forest.roots = [r for r in forest.roots if r in live]


def _subtree_sizes(forest: Forest) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for node in _postorder(forest):
        sizes[node] = 1 + sum(sizes[k] for k in forest.kids.get(node, ()))
    return sizes


def _walk(forest: Forest, max_depth: int | None):
    """Yield (task id, depth, hidden descendants) in display order."""
    sizes = _subtree_sizes(forest) if max_depth else {}
    stack = [(r, 0) for r in reversed(forest.roots)]
    while stack:
        node, depth = stack.pop()
        kids = forest.kids.get(node, ())
        if max_depth and depth + 1 >= max_depth:
            yield node, depth, sizes[node] - 1
            continue
        yield node, depth, 0
        stack.extend((k, depth + 1) for k in reversed(kids))


def _row(forest: Forest, counts: dict, node: int, depth: int, hidden: int) -> dict:
    _, parent, job, task_type, name = forest.info[node]
    own = counts.get(node) or no_attempts()
    return {"depth": depth, "task_id": node, "parent_id": parent, "job_name": job,
            "task_type": task_type, "task_name": name, **{s: own[s] for s in COUNTED},
            "hidden": hidden}


def _text_rows(row: dict) -> list[list]:
    label = f"{INDENT * row['depth']}{row['job_name'] or '<untitled>'}/{row['task_type']}"
    if row["task_name"]:
        label += f" ({row['task_name']})"
    lines = [[label, row["task_id"], *(row[s] for s in COUNTED)]]
    if row["hidden"]:
        note = f"{INDENT * (row['depth'] + 1)}… {row['hidden']} deeper tasks not shown"
        lines.append([note, "", *("" for _ in COUNTED)])
    return lines


def _fetch(tx: Tx, job_name: str | None, max_age: float) -> tuple[list[tuple], dict]:
    rows = tx.tuples(_TASKS, (job_name, job_name))
    return rows, attempt_state_counts(tx, job_name, max_age=max_age)


def job_tree(db: Database, job_name: str | None = None, max_depth: int | None = None,
             running_only: bool = False) -> Report:
    """One row per shown task; ``hidden`` counts the descendants cut off by ``max_depth``
    (the number of levels shown; None shows all)."""
    if max_depth is not None and int(max_depth) < 1:
        raise ReportError(f"max_depth must be at least 1, not {max_depth}")
    rows, counts = db.read(lambda tx: _fetch(tx, job_name, db.settings.max_heartbeat_age))
    forest = _forest(rows)
    if running_only:
        _keep_live(forest, counts)
    shown = [_row(forest, counts, *step) for step in _walk(forest, max_depth and int(max_depth))]
    columns = ["Task", "Id", *(s.capitalize() for s in COUNTED)]
    table = Table(columns, [line for r in shown for line in _text_rows(r)])
    hidden = sum(r["hidden"] for r in shown)
    return Report(shown, [table], extra={"hidden_tasks": hidden, "truncated": hidden > 0})
