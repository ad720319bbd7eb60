"""One level of a job's task tree, for trees too big to send whole: the children of one task
(or the job's top-level tasks), a page at a time, failures first.

Each child carries its own state (that of its latest attempt), how many attempts and children
it has, whether a failed or a live (queued or running) task lies in its branch, and ``label``:
the metadata it adds to its parent's (a loop child's loop variable), so siblings can be told
apart. Branch flags come from one recursive query that climbs from the failed and live tasks
to the top, so the cost follows the number of such tasks, not the size of the job.
"""

from __future__ import annotations

from typing import Any

from ..db import Database, Tx, chunks, marks
from ..model.attempts import stalled_cutoff
from ..model.metadata import decode
from ..model.states import (
    ATTEMPT_STATE_SQL,
    FAILED,
    LATEST_ATTEMPT_JOIN,
    LIVE_STATES,
)
from .base import Report, ReportError
from .filters import whole
from .input_metadata import SHORT_VALUE
from .render import Table, cell_text

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_PARENT = {
    "child": "c.parentTask IN ({marks})",
    # Top-level tasks of a job: no parent, or a parent outside the job.
    "root": "(? IS NULL OR c.jobName = ?) AND (c.parentTask IS NULL OR NOT EXISTS (SELECT 1"
            " FROM eas_task p WHERE p.taskId = c.parentTask AND (? IS NULL OR p.jobName = ?)))",
}
_LIVE = ", ".join(f"'{s}'" for s in LIVE_STATES)
# Tasks whose latest attempt failed or is live, then every ancestor of each, with that state.
_BRANCHES = (
    "WITH RECURSIVE seed(taskId, kind) AS ("  # noqa: S608
    " SELECT a.taskId, " + ATTEMPT_STATE_SQL + " FROM eas_scheduling_attempt a"
    " INNER JOIN eas_task t ON t.taskId = a.taskId"
    " WHERE (a.errorFail OR a.isQueued OR a.isRunning) AND (? IS NULL OR t.jobName = ?)"
    " AND a.schedulingAttemptId = (SELECT MAX(x.schedulingAttemptId)"
    " FROM eas_scheduling_attempt x WHERE x.taskId = a.taskId)),"
    " up(taskId, kind) AS (SELECT taskId, kind FROM seed UNION"
    " SELECT t.parentTask, up.kind FROM up INNER JOIN eas_task t ON t.taskId = up.taskId"
    " WHERE t.parentTask IS NOT NULL)"
    " SELECT c.taskId, c.parentTask,"
    " MAX(CASE WHEN up.kind = '" + FAILED + "' THEN 1 ELSE 0 END),"
    " MAX(CASE WHEN up.kind IN (" + _LIVE + ") THEN 1 ELSE 0 END)"
    " FROM eas_task c LEFT OUTER JOIN up ON up.taskId = c.taskId"
    " WHERE {parent} GROUP BY c.taskId, c.parentTask"
)
_DETAILS = (
    "SELECT t.taskId, t.parentTask, t.taskName, tt.taskTypeName, "  # noqa: S608
    + ATTEMPT_STATE_SQL + ","
    " (SELECT COUNT(*) FROM eas_task k WHERE k.parentTask = t.taskId),"
    " (SELECT COUNT(*) FROM eas_scheduling_attempt x WHERE x.taskId = t.taskId)"
    + LATEST_ATTEMPT_JOIN + " WHERE t.taskId IN ({marks})"
)
_LABELS = (
    "SELECT m.taskId, k.name, m.valueFloat, m.valueString FROM eas_metadata_item m"
    " INNER JOIN eas_metadata_keys k ON k.keyId = m.metadataKey"
    " WHERE m.taskId IN ({marks}) AND k.name <> 'task_description'"
)
KEYS = ("task_id", "parent_id", "task_name", "task_type", "state", "children", "attempts")


def _branches(tx: Tx, job_name: str | None, parents: list[int] | None,
              cutoff: float) -> list[tuple]:
    """(task id, parent id, failed below, live below) of the children of ``parents`` (None:
    the job's top-level tasks)."""
    if parents is None:
        sql, where = _BRANCHES.format(parent=_PARENT["root"]), (job_name,) * 4
    else:
        sql = _BRANCHES.format(parent=_PARENT["child"].format(marks=marks(parents)))
        where = tuple(parents)
    return tx.tuples(sql, (cutoff, job_name, job_name, *where))


