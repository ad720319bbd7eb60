"""The timings report: wall-clock, CPU and CPU-including-children seconds of every attempt
that started; its CSV form is one table per (job, task type) keyed by input metadata, with the
text table's columns (start, task, attempt, the three times) after the metadata."""

from __future__ import annotations

from ..db import Database, Tx
from .base import Report, utc_time
from .csv_stream import Pages
from .input_metadata import grouped_tables, short_input_metadata, with_metadata
from .render import Table

# The CSV form's columns after the metadata: the text table's, named as the rows' keys (job
# and task type are each table's title).
CSV_COLUMNS = ["start_time", "task_id", "attempt_id", "wall_clock", "cpu", "cpu_inc_children"]
_FROM = (
    " FROM eas_scheduling_attempt a"
    " INNER JOIN eas_task t ON t.taskId = a.taskId"
    " INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    " WHERE a.startTime IS NOT NULL AND (? IS NULL OR t.jobName = ?)"
    " AND (? IS NULL OR tt.taskTypeName = ?)"
)
_ATTEMPTS = (
    "SELECT a.schedulingAttemptId, a.startTime, t.jobName, tt.taskTypeName, t.taskId,"
    " a.runTimeWallClock, a.runTimeCpu, a.runTimeCpuIncChildren"
    + _FROM + " ORDER BY a.schedulingAttemptId"
)
_PAGE = (  # the CSV form's rows, a page at a time
    "SELECT a.schedulingAttemptId, t.jobName, tt.taskTypeName, t.taskId, a.startTime,"
    " a.runTimeWallClock, a.runTimeCpu, a.runTimeCpuIncChildren"
    + _FROM + " AND a.schedulingAttemptId > ? ORDER BY a.schedulingAttemptId LIMIT ?"
)
KEYS = ("attempt_id", "start_timestamp", "job_name", "task_type", "task_id",
        "wall_clock", "cpu", "cpu_inc_children")
TIMES = ("wall_clock", "cpu", "cpu_inc_children")


def _fetch(tx: Tx, job_name: str | None, task_type: str | None) -> tuple[list, dict]:
    found = tx.tuples(_ATTEMPTS, (job_name, job_name, task_type, task_type))
    return found, short_input_metadata(tx, job_name)


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _csv_values(start_time: str, task_id: int, attempt_id: int, times: list) -> list:
    """A CSV row's values after its metadata, in CSV_COLUMNS order."""
    return [start_time, task_id, attempt_id, *times]


def timings(db: Database, job_name: str | None = None, task_type: str | None = None) -> Report:
    """Rows per attempt in attempt order; text shows seconds to 0.01 s, CSV in full."""
    found, metadata = db.read(lambda tx: _fetch(tx, job_name, task_type))
    rows = [dict(zip(KEYS, r, strict=True)) for r in found]
    for row in rows:
        row["start_time"] = utc_time(row["start_timestamp"])
        row["values"] = _csv_values(row["start_time"], row["task_id"], row["attempt_id"],
                                    [row[k] for k in TIMES])
    text = Table(
        ["Start", "Job", "Task type", "Task", "Attempt", "Wall-clock (s)", "CPU (s)",
         "CPU incl. children (s)"],
        [[r["start_time"], r["job_name"], r["task_type"], r["task_id"], r["attempt_id"],
          *(_seconds(r[k]) for k in TIMES)] for r in rows])
    csv_tables = grouped_tables(rows, metadata, CSV_COLUMNS)
    for row in rows:
        row.pop("values")
    return Report(rows, [text], csv_tables)


def csv_pages(tx: Tx, job_name: str | None = None, task_type: str | None = None) -> Pages:
    """The CSV form's records a page at a time (see :mod:`.csv_stream`)."""
    def page(after: int, limit: int) -> list[tuple]:
        found = tx.tuples(_PAGE, (job_name, job_name, task_type, task_type, after, limit))
        return with_metadata(tx, [(*r[:4], _csv_values(utc_time(r[4]), r[3], r[0], list(r[5:])))
                                  for r in found])
    return page
