"""One task whole: what it is (type, job, name, parent, description), what it reads and writes
(file products with every version's size, MD5 and QC), its input metadata, every attempt (host,
times, state, reason, output metadata) and the log messages of those attempts."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from ..db import Database, Tx, chunks, marks
from ..model.attempts import stalled_cutoff
from ..model.metadata import DESCRIPTION_KEY, decode
from ..model.states import ATTEMPT_STATE_SQL, STALLED
from .base import Report, ReportError, utc_time
from .filters import severity_name
from .render import Table

MAX_LOG_MESSAGES = 1000
_TASK = (
    "SELECT t.taskId, t.parentTask, t.createdTime, t.jobName, t.taskName, t.workingDirectory,"
    " tt.taskTypeName, p.taskName, pt.taskTypeName,"
    " (SELECT COUNT(*) FROM eas_task c WHERE c.parentTask = t.taskId)"
    " FROM eas_task t INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    " LEFT OUTER JOIN eas_task p ON p.taskId = t.parentTask"
    " LEFT OUTER JOIN eas_task_types pt ON pt.taskTypeId = p.taskTypeId"
    " WHERE t.taskId = ?"
)
_METADATA = (
    "SELECT m.{owner}, k.name, m.valueFloat, m.valueString FROM eas_metadata_item m"
    " INNER JOIN eas_metadata_keys k ON k.keyId = m.metadataKey WHERE m.{owner} IN ({marks})"
    " ORDER BY k.name"
)
_ATTEMPTS = (
    "SELECT a.schedulingAttemptId, h.hostname, a.queuedTime, a.startTime, a.latestHeartbeat,"  # noqa: S608
    " a.endTime, " + ATTEMPT_STATE_SQL + ", a.errorText, a.allProductsPassedQc,"
    " a.runTimeWallClock, a.runTimeCpu, a.runTimeCpuIncChildren"
    " FROM eas_scheduling_attempt a LEFT OUTER JOIN eas_worker_host h ON h.hostId = a.hostId"
    " WHERE a.taskId = ? ORDER BY a.schedulingAttemptId"
)
_PRODUCT_COLUMNS = (
    "SELECT p.productId, st.name, p.directoryName, p.filename, p.mimeType, p.generatorTask"
    " FROM eas_product p INNER JOIN eas_semantic_type st ON st.semanticTypeId = p.semanticType"
)
_INPUTS = (_PRODUCT_COLUMNS + " INNER JOIN eas_task_input i ON i.inputId = p.productId"
           " WHERE i.taskId = ? ORDER BY st.name")
_OUTPUTS = _PRODUCT_COLUMNS + " WHERE p.generatorTask = ? ORDER BY st.name"
_VERSIONS = (
    "SELECT v.productId, v.productVersionId, v.generatedByTaskExecution, v.repositoryId,"
    " v.createdTime, v.modifiedTime, v.fileSize, v.fileMD5, v.passedQc"
    " FROM eas_product_version v WHERE v.productId IN ({marks}) ORDER BY v.productVersionId"
)
_METADATA_FROM = (
    "SELECT t.taskId, t.taskName, tt.taskTypeName FROM eas_task_metadata_input m"
    " INNER JOIN eas_task t ON t.taskId = m.inputId"
    " INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
    " WHERE m.taskId = ? ORDER BY t.taskId"
)
_LOGS = (
    "SELECT l.timestamp, l.generatedByTaskExecution, l.severity, l.message"
    " FROM eas_log_messages l WHERE l.generatedByTaskExecution IN ({marks})"
    " ORDER BY l.timestamp, l.generatedByTaskExecution LIMIT ?"
)
ATTEMPT_KEYS = ("attempt_id", "host", "queued_timestamp", "start_timestamp",
                "heartbeat_timestamp", "end_timestamp", "state", "error_text",
                "all_products_passed_qc", "wall_clock", "cpu", "cpu_inc_children")
VERSION_KEYS = ("product_id", "version_id", "attempt_id", "repository_id", "created_timestamp",
                "modified_timestamp", "size", "md5", "passed_qc")


def _metadata(tx: Tx, owner: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = defaultdict(dict)
    for chunk in chunks(ids):
        for owner_id, key, number, string in tx.tuples(
                _METADATA.format(owner=owner, marks=marks(chunk)), chunk):
            out[int(owner_id)][key] = decode(number, string)
    return out


def _products(tx: Tx, sql: str, task_id: int) -> list[dict]:
    products = [{"product_id": r[0], "semantic_type": r[1], "directory": r[2],
                 "filename": r[3], "mime_type": r[4], "generator_task": r[5],
                 "path": f"{r[2]}/{r[3]}" if r[2] else r[3], "versions": []}
                for r in tx.tuples(sql, (task_id,))]
    by_id = {p["product_id"]: p for p in products}
    ids = list(by_id)
    for chunk in chunks(ids):
        for found in tx.tuples(_VERSIONS.format(marks=marks(chunk)), chunk):
            version = dict(zip(VERSION_KEYS, found, strict=True))
            version["passed_qc"] = None if version["passed_qc"] is None else bool(
                version["passed_qc"])
            version["created"] = utc_time(version["created_timestamp"])
            by_id[version["product_id"]]["versions"].append(version)
    return products


def _reason(attempt: dict) -> str | None:
    """Why an attempt did not succeed: its error text, or that its heartbeats stopped."""
    if attempt["error_text"]:
        return attempt["error_text"].rstrip()
    if attempt["state"] == STALLED:
        last = attempt["heartbeat_timestamp"] or attempt["start_timestamp"]
        return f"no heartbeat since {utc_time(last)}"
    return None


def _attempts(tx: Tx, task_id: int, cutoff: float) -> list[dict]:
    rows = [dict(zip(ATTEMPT_KEYS, r, strict=True))
            for r in tx.tuples(_ATTEMPTS, (cutoff, task_id))]
    outputs = _metadata(tx, "schedulingAttemptId", [a["attempt_id"] for a in rows])
    for attempt in rows:
        for key in ("queued", "start", "heartbeat", "end"):
            attempt[key] = utc_time(attempt[key + "_timestamp"])
        attempt["reason"] = _reason(attempt)
        attempt["metadata"] = outputs.get(attempt["attempt_id"], {})
        passed = attempt["all_products_passed_qc"]
        attempt["all_products_passed_qc"] = None if passed is None else bool(passed)
    return rows


def _logs(tx: Tx, attempt_ids: list[int]) -> list[dict]:
    if not attempt_ids:
        return []
    found = tx.tuples(_LOGS.format(marks=marks(attempt_ids)),
                      [*attempt_ids, MAX_LOG_MESSAGES + 1])
    return [{"time": utc_time(ts), "timestamp": ts, "attempt_id": attempt, "severity": level,
             "level": severity_name(level), "message": (message or "").rstrip()}
            for ts, attempt, level, message in found]


def _fetch(tx: Tx, task_id: int, cutoff: float) -> dict | None:
    found = tx.tuples(_TASK, (task_id,))
    if not found:
        return None
    (tid, parent, created, job, name, workdir, task_type, parent_name, parent_type,
     children) = found[0]
    items = _metadata(tx, "taskId", [tid]).get(tid, {})
    description = items.pop(DESCRIPTION_KEY, None)
    if isinstance(description, str):
        try:
            description = json.loads(description)
        except ValueError:
            pass
    attempts = _attempts(tx, tid, cutoff)
    return {
        "task_id": tid, "task_type": task_type, "job_name": job, "task_name": name,
        "parent_id": parent, "parent_name": parent_name, "parent_type": parent_type,
        "children": int(children), "working_directory": workdir,
        "created": utc_time(created), "created_timestamp": created,
        "state": attempts[-1]["state"] if attempts else "waiting",
        "description": description, "metadata": items,
        "metadata_from": [{"task_id": r[0], "task_name": r[1], "task_type": r[2]}
                          for r in tx.tuples(_METADATA_FROM, (tid,))],
        "inputs": _products(tx, _INPUTS, tid), "outputs": _products(tx, _OUTPUTS, tid),
        "attempts": attempts, "logs": _logs(tx, [a["attempt_id"] for a in attempts]),
    }


def _text(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


def _tables(t: dict) -> list[Table]:
    about = Table(["Field", "Value"], [
        ["Task", t["task_id"]], ["Type", t["task_type"]], ["Job", t["job_name"]],
        ["Name", t["task_name"]], ["State", t["state"]], ["Parent", t["parent_id"]],
        ["Children", t["children"]], ["Working directory", t["working_directory"]],
        ["Created", t["created"]], ["Description", _text(t["description"])]], "Task")
    products = Table(["Direction", "Semantic type", "File", "Version", "Attempt", "Created",
                      "Size", "MD5", "QC"], [], "Files")
    for direction in ("inputs", "outputs"):
        for p in t[direction]:
            for v in p["versions"] or [None]:
                products.rows.append([direction[:-1], p["semantic_type"], p["path"],
                                      *([v["version_id"], v["attempt_id"], v["created"],
                                         v["size"], v["md5"], _qc(v["passed_qc"])] if v
                                        else [None] * 6)])
    metadata = Table(["Key", "Value"], [[k, _text(v)] for k, v in t["metadata"].items()],
                     "Input metadata")
    attempts = Table(["Attempt", "Host", "State", "Queued", "Start", "End", "Wall-clock (s)",
                      "CPU (s)", "Reason"],
                     [[a["attempt_id"], a["host"], a["state"], a["queued"], a["start"], a["end"],
                       _seconds(a["wall_clock"]), _seconds(a["cpu"]), a["reason"]]
                      for a in t["attempts"]], "Attempts")
    logs = Table(["Time", "Attempt", "Severity", "Message"],
                 [[m["time"], m["attempt_id"], m["level"], m["message"]] for m in t["logs"]],
                 "Log messages")
    return [about, products, metadata, attempts, logs]


def _qc(passed: bool | None) -> str | None:
    return None if passed is None else ("pass" if passed else "fail")


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def task(db: Database, task_id: int | str | None = None) -> Report:
    """One row: the task with ``inputs``/``outputs`` (each product with its ``versions``),
    ``metadata``, ``attempts`` and ``logs`` (at most MAX_LOG_MESSAGES, oldest first;
    ``logs_truncated`` says when there were more)."""
    if task_id is None or task_id == "":
        raise ReportError("report task needs a task_id")
    try:
        task_id = int(task_id)
    except (TypeError, ValueError):
        raise ReportError(f"task_id must be a whole number, not {task_id!r}") from None
    cutoff = stalled_cutoff(db.settings.max_heartbeat_age)
    found = db.read(lambda tx: _fetch(tx, task_id, cutoff))
    if found is None:
        raise ReportError(f"no task with id {task_id}")
    truncated = len(found["logs"]) > MAX_LOG_MESSAGES
    del found["logs"][MAX_LOG_MESSAGES:]
    return Report([found], _tables(found), extra={"logs_truncated": truncated})
