"""Shared helpers for the backend tests, proofs and benchmarks."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.settings import Settings


def init(settings: Settings) -> None:
    """Schema, registry and queues, as an operator's first two actions would."""
    actions.init_schema(settings)
    actions.init_queues(settings)


def add_null_tasks(settings: Settings, count: int, job_name: str = "bulk",
                   sleep: float | None = None) -> list[int]:
    """``count`` ready ``null`` tasks (no inputs), written in bulk; returns their ids."""
    from plato_eas.model import checks
    from plato_eas.model.metadata import write_items

    description = {"task": "null", **({"sleep": sleep} if sleep else {})}

    def unit(tx) -> list[int]:
        type_id = tx.scalar("SELECT taskTypeId FROM eas_task_types WHERE taskTypeName = 'null'")
        before = tx.scalar("SELECT COALESCE(MAX(taskId), 0) FROM eas_task")
        now = time.time()
        tx.executemany(
            "INSERT INTO eas_task (parentTask, createdTime, isFullyConfigured, taskTypeId, "
            "jobName, taskName, workingDirectory) VALUES (NULL, ?, 1, ?, ?, ?, ?)",
            [(now, type_id, job_name, f"t{i}", job_name) for i in range(count)])
        ids = [r[0] for r in tx.tuples(
            "SELECT taskId FROM eas_task WHERE taskId > ? AND jobName = ? ORDER BY taskId",
            (before, job_name))]
        if sleep:
            write_items(tx, "taskId", [(i, {"task_description": description})
                                       for i in ids])
        checks.mark(tx, ids)  # as registration does: the next pass checks them
        return ids

    with Database(settings) as db:
        return db.run(unit)


def attempt_rows(settings: Settings) -> list[dict]:
    with Database(settings) as db:
        return db.read(lambda tx: tx.rows(
            "SELECT schedulingAttemptId, taskId, isQueued, isRunning, isFinished, errorFail, "
            "hostId FROM eas_scheduling_attempt ORDER BY schedulingAttemptId"))


def new_host(settings: Settings, name: str = "test-host") -> int:
    with Database(settings) as db:
        return db.run(lambda tx: tx.insert(
            "INSERT INTO eas_worker_host (hostname) VALUES (?)", (name,)))


def registry_queue_names() -> list[str]:
    from plato_eas.tasks.registry import load_registry

    return sorted(load_registry(None).task_types)


def mysql_settings_for(mariadb, tmp_path: Path, **extra) -> tuple[Settings, str]:
    name = "eas_t_" + uuid.uuid4().hex[:12]
    mariadb.create_database(name)
    settings = Settings(
        db_engine="mysql", db_host="127.0.0.1", db_port=mariadb.port, db_user=mariadb.user,
        db_password=mariadb.password, db_name=name, data_dir=str(tmp_path / "data"), **extra)
    return settings, name


def amqp_options(rabbitmq) -> dict:
    return dict(queue_implementation="amqp", mq_host="127.0.0.1", mq_port=rabbitmq.port,
                mq_user=rabbitmq.user, mq_password=rabbitmq.password, mq_vhost=rabbitmq.vhost)
