"""The timing summary: per task type, statistics and histograms of the wall-clock and CPU
seconds of every attempt that started (the timings report lists the attempts themselves)."""

from __future__ import annotations

from collections import defaultdict

from ..db import Database, Tx
from .base import Report
from .distribution import histogram, summary
from .render import Table

_TIMES = (
    "SELECT tt.taskTypeName, a.runTimeWallClock, a.runTimeCpu FROM eas_scheduling_attempt a"
    " INNER JOIN eas_task t ON t.taskId = a.taskId"
    " INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    " WHERE a.startTime IS NOT NULL AND (? IS NULL OR t.jobName = ?)"
    " AND (? IS NULL OR tt.taskTypeName = ?)"
)
MEASURES = ("wall_clock", "cpu")
STATS = ("count", "min", "median", "mean", "p90", "max", "total")


def _fetch(tx: Tx, job_name: str | None, task_type: str | None) -> list[tuple]:
    return tx.tuples(_TIMES, (job_name, job_name, task_type, task_type))


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def timing_summary(db: Database, job_name: str | None = None,
                   task_type: str | None = None) -> Report:
    """One row per task type (sorted): ``attempts`` started, and for ``wall_clock`` and
    ``cpu`` the statistics of the measured ones and their ``histogram`` bins."""
    found = db.read(lambda tx: _fetch(tx, job_name, task_type))
    values: dict[str, dict[str, list[float]]] = defaultdict(lambda: {m: [] for m in MEASURES})
    started: dict[str, int] = defaultdict(int)
    for name, wall, cpu in found:
        started[name] += 1
        for measure, value in zip(MEASURES, (wall, cpu), strict=True):
            if value is not None:
                values[name][measure].append(float(value))
    rows = []
    for name in sorted(started):
        row = {"task_type": name, "attempts": started[name]}
        for measure in MEASURES:
            row[measure] = {**summary(values[name][measure]),
                            "histogram": histogram(values[name][measure])}
        rows.append(row)
    columns = ["Task type", "Attempts"] + [f"{label} {s}" for label in ("Wall", "CPU")
                                           for s in STATS if s != "count"]
    keys = ["task_type", "attempts"] + [f"{m}_{s}" for m in MEASURES for s in STATS
                                        if s != "count"]
    table = Table(columns, [[r["task_type"], r["attempts"],
                             *(_round(r[m][s]) for m in MEASURES for s in STATS if s != "count")]
                            for r in rows], keys=keys)
    return Report(rows, [table])
