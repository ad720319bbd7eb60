"""Tables of results per (job, task type) keyed by each task's short input metadata, as the
prototype's pass/fail and timings CSV files laid them out (columns named as the metadata are).

A task's input metadata are its ``eas_metadata_item`` rows other than ``task_description``
(loop variables such as ``size`` and ``size_index``); values longer than 25 characters are
left out, so the columns stay readable parameters.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..db import Tx, chunks, marks
from ..model.metadata import decode
from .render import Table, cell_text

SHORT_VALUE = 25
_TASK_METADATA = (
    "SELECT m.taskId, k.name, m.valueFloat, m.valueString FROM eas_metadata_item m"
    " INNER JOIN eas_metadata_keys k ON k.keyId = m.metadataKey"
    " INNER JOIN eas_task t ON t.taskId = m.taskId"
    " WHERE m.taskId IS NOT NULL AND k.name <> 'task_description'"
    " AND (? IS NULL OR t.jobName = ?)"
)


_METADATA_OF = (
    "SELECT m.taskId, k.name, m.valueFloat, m.valueString FROM eas_metadata_item m"
    " INNER JOIN eas_metadata_keys k ON k.keyId = m.metadataKey"
    " WHERE m.taskId IN ({marks}) AND k.name <> 'task_description'"
)


def _short(found: list[tuple], out: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    for task_id, key, number, string in found:
        value = decode(number, string)
        if value is not None and len(cell_text(value)) <= SHORT_VALUE:
            out[int(task_id)][key] = value
    return dict(out)


def short_input_metadata(tx: Tx, job_name: str | None = None) -> dict[int, dict[str, Any]]:
    """{task id: {key: value}} of short input metadata (numbers as floats)."""
    return _short(tx.tuples(_TASK_METADATA, (job_name, job_name)), defaultdict(dict))


def short_input_metadata_of(tx: Tx, task_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The same for these tasks only (a page of a streamed report)."""
    found: list[tuple] = []
    for chunk in chunks(sorted(set(task_ids))):
        found += tx.tuples(_METADATA_OF.format(marks=marks(chunk)), chunk)
    return _short(found, defaultdict(dict))


def with_metadata(tx: Tx, page: list[tuple]) -> list[tuple]:
    """Page rows ``(attempt id, job, task type, task id, values)`` each with its task's short
    input metadata appended: what :mod:`.csv_stream` sorts and writes."""
    metadata = short_input_metadata_of(tx, [row[3] for row in page])
    return [(*row, metadata.get(row[3], {})) for row in page]


def _sort_key(values: list[Any]) -> tuple:
    """Numbers before text before missing values, so loop parameters sort naturally."""
    def one(v: Any) -> tuple:
        if v is None:
            return (2, 0.0, "")
        if isinstance(v, (int, float)):
            return (0, float(v), "")
        return (1, 0.0, str(v))
    return tuple(one(v) for v in values)


def title(job_name: str | None, task_type: str) -> str:
    return f"{job_name or '<untitled>'} / {task_type}"


def grouped_tables(records: list[dict], metadata: dict[int, dict[str, Any]],
                   value_columns: list[str]) -> list[Table]:
    """One table per (job, task type), ordered by job then type: the sorted metadata keys of
    its tasks, then ``value_columns`` taken from each record's ``values`` list."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for record in records:
        groups[(record["job_name"] or "", record["task_type"])].append(record)
    tables = []
    for (job, task_type), members in sorted(groups.items()):
        keys = sorted({k for m in members for k in metadata.get(m["task_id"], {})})
        rows = []
        for m in members:
            params = [metadata.get(m["task_id"], {}).get(k) for k in keys]
            rows.append((_sort_key(params), m["attempt_id"], params + list(m["values"])))
        rows.sort(key=lambda r: (r[0], r[1]))
        tables.append(Table(keys + value_columns, [r[2] for r in rows], title(job, task_type),
                            keys=keys + value_columns))
    return tables
