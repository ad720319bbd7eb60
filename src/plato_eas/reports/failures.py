"""The failures report: the tasks of a job whose latest attempt failed or stalled, with the
host, the time and the first line of the reason, a page at a time (the job page lists them
before the tree)."""

from __future__ import annotations

from ..db import Database, Tx
from ..model.attempts import stalled_cutoff
from ..model.states import ATTEMPT_STATE_SQL, FAILED, STALLED
from .base import Report, utc_time
from .filters import whole
from .render import Table

PAGE_SIZE = 20
# Candidates are attempts flagged failed or running (a stalled attempt is still flagged
# running); the state expression then tells failed and stalled from the rest.
_CANDIDATES = (
    "SELECT t.taskId, tt.taskTypeName, t.taskName, a.schedulingAttemptId, h.hostname,"  # noqa: S608
    " COALESCE(a.endTime, a.latestHeartbeat, a.startTime), " + ATTEMPT_STATE_SQL + ","
    " a.errorText FROM eas_scheduling_attempt a"
    " INNER JOIN eas_task t ON t.taskId = a.taskId"
    " INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    " LEFT OUTER JOIN eas_worker_host h ON h.hostId = a.hostId"
    " WHERE (a.errorFail OR a.isRunning) AND (? IS NULL OR t.jobName = ?)"
    " AND a.schedulingAttemptId = (SELECT MAX(x.schedulingAttemptId)"
    " FROM eas_scheduling_attempt x WHERE x.taskId = a.taskId)"
    " ORDER BY t.taskId"
)
KEYS = ("task_id", "task_type", "task_name", "attempt_id", "host", "timestamp", "state",
        "error_text")


def _first_line(text: str | None) -> str | None:
    """The last non-empty line of a traceback says what went wrong; other text its first."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return None
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]


def _fetch(tx: Tx, job_name: str | None, cutoff: float) -> list[tuple]:
    return tx.tuples(_CANDIDATES, (cutoff, job_name, job_name))


def failures(db: Database, job_name: str | None = None, offset: int | str | None = None,
             limit: int | str | None = None) -> Report:
    """Rows of failed or stalled tasks (by task id), ``reason`` in one line; ``total`` of
    them in all."""
    start = whole(offset, "offset", 0, 0, 2**31)
    size = whole(limit, "limit", PAGE_SIZE, 1, 1000)
    cutoff = stalled_cutoff(db.settings.max_heartbeat_age)
    found = [dict(zip(KEYS, r, strict=True))
             for r in db.read(lambda tx: _fetch(tx, job_name, cutoff))]
    found = [r for r in found if r["state"] in (FAILED, STALLED)]
    rows = found[start:start + size]
    for row in rows:
        row["time"] = utc_time(row["timestamp"])
        row["reason"] = (_first_line(row.pop("error_text"))
                         or ("no heartbeat" if row["state"] == STALLED else None))
    table = Table(["Task", "Type", "Name", "State", "Attempt", "Host", "Time", "Reason"],
                  [[r["task_id"], r["task_type"], r["task_name"], r["state"], r["attempt_id"],
                    r["host"], r["time"], r["reason"]] for r in rows],
                  keys=["task_id", "task_type", "task_name", "state", "attempt_id", "host",
                        "time", "reason"])
    return Report(rows, [table], extra={"total": len(found), "offset": start, "limit": size})
