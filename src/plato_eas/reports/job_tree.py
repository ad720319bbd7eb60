"""The job tree: the task hierarchy, parent before children in task-id order, with each
task's attempts counted by §3.2 state.

Whole: two set-based queries (tasks, attempt counts) and the tree is built in Python, so the
cost does not grow with a query per task. A page (``limit``, from ``offset``): the tree is
walked in the same order straight from the database, each task's children read in
``_CHUNK``-sized id ranges through the parent index, so time and memory follow the page's
position and size, not the size of the job.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ..db import Database, Tx, marks
from ..defaults import MAX_HEARTBEAT_AGE
from ..model.attempts import stalled_cutoff
from ..model.states import (
    ATTEMPT_STATE_SQL,
    LIVE_STATES,
    STATES,
    WAITING,
    attempt_state_counts,
)
from ..model.states import empty_counts as no_attempts
from .base import Report, ReportError
from .render import Table, stream_text

COUNTED = tuple(s for s in STATES if s != WAITING)  # a task's attempts, by state
COLUMNS = ["Task", "Id", *(s.capitalize() for s in COUNTED)]
INDENT = " | "
PAGE_SIZE = 100  # rows per page when only an offset is given
_TASKS = (
    "SELECT t.taskId, t.parentTask, t.jobName, tt.taskTypeName, t.taskName FROM eas_task t"
    " INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    " WHERE (? IS NULL OR t.jobName = ?) ORDER BY t.taskId"
)
_CHUNK = 500
STREAM_BATCH = 500  # rows of a streamed whole tree counted (and printed) at a time
_STEP = (  # the next _CHUNK children of one task (or roots), after a task id
    "SELECT t.taskId, t.parentTask, t.jobName, tt.taskTypeName, t.taskName FROM eas_task t"
    " INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    " WHERE {parent} AND (? IS NULL OR t.jobName = ?) AND t.taskId > ?"
    " ORDER BY t.taskId LIMIT ?"
)
_CHILD = "t.parentTask = ?"
# A root: no parent among the selected tasks (none, or one outside the job).
_ROOT = ("(t.parentTask IS NULL OR NOT EXISTS (SELECT 1 FROM eas_task p"
         " WHERE p.taskId = t.parentTask AND (? IS NULL OR p.jobName = ?)))")
_LIVE = ", ".join(f"'{s}'" for s in LIVE_STATES)
# The selected tasks with a queued or running attempt, and each one's selected ancestors.
_LIVE_BRANCHES = (
    "WITH RECURSIVE up(taskId) AS (SELECT a.taskId FROM eas_scheduling_attempt a"  # noqa: S608
    " INNER JOIN eas_task s ON s.taskId = a.taskId"
    " WHERE (a.isQueued OR a.isRunning) AND " + ATTEMPT_STATE_SQL + " IN (" + _LIVE + ")"
    " AND (? IS NULL OR s.jobName = ?)"
    " UNION SELECT p.taskId FROM up INNER JOIN eas_task t ON t.taskId = up.taskId"
    " INNER JOIN eas_task p ON p.taskId = t.parentTask WHERE (? IS NULL OR p.jobName = ?))"
    " SELECT taskId FROM up"
)
_PAGE_COUNTS = (
    "SELECT a.taskId, " + ATTEMPT_STATE_SQL + " AS state, COUNT(*)"  # noqa: S608
    " FROM eas_scheduling_attempt a WHERE a.taskId IN ({marks}) GROUP BY a.taskId, state"
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


def _kids(tx: Tx, parent: int | None, job_name: str | None):
    """The children of ``parent`` (None: the roots) in id order, a chunk per query."""
    after = -1
    while True:
        if parent is None:
            sql, where = _STEP.format(parent=_ROOT), (job_name, job_name)
        else:
            sql, where = _STEP.format(parent=_CHILD), (parent,)
        rows = tx.tuples(sql, (*where, job_name, job_name, after, _CHUNK))
        yield from rows
        if len(rows) < _CHUNK:
            return
        after = int(rows[-1][0])


def _stream(tx: Tx, job_name: str | None, live: set[int] | None, top: tuple | None = None,
            max_depth: int | None = None):
    """(task row, depth, descends) in display order: below ``top`` (a task row) or from the
    roots; ``descends`` is False where ``max_depth`` cuts the branch off."""
    stack = [(_kids(tx, None if top is None else int(top[0]), job_name), 0)]
    while stack:
        rows, depth = stack[-1]
        row = next(rows, None)
        if row is None:
            stack.pop()
            continue
        if live is not None and int(row[0]) not in live:
            continue
        descends = not (max_depth and depth + 1 >= max_depth)
        yield row, depth, descends
        if descends:
            stack.append((_kids(tx, int(row[0]), job_name), depth + 1))


def _steps(tx: Tx, job_name: str | None, max_depth: int | None, live: set[int] | None):
    """(task row, depth, hidden descendants) in display order, straight from the database."""
    for row, depth, descends in _stream(tx, job_name, live, max_depth=max_depth):
        hidden = 0 if descends else sum(1 for _ in _stream(tx, job_name, live, top=row))
        yield row, depth, hidden


def _live(tx: Tx, job_name: str | None, running_only: bool, cutoff: float) -> set[int] | None:
    if not running_only:
        return None
    return {int(r[0]) for r in tx.tuples(_LIVE_BRANCHES, (cutoff, *(job_name,) * 4))}


def _counts(tx: Tx, steps: list[tuple], cutoff: float) -> dict[int, dict[str, int]]:
    """The attempts of the steps' tasks, by state."""
    counts: dict[int, dict[str, int]] = defaultdict(no_attempts)
    ids = [int(r[0]) for r, _, _ in steps]
    if ids:
        for task_id, state, n in tx.tuples(_PAGE_COUNTS.format(marks=marks(ids)),
                                           (cutoff, *ids)):
            counts[int(task_id)][state] += int(n)
    return counts


