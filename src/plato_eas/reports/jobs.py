"""The jobs report: every job with its submit time, task counts by state, first start, last
end and whether it is running, blocked, finished or cancelled (``model.states``); newest
first."""

from __future__ import annotations

from ..db import Database, Tx
from ..model.states import STATES, job_summaries
from .base import Report, ReportError, utc_time
from .render import Table

_SUBMITTED = ("SELECT jobName, MIN(createdTime) FROM eas_task WHERE (? IS NULL OR jobName = ?)"
              " GROUP BY jobName")
_TIMES = (
    "SELECT t.jobName, MIN(a.startTime), MAX(a.endTime) FROM eas_scheduling_attempt a"
    " INNER JOIN eas_task t ON t.taskId = a.taskId WHERE (? IS NULL OR t.jobName = ?)"
    " GROUP BY t.jobName"
)
COUNTED = (*STATES, "blocked")


def _fetch(tx: Tx, job_name: str | None, max_age: float) -> tuple[dict, dict, dict]:
    summaries = job_summaries(tx, job_name, max_age=max_age)
    submitted = dict(tx.tuples(_SUBMITTED, (job_name, job_name)))
    times = {job: (start, end) for job, start, end in tx.tuples(_TIMES, (job_name, job_name))}
    return summaries, submitted, times


def _sort_key(row: dict) -> tuple:
    return (-(row["submit_timestamp"] or 0.0), row["job_name"] or "")


def jobs(db: Database, job_name: str | None = None) -> Report:
    """One row per job (or only ``job_name``'s), newest first, with its task counts by state;
    given a ``job_name``, also ``by_type`` (each task type's counts, as the progress report
    has them; None otherwise). ``blocked`` is counted only while nothing of the job is in
    flight. An unknown ``job_name`` is an error."""
    summaries, submitted, times = db.read(
        lambda tx: _fetch(tx, job_name, db.settings.max_heartbeat_age))
    if job_name is not None and not summaries:
        raise ReportError(f"no job named {job_name!r}")
    rows = []
    for job, summary in summaries.items():
        start, end = times.get(job, (None, None))
        by_type = None if summary["by_type"] is None else [
            {"task_type": name, "total": sum(counts.values()), **counts}
            for name, counts in sorted(summary["by_type"].items())]
        rows.append({"job_name": job, "state": summary["state"], "total": summary["total"],
                     **{s: summary[s] for s in COUNTED}, "by_type": by_type,
                     "submit_timestamp": submitted.get(job), "first_start_timestamp": start,
                     "last_end_timestamp": end, "submitted": utc_time(submitted.get(job)),
                     "first_start": utc_time(start), "last_end": utc_time(end)})
    rows.sort(key=_sort_key)
    table = Table(["Job", "State", "Submitted", "First start", "Last end", "Total",
                   *(s.capitalize() for s in COUNTED)],
                  [[r["job_name"] or "<untitled>", r["state"], r["submitted"], r["first_start"],
                    r["last_end"], r["total"], *(r[s] for s in COUNTED)] for r in rows],
                  keys=["job_name", "state", "submitted", "first_start", "last_end", "total",
                        *COUNTED])
    return Report(rows, [table])
