"""Metadata items: values that round-trip their JSON type, in the prototype's two columns.

Items hang off a task (its inputs: loop variables, inherited values, ``task_description``) or
off a scheduling attempt (the task's output metadata).

The prototype stored numbers in ``valueFloat`` and everything else, as text, in
``valueString``; it read ``valueFloat`` when set. That loses types: ``false`` came back as the
(truthy) string ``"false"``, ``3.0`` as ``3``, the string ``"[1, 2]"`` as a list. So a value
whose type the prototype's reading would not restore is stored as JSON in ``valueString``
behind :data:`MARK` (a control character, U+001E, that no prototype value starts with), and a
string that would read back as something else is marked too:

=====================  ===================  ============================  ==============
value                  valueFloat           valueString                   reads back as
=====================  ===================  ============================  ==============
``3``, ``-2``          ``3.0``, ``-2.0``    NULL                          int
``2.5``                ``2.5``              NULL                          float
``3.0``                ``3.0``              ``MARK + "3.0"``              float
``true``, ``false``    ``1.0``, ``0.0``     ``MARK + "true"``, …          bool
integers past 2**53    the nearest float    ``MARK + digits``             int
``"text"``             NULL                 ``"text"``                    str
``"[1, 2]"``, ``"{"``  NULL                 ``MARK + '"[1, 2]"'``, …      str
lists, objects         NULL                 JSON (as the prototype)       list, dict
``null``               NULL                 NULL                          None
=====================  ===================  ============================  ==============

Rows written by the prototype (no mark) read as before: ``valueFloat`` when set (integral
values as ``int``), else the text, parsed as JSON when it looks like an array or object.
Numbers stay in ``valueFloat`` in every case, so the prototype's tools and SQL still see them.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any, Iterable

from ..db import Tx, marks
from ..errors import EasError
from .values import TEXT_BYTES, json_problem, key_problem

DESCRIPTION_KEY = "task_description"
MARK = "\x1e"  # starts a JSON-encoded valueString; never the first character of prototype text
_EXACT_INTEGERS = 2 ** 53  # every integer up to here is exactly a float
# json.dumps(value, ensure_ascii=False, allow_nan=False), without making an encoder per call
# (a registration encodes one task description per task)
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


class MetadataError(EasError):
    """A metadata key or value the task database cannot store faithfully."""


def check_metadata(values: Any, what: str = "metadata") -> dict[str, Any]:
    """Return ``values`` when it is a dict the database can store as metadata items (keys
    within their column and distinct under every collation, values JSON and finite); raise
    :class:`MetadataError` naming the first offending key otherwise."""
    if not isinstance(values, dict):
        raise MetadataError(f"{what} must be a JSON object (a dict), not {type(values).__name__}")
    for key, value in values.items():
        problem = key_problem(key)
        if problem:
            raise MetadataError(f"{what}: {problem}")
        problem = json_problem(value)
        if problem:
            raise MetadataError(f"{what}[{key!r}]: {problem}")
    return values


def encode(value: Any) -> tuple[float | None, str | None]:
    """(valueFloat, valueString) for a JSON value (see the module's table)."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return float(value), MARK + ("true" if value else "false")
    if isinstance(value, int):
        if abs(value) <= _EXACT_INTEGERS:
            return float(value), None
        return _float_or_none(value), MARK + str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MetadataError(f"{value!r} is not a finite number")
        return (value, MARK + repr(value)) if value.is_integer() else (value, None)
    if isinstance(value, str):
        if value.startswith((MARK, "[", "{")):
            return None, MARK + json.dumps(value, ensure_ascii=False)
        return None, value
    return None, _ENCODE(value)


def _float_or_none(value: int) -> float | None:
    try:
        return float(value)
    except OverflowError:
        return None


def decode(value_float: float | None, value_string: str | None) -> Any:
    """The value of a (valueFloat, valueString) pair, ours or the prototype's."""
    if value_string is not None and value_string.startswith(MARK):
        try:
            return json.loads(value_string[1:])
        except ValueError:
            return value_string
    if value_float is not None:
        return int(value_float) if float(value_float).is_integer() else value_float
    if value_string is None:
        return None
    if value_string[:1] in ("[", "{"):  # lists and objects
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


def write_items(tx: Tx, owner: str, items: list[tuple[int, dict[str, Any]]],
                fresh: bool = False) -> None:
    """Store ``{key: value}`` dicts for many owners at once; owner is ``taskId`` or
    ``schedulingAttemptId`` or ``productVersionId``. An existing value for the same owner and
    key is replaced (``fresh``: the owners are new and have none, so nothing is looked for)."""
    assert owner in ("taskId", "schedulingAttemptId", "productVersionId")
    for _, values in items:  # (a description was checked as a whole chain at submission)
        if not isinstance(values, dict) or len(values) > (DESCRIPTION_KEY in values):
            check_metadata({k: v for k, v in values.items() if k != DESCRIPTION_KEY})
    keys = key_ids(tx, (k for _, values in items for k in values))
    now = time.time()
    rows = []
    for owner_id, values in items:
        for name, value in values.items():
            value_float, value_string = encode(value)
            if value_string is not None and len(value_string) * 4 > TEXT_BYTES \
                    and len(value_string.encode("utf-8")) > TEXT_BYTES:
                raise MetadataError(f"metadata[{name!r}] is too large to store "
                                    f"(more than {TEXT_BYTES:,} bytes)")
            rows.append((owner_id, now, keys[name], value_float, value_string))
    if not rows:
        return
    if not fresh:
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


def product_version_metadata(tx: Tx, product_id: int) -> dict[str, Any]:
    """Metadata of a file product's latest version that passed QC (e.g. what a synthesis
    injected into a light curve); {} when it has none."""
    version_id = tx.scalar(
        "SELECT MAX(productVersionId) FROM eas_product_version WHERE productId = ? "
        "AND passedQc = 1", (product_id,))
    return {} if version_id is None else _read(tx, "productVersionId", version_id)


def requested_metadata(tx: Tx, task_id: int) -> dict[str, dict[str, Any]]:
    """name -> metadata of the tasks this one requires metadata from: each one's input
    metadata overlaid with the output metadata of its successful attempt."""
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