def _page(tx: Tx, job_name: str | None, max_depth: int | None, running_only: bool,
          offset: int, limit: int, max_age: float) -> tuple[list[tuple], dict, bool]:
    """The page's (row, depth, hidden) steps, their attempt counts, and whether more follow."""
    cutoff = stalled_cutoff(max_age)
    live = _live(tx, job_name, running_only, cutoff)
    steps, more = [], False
    for index, (row, depth, descends) in enumerate(_stream(tx, job_name, live,
                                                           max_depth=max_depth)):
        if index < offset:
            continue
        if len(steps) == limit:
            more = True
            break
        hidden = 0 if descends else sum(1 for _ in _stream(tx, job_name, live, top=row))
        steps.append((row, depth, hidden))
    return steps, _counts(tx, steps, cutoff), more


def _shown(steps: list[tuple], counts: dict) -> list[dict]:
    forest = Forest(info={int(r[0]): r for r, _, _ in steps})
    return [_row(forest, counts, int(r[0]), depth, hidden) for r, depth, hidden in steps]


def batches(tx: Tx, job_name: str | None = None, max_depth: int | None = None,
            running_only: bool = False, max_age: float = MAX_HEARTBEAT_AGE):
    """The whole tree's rows in display order, ``STREAM_BATCH`` at a time: what a page walk
    reads, in one pass, so memory follows the depth of the tree and not its size."""
    cutoff = stalled_cutoff(max_age)
    live = _live(tx, job_name, running_only, cutoff)
    steps = []
    for step in _steps(tx, job_name, max_depth, live):
        steps.append(step)
        if len(steps) == STREAM_BATCH:
            yield _shown(steps, _counts(tx, steps, cutoff))
            steps = []
    if steps:
        yield _shown(steps, _counts(tx, steps, cutoff))


def text_lines(tx: Tx, job_name: str | None = None, max_depth: int | None = None,
               running_only: bool = False, max_age: float = MAX_HEARTBEAT_AGE):
    """The whole tree's table, a line at a time (``eas report job_tree`` at any size)."""
    rows = batches(tx, job_name, max_depth and int(max_depth), bool(running_only), max_age)
    return stream_text(COLUMNS, ([line for r in batch for line in _text_rows(r)]
                                 for batch in rows))


def _paged(db: Database, job_name: str | None, max_depth: int | None, running_only: bool,
           offset: int, limit: int) -> Report:
    steps, counts, more = db.read(lambda tx: _page(
        tx, job_name, max_depth, running_only, offset, limit, db.settings.max_heartbeat_age))
    shown = _shown(steps, counts)
    return _report(shown, {"offset": offset, "limit": limit,
                           "next_offset": offset + len(shown) if more else None})


def _report(shown: list[dict], extra: dict) -> Report:
    table = Table(COLUMNS, [line for r in shown for line in _text_rows(r)])
    hidden = sum(r["hidden"] for r in shown)
    return Report(shown, [table], extra={"hidden_tasks": hidden, "truncated": hidden > 0,
                                         **extra})


def job_tree(db: Database, job_name: str | None = None, max_depth: int | None = None,
             running_only: bool = False, offset: int | None = None,
             limit: int | None = None) -> Report:
    """One row per shown task; ``hidden`` counts the descendants cut off by ``max_depth``
    (the number of levels shown; None shows all). With ``limit`` (or ``offset``) only that
    page of the same rows, and ``next_offset`` (None on the last page)."""
    if max_depth is not None and int(max_depth) < 1:
        raise ReportError(f"max_depth must be at least 1, not {max_depth}")
    if offset is not None or limit is not None:
        if int(offset or 0) < 0 or (limit is not None and int(limit) < 1):
            raise ReportError(f"offset must be at least 0 and limit at least 1, not "
                              f"{offset} and {limit}")
        return _paged(db, job_name, max_depth and int(max_depth), bool(running_only),
                      int(offset or 0), int(limit or PAGE_SIZE))
    rows, counts = db.read(lambda tx: _fetch(tx, job_name, db.settings.max_heartbeat_age))
    forest = _forest(rows)
    if running_only:
        _keep_live(forest, counts)
    shown = [_row(forest, counts, *step) for step in _walk(forest, max_depth and int(max_depth))]
    return _report(shown, {})
