"""The pass/fail report: for every attempt that recorded an ``outcome`` in its output
metadata, 1 when it is ``PASS`` else 0, in one table per (job, task type) keyed by the task's
input metadata. Control-flow (``execution_*``) tasks are left out."""

from __future__ import annotations

from ..db import Database, Tx
from ..model.metadata import decode
from .base import Report
from .csv_stream import Pages
from .input_metadata import grouped_tables, short_input_metadata, with_metadata

CONTROL_FLOW_PREFIX = "execution_"
CSV_VALUES = ["outcome"]
_COLUMNS = (
    "SELECT a.schedulingAttemptId, t.jobName, tt.taskTypeName, t.taskId,"
    " m.valueString, m.valueFloat"
)
_FROM = (
    " FROM eas_metadata_item m"
    " INNER JOIN eas_metadata_keys k ON k.keyId = m.metadataKey"
    " INNER JOIN eas_scheduling_attempt a ON a.schedulingAttemptId = m.schedulingAttemptId"
    " INNER JOIN eas_task t ON t.taskId = a.taskId"
    " INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    " WHERE k.name = 'outcome' AND (? IS NULL OR t.jobName = ?)"
    " AND (? IS NULL OR tt.taskTypeName = ?)"
)
_OUTCOMES = _COLUMNS + _FROM + " ORDER BY a.schedulingAttemptId"
_PAGE = (_COLUMNS + _FROM  # the CSV form's rows (no control flow), a page at a time
         + " AND SUBSTR(tt.taskTypeName, 1, " + str(len(CONTROL_FLOW_PREFIX)) + ") <> '"
         + CONTROL_FLOW_PREFIX + "' AND a.schedulingAttemptId > ?"
         " ORDER BY a.schedulingAttemptId LIMIT ?")


def _fetch(tx: Tx, job_name: str | None, task_type: str | None) -> tuple[list, dict]:
    found = tx.tuples(_OUTCOMES, (job_name, job_name, task_type, task_type))
    return found, short_input_metadata(tx, job_name)


def _row(found: tuple, metadata: dict) -> dict:
    attempt_id, job, task_type, task_id, string, number = found
    recorded = decode(number, string)
    return {"job_name": job, "task_type": task_type, "task_id": task_id,
            "attempt_id": attempt_id, "outcome": int(recorded == "PASS"),
            "recorded": recorded, "metadata": metadata.get(task_id, {})}


def pass_fail(db: Database, job_name: str | None = None,
              task_type: str | None = None) -> Report:
    """Rows per attempt (with its input ``metadata``); text and CSV show the same tables."""
    found, metadata = db.read(lambda tx: _fetch(tx, job_name, task_type))
    rows = [_row(f, metadata) for f in found if not f[2].startswith(CONTROL_FLOW_PREFIX)]
    records = [{**r, "values": [r["outcome"]]} for r in rows]
    return Report(rows, grouped_tables(records, metadata, CSV_VALUES))



def csv_pages(tx: Tx, job_name: str | None = None, task_type: str | None = None) -> Pages:
    """The CSV form's records a page at a time (see :mod:`.csv_stream`)."""
    def page(after: int, limit: int) -> list[tuple]:
        found = tx.tuples(_PAGE, (job_name, job_name, task_type, task_type, after, limit))
        return with_metadata(tx, [
            (attempt_id, job, kind, task_id, [int(decode(number, string) == "PASS")])
            for attempt_id, job, kind, task_id, string, number in found])
    return page