def _labels(tx: Tx, ids: list[int], parent_id: int | None) -> dict[int, dict[str, Any]]:
    """{task id: metadata it does not share with its parent (short values, no _index)}."""
    wanted = [*ids, *([parent_id] if parent_id is not None else [])]
    values: dict[int, dict[str, Any]] = {}
    for task_id, key, number, string in tx.tuples(_LABELS.format(marks=marks(wanted)), wanted):
        value = decode(number, string)
        if value is not None and len(cell_text(value)) <= SHORT_VALUE:
            values.setdefault(int(task_id), {})[key] = value
    inherited = values.get(parent_id, {}) if parent_id is not None else {}
    return {i: {k: v for k, v in values.get(i, {}).items()
                if inherited.get(k) != v and not k.endswith("_index")} for i in ids}


def _fetch(tx: Tx, job_name: str | None, parents: list[int] | None, running_only: bool,
           offset: int, limit: int, cutoff: float) -> dict[int | None, tuple[list[dict], int]]:
    """{parent: (a page of its children, how many it has)}; None keys the top level."""
    groups: dict[int | None, list[tuple]] = {p: [] for p in (parents or [None])}
    for task_id, parent, failed, live in _branches(tx, job_name, parents, cutoff):
        if live or not running_only:
            groups[None if parents is None else parent].append((task_id, failed, live))
    pages = {}
    for parent, flags in groups.items():
        flags.sort(key=lambda f: (-f[1], -f[2], f[0]))
        pages[parent] = (flags[offset:offset + limit], len(flags))
    ids = [int(f[0]) for page, _ in pages.values() for f in page]
    details: dict[int, dict] = {}
    for chunk in chunks(ids):
        details.update((int(r[0]), dict(zip(KEYS, r, strict=True))) for r in tx.tuples(
            _DETAILS.format(marks=marks(chunk)), (cutoff, *chunk)))
    out = {}
    for parent, (page, total) in pages.items():
        labels = _labels(tx, [int(f[0]) for f in page], parent) if page else {}
        rows = []
        for task_id, failed, live in page:
            row = details[int(task_id)]
            row.update(failed_below=bool(failed), live_below=bool(live),
                       label=labels[row["task_id"]])
            rows.append(row)
        out[parent] = (rows, total)
    return out


def task_tree_levels(db: Database, parent_ids: list[int], running_only: bool = False,
                     limit: int = PAGE_SIZE) -> dict[int, Report]:
    """:func:`task_tree` for several parents at once (one pass over the failed and live
    tasks): the dashboard opens a few levels of a tree this way."""
    cutoff = stalled_cutoff(db.settings.max_heartbeat_age)
    found = db.read(lambda tx: _fetch(tx, None, list(parent_ids), bool(running_only), 0,
                                      limit, cutoff)) if parent_ids else {}
    return {parent: _report(rows, total, 0, limit, parent)
            for parent, (rows, total) in found.items()}


def _label_text(label: dict[str, Any]) -> str:
    return ", ".join(f"{k}={cell_text(v)}" for k, v in sorted(label.items()))


def task_tree(db: Database, job_name: str | None = None, parent_id: int | str | None = None,
              running_only: bool = False, offset: int | str | None = None,
              limit: int | str | None = None) -> Report:
    """Rows: the children of ``parent_id`` (None: the job's top-level tasks) ordered failed
    branches first, then live ones, then by id; ``total`` children match (``running_only``:
    only branches with a queued or running task)."""
    parent = None if parent_id in (None, "") else whole(parent_id, "parent_id", 0, 0, 2**63 - 1)
    start = whole(offset, "offset", 0, 0, 2**31)
    size = whole(limit, "limit", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    if parent is not None and job_name is not None:
        raise ReportError("give a job_name or a parent_id, not both")
    cutoff = stalled_cutoff(db.settings.max_heartbeat_age)
    found = db.read(lambda tx: _fetch(tx, job_name, None if parent is None else [parent],
                                      bool(running_only), start, size, cutoff))
    rows, total = found[parent]
    return _report(rows, total, start, size, parent)


def _report(rows: list[dict], total: int, start: int, size: int, parent: int | None) -> Report:
    table = Table(["Task", "Type", "Name", "Label", "State", "Attempts", "Children",
                   "Failed below", "Live below"],
                  [[r["task_id"], r["task_type"], r["task_name"], _label_text(r["label"]),
                    r["state"], r["attempts"], r["children"], r["failed_below"],
                    r["live_below"]] for r in rows])
    return Report(rows, [table], extra={"total": total, "offset": start, "limit": size,
                                        "parent_id": parent})
