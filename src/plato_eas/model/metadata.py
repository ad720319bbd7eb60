"""Metadata items (SPEC §3.1): numbers in ``valueFloat``, everything else in ``valueString``.

Items hang off a task (its inputs: loop variables, inherited values, ``task_description``) or
off a scheduling attempt (the task's output metadata). Lists and dicts are stored as JSON.
Integral numbers read back as ``int`` so that loop counters format as ``3``, not ``3.0``.
"""

from __future__ import annotations

import json
import time
from typing import Any, Iterable

from ..db import Tx, marks

DESCRIPTION_KEY = "task_description"


def encode(value: Any) -> tuple[float | None, str | None]:
    if isinstance(value, bool):
        return None, "true" if value else "false"
    if isinstance(value, (int, float)):
        return float(value), None
    if isinstance(value, str):
        return None, value
    return None, json.dumps(value, sort_keys=True)


def decode(value_float: float | None, value_string: str | None) -> Any:
    if value_float is not None:
        return int(value_float) if float(value_float).is_integer() else value_float
    if value_string is None:
        return None
    if value_string[:1] in ("[", "{"):
        try:
            return json.loads(value_string)
        except ValueError:
            return value_string
    return value_string


def key_ids(tx: Tx, names: Iterable[str]) -> dict[str, int]:
    """Ids of metadata keys, creating the missing ones."""
    names = sorted(set(names))
    if not names:
        return {}
    in_list = marks(names)
    found = dict(tx.tuples(f"SELECT name, keyId FROM eas_metadata_keys WHERE name IN ({in_list})",  # noqa: S608
                           names))
    missing = [n for n in names if n not in found]
    if missing:
        tx.executemany(f"{tx.dialect.insert_ignore} INTO eas_metadata_keys (name) VALUES (?)",
                       [(n,) for n in missing])
        found.update(tx.tuples(
            f"SELECT name, keyId FROM eas_metadata_keys WHERE name IN ({in_list})", names))  # noqa: S608
    return found


def write_items(tx: Tx, owner: str, items: list[tuple[int, dict[str, Any]]]) -> None:
    """Store ``{key: value}`` dicts for many owners at once; owner is ``taskId`` or
    ``schedulingAttemptId``. An existing value for the same owner and key is replaced."""
    assert owner in ("taskId", "schedulingAttemptId")
    keys = key_ids(tx, (k for _, values in items for k in values))
    now = time.time()
    rows = []
    for owner_id, values in items:
        for name, value in values.items():
            value_float, value_string = encode(value)
            rows.append((owner_id, now, keys[name], value_float, value_string))
    if not rows:
        return
    tx.executemany(f"DELETE FROM eas_metadata_item WHERE {owner} = ? AND metadataKey = ?",  # noqa: S608
                   [(r[0], r[2]) for r in rows])
    tx.executemany(
        f"INSERT INTO eas_metadata_item ({owner}, setAtTime, metadataKey, valueFloat, "  # noqa: S608
        "valueString) VALUES (?, ?, ?, ?, ?)", rows)


def _read(tx: Tx, owner: str, owner_id: int) -> dict[str, Any]:
    rows = tx.tuples(
        "SELECT k.name, i.valueFloat, i.valueString FROM eas_metadata_item i "  # noqa: S608
        f"JOIN eas_metadata_keys k ON k.keyId = i.metadataKey WHERE i.{owner} = ?", (owner_id,))
    return {name: decode(vf, vs) for name, vf, vs in rows}


def task_metadata(tx: Tx, task_id: int) -> tuple[dict[str, Any], dict | None]:
    """(input metadata, parsed task description) of a task."""
    items = _read(tx, "taskId", task_id)
    description = items.pop(DESCRIPTION_KEY, None)
    return items, description


def attempt_metadata(tx: Tx, attempt_id: int) -> dict[str, Any]:
    return _read(tx, "schedulingAttemptId", attempt_id)


def requested_metadata(tx: Tx, task_id: int) -> dict[str, dict[str, Any]]:
    """name -> metadata of the tasks this one requires metadata from (SPEC §4): each one's
    input metadata overlaid with the output metadata of its successful attempt."""
    out: dict[str, dict[str, Any]] = {}
    for input_id, name in tx.tuples(
            "SELECT t.taskId, t.taskName FROM eas_task_metadata_input m "
            "JOIN eas_task t ON t.taskId = m.inputId WHERE m.taskId = ? ORDER BY t.taskId",
            (task_id,)):
        values, _ = task_metadata(tx, input_id)
        attempt = tx.scalar(
            "SELECT MAX(schedulingAttemptId) FROM eas_scheduling_attempt "
            "WHERE taskId = ? AND allProductsPassedQc = 1", (input_id,))
        if attempt is not None:
            values.update(attempt_metadata(tx, attempt))
        out[name or str(input_id)] = values
    return out
