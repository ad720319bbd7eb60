"""The errors report: every log message at ERROR (40) or above, tracebacks included, oldest
first, with the job, task type, task and attempt that logged it."""

from __future__ import annotations

from ..db import Database
from .base import Report, utc_time
from .render import Table

ERROR_LEVEL = 40
_ERRORS = (
    "SELECT l.timestamp, t.jobName, tt.taskTypeName, t.taskId, l.generatedByTaskExecution,"
    " l.severity, l.message"
    " FROM eas_log_messages l"
    " LEFT OUTER JOIN eas_scheduling_attempt a"
    " ON a.schedulingAttemptId = l.generatedByTaskExecution"
    " LEFT OUTER JOIN eas_task t ON t.taskId = a.taskId"
    " LEFT OUTER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    " WHERE l.severity >= ? AND (? IS NULL OR t.jobName = ?)"
    " AND (? IS NULL OR tt.taskTypeName = ?)"
    " ORDER BY l.timestamp, l.generatedByTaskExecution"
)
KEYS = ("timestamp", "job_name", "task_type", "task_id", "attempt_id", "severity", "message")


def errors(db: Database, job_name: str | None = None, task_type: str | None = None) -> Report:
    """Rows with ``time`` (UTC text) and the raw ``timestamp``; the message kept whole."""
    params = (ERROR_LEVEL, job_name, job_name, task_type, task_type)
    found = db.read(lambda tx: tx.tuples(_ERRORS, params))
    rows = [{"time": utc_time(r[0]), **dict(zip(KEYS, r, strict=True))} for r in found]
    for row in rows:
        row["message"] = (row["message"] or "").rstrip()
    table = Table(["Time", "Job", "Task type", "Task", "Attempt", "Message"],
                  [[r["time"], r["job_name"], r["task_type"], r["task_id"], r["attempt_id"],
                    r["message"]] for r in rows],
                  keys=["time", "job_name", "task_type", "task_id", "attempt_id", "message"])
    return Report(rows, [table])
