"""The detection report: the pass/fail outcomes of each transit-detection task type (TDA)
against one of the chain's loop variables — per value, how many attempts recorded an
outcome, how many passed and the detection fraction — for the detection-limit plot.

It counts exactly what the pass_fail report lists (every attempt that recorded ``outcome``,
control-flow types left out, PASS counting as passed), grouped in the database.
"""

from __future__ import annotations

from collections import defaultdict

from ..db import Database, Tx
from .base import Report
from .input_metadata import title
from .pass_fail import CONTROL_FLOW_PREFIX
from .render import Table

PREFERRED = ("size", "snr", "period", "impact")
_JOINS = (
    " FROM eas_metadata_item o"
    " INNER JOIN eas_metadata_keys ok ON ok.keyId = o.metadataKey"
    " INNER JOIN eas_scheduling_attempt a ON a.schedulingAttemptId = o.schedulingAttemptId"
    " INNER JOIN eas_task t ON t.taskId = a.taskId"
    " INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
)
_WHERE = (
    " WHERE ok.name = 'outcome' AND (? IS NULL OR t.jobName = ?)"
    " AND (? IS NULL OR tt.taskTypeName = ?)"
)
# One task per chain entry (job, type and task name) that recorded an outcome: tasks of one
# entry share their loop variables, so these samples' numeric metadata are the candidates.
_SAMPLES = ("SELECT tt.taskTypeName, MIN(t.taskId)" + _JOINS + _WHERE  # noqa: S608
            + " GROUP BY t.jobName, tt.taskTypeName, t.taskName")
_NUMERIC_KEYS = (
    "SELECT DISTINCT k.name FROM eas_metadata_item m"
    " INNER JOIN eas_metadata_keys k ON k.keyId = m.metadataKey"
    " WHERE m.taskId = ? AND m.valueFloat IS NOT NULL"
)
# The first ? names the variable; a task without it (or no variable) groups under NULL.
_GROUPED = (
    "SELECT t.jobName, tt.taskTypeName, x.valueFloat, COUNT(*),"  # noqa: S608
    " SUM(CASE WHEN o.valueString = 'PASS' THEN 1 ELSE 0 END)" + _JOINS
    + " LEFT OUTER JOIN eas_metadata_keys xk ON xk.name = ?"
    " LEFT OUTER JOIN eas_metadata_item x ON x.taskId = t.taskId AND x.metadataKey = xk.keyId"
    + _WHERE + " GROUP BY t.jobName, tt.taskTypeName, x.valueFloat"
)


def _variables(tx: Tx, params: tuple) -> list[str]:
    """Numeric input metadata of the tasks with outcomes, loop indexes left out."""
    names: set[str] = set()
    for task_type, task_id in tx.tuples(_SAMPLES, params):
        if not task_type.startswith(CONTROL_FLOW_PREFIX):
            names.update(r[0] for r in tx.tuples(_NUMERIC_KEYS, (task_id,)))
    return sorted(n for n in names if not n.endswith("_index"))


def _choose(variables: list[str], variable: str | None) -> str | None:
    if variable:
        return variable
    for name in PREFERRED:
        if name in variables:
            return name
    return variables[0] if variables else None


def _fetch(tx: Tx, params: tuple, variable: str | None) -> tuple[list[str], str | None, list]:
    variables = _variables(tx, params)
    chosen = _choose(variables, variable)
    grouped = tx.tuples(_GROUPED, (chosen, *params))
    return variables, chosen, grouped


def detection(db: Database, job_name: str | None = None, task_type: str | None = None,
              variable: str | None = None) -> Report:
    """Rows per (job, task type, value of ``variable``), values ascending (tasks without the
    variable last, value None); ``variable`` defaults to size (else snr, period, impact, the
    first numeric one); ``variables`` lists the candidates."""
    params = (job_name, job_name, task_type, task_type)
    variables, chosen, grouped = db.read(lambda tx: _fetch(tx, params, variable))
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for job, type_name, value, attempts, passed in grouped:
        if type_name.startswith(CONTROL_FLOW_PREFIX):
            continue
        groups[(job or "", type_name)].append({
            "job_name": job, "task_type": type_name, "variable": chosen, "value": value,
            "attempts": int(attempts), "passed": int(passed or 0),
            "fraction": round(int(passed or 0) / int(attempts), 4)})
    rows, tables = [], []
    for (job, type_name), members in sorted(groups.items()):
        members.sort(key=lambda r: (r["value"] is None, r["value"] or 0.0))
        rows.extend(members)
        columns = [chosen or "value", "attempts", "passed", "fraction"]
        tables.append(Table(columns, [[r["value"], r["attempts"], r["passed"], r["fraction"]]
                                      for r in members], title(job or None, type_name),
                            keys=columns))
    return Report(rows, tables, extra={"variable": chosen, "variables": variables})
