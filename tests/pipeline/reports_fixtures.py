"""A small builder of task databases for report tests: rows inserted with SQL through the db
layer, so reports are tested against exactly the states they must recognise."""

from __future__ import annotations

import time
from pathlib import Path

from plato_eas.db import Database
from plato_eas.model.attempts import settle_all
from plato_eas.model.schema import create
from plato_eas.settings import Settings

NOW = time.time()

# Column values of an attempt in each §3.2 state ("idle": taken off the queue, never run).
ATTEMPT_STATES = {
    "queued": {"isQueued": 1, "queuedTime": NOW - 60},
    "running": {"isRunning": 1, "startTime": NOW - 30, "latestHeartbeat": NOW - 5},
    "stalled": {"isRunning": 1, "startTime": NOW - 4000, "latestHeartbeat": NOW - 3000},
    "done": {"isFinished": 1, "startTime": NOW - 100, "endTime": NOW - 90,
             "allProductsPassedQc": 1},
    "failed": {"isFinished": 1, "errorFail": 1, "startTime": NOW - 100, "endTime": NOW - 95,
               "allProductsPassedQc": 0},
    "cancelled": {"startTime": NOW - 100, "endTime": NOW - 80, "errorText": "cancelled"},
    "idle": {},
}


def open_db(tmp_path: Path) -> Database:
    settings = Settings(db_path=str(tmp_path / "eas.sqlite"), data_dir=str(tmp_path / "data"))
    db = Database(settings)
    create(db)
    return db


class Builder:
    """Inserts tasks, attempts, logs, metadata and dependencies; returns their ids."""

    def __init__(self, db: Database):
        self.db = db
        self._ids: dict[tuple[str, str], int] = {}

    def _insert(self, sql: str, params: tuple) -> int:
        return self.db.run(lambda tx: tx.insert(sql, params))

    def _named(self, table: str, name_col: str, name: str) -> int:
        key = (table, name)
        if key not in self._ids:
            self._ids[key] = self._insert(
                f"INSERT INTO {table} ({name_col}) VALUES (?)", (name,))  # noqa: S608
        return self._ids[key]

    def task_type(self, name: str) -> int:
        return self._named("eas_task_types", "taskTypeName", name)

    def task(self, task_type: str = "null", job: str | None = "job", parent: int | None = None,
             name: str | None = None) -> int:
        return self._insert(
            "INSERT INTO eas_task (parentTask, createdTime, isFullyConfigured, taskTypeId, "
            "jobName, taskName, workingDirectory) VALUES (?, ?, 1, ?, ?, ?, ?)",
            (parent, NOW, self.task_type(task_type), job, name, "work"))

    def attempt(self, task_id: int, state: str, **columns) -> int:
        """An attempt in ``state``; its task's settled state follows, as the lifecycle keeps it."""
        values = {"taskId": task_id, **ATTEMPT_STATES[state], **columns}
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)

        def unit(tx) -> int:
            attempt_id = tx.insert(
                f"INSERT INTO eas_scheduling_attempt ({names}) VALUES ({marks})",  # noqa: S608
                tuple(values.values()))
            settle_all(tx)
            return attempt_id
        return self.db.run(unit)

    def log(self, attempt_id: int | None, message: str, severity: int = 40,
            timestamp: float = NOW) -> None:
        self._insert("INSERT INTO eas_log_messages (generatedByTaskExecution, timestamp, "
                     "severity, message) VALUES (?, ?, ?, ?)",
                     (attempt_id, timestamp, severity, message))

    def metadata(self, task_id: int | None = None, attempt_id: int | None = None,
                 **values) -> None:
        for key, value in values.items():
            number = float(value) if isinstance(value, (int, float)) else None
            string = None if number is not None else str(value)
            self._insert(
                "INSERT INTO eas_metadata_item (taskId, schedulingAttemptId, setAtTime, "
                "metadataKey, valueFloat, valueString) VALUES (?, ?, ?, ?, ?, ?)",
                (task_id, attempt_id, NOW, self._named("eas_metadata_keys", "name", key),
                 number, string))

    def reads_file_of(self, task_id: int, producer: int, filename: str) -> int:
        """``task_id`` reads a file planned as ``producer``'s output; returns the product."""
        semantic = self._named("eas_semantic_type", "name", filename)
        product = self._insert(
            "INSERT INTO eas_product (generatorTask, plannedTime, directoryName, filename, "
            "semanticType, mimeType) VALUES (?, ?, ?, ?, ?, ?)",
            (producer, NOW, "work", filename, semantic, "text/plain"))
        self._insert("INSERT INTO eas_task_input (taskId, inputId, semanticType) VALUES (?, ?, ?)",
                     (task_id, product, semantic))
        return product

    def reads_metadata_of(self, task_id: int, producer: int) -> None:
        self._insert("INSERT INTO eas_task_metadata_input (taskId, inputId) VALUES (?, ?)",
                     (task_id, producer))
