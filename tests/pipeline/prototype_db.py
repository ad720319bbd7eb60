"""A task database as the original prototype wrote it (its DDL, a few tasks and attempts in
every state), shared by the schema-adoption and backup tests."""

from __future__ import annotations

import time

from plato_eas.db import Database
from plato_eas.settings import Settings

# -- the prototype's schema ---------------------------------------------------------------
# The original prototype's tables as its initschema.sql created them: note the worker
# container columns (requiredCpus/Gpus/Ram) and no eas_task.isFullyConfigured.
PROTOTYPE_DDL = [
    "CREATE TABLE eas_worker_containers (containerId {pk}, containerName VARCHAR(64) UNIQUE "
    "NOT NULL, requiredCpus REAL NOT NULL, requiredGpus INTEGER NOT NULL, requiredRam REAL "
    "NOT NULL)",
    "CREATE TABLE eas_task_types (taskTypeId {pk}, taskTypeName VARCHAR(64) UNIQUE NOT NULL)",
    "CREATE TABLE eas_task_containers (taskTypeId INTEGER NOT NULL, containerId INTEGER "
    "NOT NULL)",
    "CREATE TABLE eas_task (taskId {pk}, parentTask INTEGER, createdTime REAL, taskTypeId "
    "INTEGER NOT NULL, jobName VARCHAR(256), taskName VARCHAR(256), workingDirectory "
    "VARCHAR(1024) NOT NULL)",
    "CREATE TABLE eas_worker_host (hostId {pk}, hostname VARCHAR(256) DEFAULT NULL)",
    "CREATE TABLE eas_scheduling_attempt (schedulingAttemptId {pk}, taskId INTEGER NOT NULL, "
    "queuedTime REAL DEFAULT NULL, isQueued BOOLEAN DEFAULT FALSE, isRunning BOOLEAN DEFAULT "
    "FALSE, isFinished BOOLEAN DEFAULT FALSE, hostId INTEGER DEFAULT NULL, startTime REAL "
    "DEFAULT NULL, latestHeartbeat REAL DEFAULT NULL, endTime REAL DEFAULT NULL, "
    "allProductsPassedQc BOOLEAN DEFAULT NULL, errorFail BOOLEAN NOT NULL DEFAULT FALSE, "
    "errorText TEXT DEFAULT NULL, runTimeWallClock REAL DEFAULT NULL, runTimeCpu REAL DEFAULT "
    "NULL, runTimeCpuIncChildren REAL DEFAULT NULL)",
    "CREATE TABLE eas_log_messages (generatedByTaskExecution INTEGER, timestamp REAL NOT NULL, "
    "severity INTEGER NOT NULL, message VARCHAR(4096))",
    "CREATE TABLE eas_semantic_type (semanticTypeId {pk}, name VARCHAR(256) UNIQUE NOT NULL)",
    "CREATE TABLE eas_product (productId {pk}, generatorTask INTEGER NOT NULL, plannedTime "
    "REAL, directoryName VARCHAR(512) NOT NULL, filename VARCHAR(256) NOT NULL, semanticType "
    "INTEGER NOT NULL, mimeType VARCHAR(64))",
    "CREATE TABLE eas_product_version (productVersionId {pk}, productId INTEGER NOT NULL, "
    "generatedByTaskExecution INTEGER NOT NULL, repositoryId VARCHAR(64) UNIQUE NOT NULL, "
    "createdTime REAL, modifiedTime REAL, fileMD5 VARCHAR(32), fileSize INTEGER, passedQc "
    "BOOLEAN)",
    "CREATE TABLE eas_metadata_keys (keyId {pk}, name VARCHAR(64) UNIQUE NOT NULL)",
    "CREATE TABLE eas_metadata_item (taskId INTEGER, schedulingAttemptId INTEGER, productId "
    "INTEGER, productVersionId INTEGER, setAtTime REAL, metadataKey INTEGER, valueFloat REAL, "
    "valueString TEXT)",
    "CREATE TABLE eas_task_input (taskId INTEGER NOT NULL, inputId INTEGER NOT NULL, "
    "semanticType INTEGER NOT NULL, UNIQUE (taskId, semanticType))",
    "CREATE TABLE eas_task_metadata_input (taskId INTEGER NOT NULL, inputId INTEGER NOT NULL, "
    "UNIQUE (taskId, inputId))",
]


def write_prototype_database(settings: Settings) -> None:
    """Three task types; per type: done / queued / running / waiting tasks, prototype-style."""
    now = time.time()

    def unit(tx):
        pk = tx.dialect.autoincrement
        for stmt in PROTOTYPE_DDL:
            tx.execute(stmt.format(pk=pk))
        tx.execute("INSERT INTO eas_worker_containers (containerName, requiredCpus, "
                   "requiredGpus, requiredRam) VALUES ('eas-base', 1, 0, 2)")
        for name in ("execution_chain", "synthesis_psls", "transit_search_bls"):
            tx.execute("INSERT INTO eas_task_types (taskTypeName) VALUES (?)", (name,))
        root = tx.insert("INSERT INTO eas_task (parentTask, createdTime, taskTypeId, jobName, "
                         "taskName, workingDirectory) VALUES (NULL, ?, 1, 'proto', 'root', "
                         "'proto')", (now,))
        host = tx.insert("INSERT INTO eas_worker_host (hostname) VALUES ('old-node')")
        tx.execute("INSERT INTO eas_scheduling_attempt (taskId, queuedTime, isFinished, "
                   "hostId, startTime, endTime, allProductsPassedQc, runTimeWallClock) "
                   "VALUES (?, ?, 1, ?, ?, ?, 1, 1.5)", (root, now, host, now, now + 1))
        for type_id in (2, 3):
            tasks = [tx.insert("INSERT INTO eas_task (parentTask, createdTime, taskTypeId, "
                               "jobName, workingDirectory) VALUES (?, ?, ?, 'proto', 'proto')",
                               (root, now, type_id)) for _ in range(4)]
            done, queued, running, _waiting = tasks
            tx.execute("INSERT INTO eas_scheduling_attempt (taskId, queuedTime, isFinished, "
                       "hostId, startTime, endTime, allProductsPassedQc, runTimeWallClock) "
                       "VALUES (?, ?, 1, ?, ?, ?, 1, 2.5)", (done, now, host, now, now + 2))
            tx.execute("INSERT INTO eas_scheduling_attempt (taskId, queuedTime, isQueued) "
                       "VALUES (?, ?, 1)", (queued, now))
            tx.execute("INSERT INTO eas_scheduling_attempt (taskId, queuedTime, isRunning, "
                       "hostId, startTime, latestHeartbeat) VALUES (?, ?, 1, ?, ?, ?)",
                       (running, now, host, now, now))
        tx.execute("INSERT INTO eas_log_messages (generatedByTaskExecution, timestamp, "
                   "severity, message) VALUES (1, ?, 40, 'Traceback: old failure')", (now,))

    with Database(settings, create=True) as db:
        db.run(unit, attempts=1)
