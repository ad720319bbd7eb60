"""The logs report: log messages at any severity, newest first, filtered by job, task type,
task, minimum severity and time, a page at a time (the errors report keeps ERROR and above,
oldest first, whole)."""

from __future__ import annotations

from ..db import Database, Tx
from .base import Report, utc_time
from .filters import severity_level, severity_name, timestamp, whole
from .render import Table

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_FROM = (
    " FROM eas_log_messages l"
    " LEFT OUTER JOIN eas_scheduling_attempt a"
    " ON a.schedulingAttemptId = l.generatedByTaskExecution"
    " LEFT OUTER JOIN eas_task t ON t.taskId = a.taskId"
    " LEFT OUTER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    " WHERE l.severity >= ? AND (? IS NULL OR t.jobName = ?)"
    " AND (? IS NULL OR tt.taskTypeName = ?) AND (? IS NULL OR t.taskId = ?)"
    " AND (? IS NULL OR l.timestamp >= ?) AND (? IS NULL OR l.timestamp < ?)"
)
_PAGE = (
    "SELECT l.timestamp, t.jobName, tt.taskTypeName, t.taskId, l.generatedByTaskExecution,"
    " l.severity, l.message" + _FROM  # noqa: S608
    + " ORDER BY l.timestamp DESC, l.generatedByTaskExecution DESC LIMIT ? OFFSET ?"
)
_COUNT = "SELECT COUNT(*)" + _FROM  # noqa: S608
KEYS = ("timestamp", "job_name", "task_type", "task_id", "attempt_id", "severity", "message")


def _fetch(tx: Tx, params: tuple, size: int, offset: int) -> tuple[list, int]:
    return tx.tuples(_PAGE, (*params, size, offset)), int(tx.scalar(_COUNT, params))


def logs(db: Database, job_name: str | None = None, task_type: str | None = None,
         task_id: int | str | None = None, min_severity: int | str | None = None,
         since: float | str | None = None, until: float | str | None = None,
         page: int | str | None = None, page_size: int | str | None = None) -> Report:
    """Rows of one page (newest first); ``total`` messages match, in ``pages`` pages."""
    level = severity_level(min_severity)
    start, end = timestamp(since, "since"), timestamp(until, "until")
    task = None if task_id in (None, "") else whole(task_id, "task_id", 0, 0, 2**63 - 1)
    size = whole(page_size, "page_size", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    number = whole(page, "page", 1, 1, 2**31)
    params = (level, job_name, job_name, task_type, task_type, task, task, start, start,
              end, end)
    found, total = db.read(lambda tx: _fetch(tx, params, size, (number - 1) * size))
    rows = [{"time": utc_time(r[0]), **dict(zip(KEYS, r, strict=True))} for r in found]
    for row in rows:
        row["message"] = (row["message"] or "").rstrip()
        row["level"] = severity_name(row["severity"])
    table = Table(["Time", "Job", "Task type", "Task", "Attempt", "Severity", "Message"],
                  [[r["time"], r["job_name"], r["task_type"], r["task_id"], r["attempt_id"],
                    r["level"], r["message"]] for r in rows],
                  keys=["time", "job_name", "task_type", "task_id", "attempt_id", "level",
                        "message"])
    pages = max(1, -(-total // size))
    return Report(rows, [table], extra={"total": total, "page": number, "pages": pages,
                                        "page_size": size})
