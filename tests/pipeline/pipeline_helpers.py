"""Helpers shared by the pipeline tests (fixtures live in conftest.py; this module has a name
of its own so that it can be imported next to other test folders' conftest modules)."""

from __future__ import annotations

import json
from pathlib import Path

from plato_eas.db import Database

CHAINS = Path(__file__).resolve().parents[2] / "examples" / "chains"


def chain(name: str) -> dict:
    return json.loads((CHAINS / f"{name}.json").read_text())


def table_counts(db: Database) -> dict[str, int]:
    from plato_eas.model.schema import TABLE_NAMES

    return {t: db.read(lambda tx, t=t: tx.scalar(f"SELECT COUNT(*) FROM {t}"))  # noqa: S608
            for t in TABLE_NAMES}


def attempt_rows(settings) -> list[dict]:
    """Every attempt with its task's name and type, oldest first."""
    with Database(settings) as db:
        return db.read(lambda tx: tx.rows(
            "SELECT a.*, t.taskName, tt.taskTypeName FROM eas_scheduling_attempt a "
            "JOIN eas_task t ON t.taskId = a.taskId "
            "JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId "
            "ORDER BY a.schedulingAttemptId"))


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie waiting for its parent does not)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_for(predicate, timeout: float, step: float = 0.05) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass; returns the last answer."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (children, their children…)."""
    import os

    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and alive(child):
                found.append(child)
                todo.append(child)
    return found


def started_attempts(settings, job: str) -> list[tuple[float, int, str]]:
    """(start time, attempt id, task type) of the job's attempts that started, in order."""
    with Database(settings) as db:
        return db.read(lambda tx: tx.tuples(
            "SELECT a.startTime, a.schedulingAttemptId, tt.taskTypeName"
            " FROM eas_scheduling_attempt a JOIN eas_task t ON t.taskId = a.taskId"
            " JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
            " WHERE t.jobName = ? AND a.startTime IS NOT NULL"
            " ORDER BY a.startTime, a.schedulingAttemptId", (job,)))
