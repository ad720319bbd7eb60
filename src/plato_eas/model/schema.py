"""The task-database schema (SPEC §3.1): the prototype's tables and camelCase columns, exactly,
plus our additions (indexes, ``eas_schema_version``, ``eas_config``).

Schema changes after the first release are appended to ``MIGRATIONS``; ``SCHEMA_VERSION`` is
the number of the last one. A database stamped with a higher version was written by a newer
release and is refused; one stamped with a lower version is brought up to date by ``schema``
(``eas init``) and refused by everything else until then. A migration only adds what is
missing, so it also completes a database adopted from the prototype.

Version 2 (job control): a task's and an attempt's ``priority`` (higher first; an attempt
carries its task's, so the claim reads one index), an attempt's ``failureKind`` (error,
time_limit, stalled) and ``retryAt`` (when the scheduler next acts on it: decides whether to
retry a failure, or queues a retry that waited out its backoff), and ``eas_cancelled_job``: the
jobs an operator cancelled, which nothing schedules until ``reschedule`` names them. Reports
read none of these columns, so they still read older databases and the prototype's.

Version 3 (reports at scale): a task's ``settledState``, the state its latest attempt settled
in (failed, done, cancelled; NULL while it has none or it can still change), kept by
``model/attempts.py`` and indexed with the task's type and job, so the progress report counts
settled tasks without visiting their attempts. The migration computes it for every task. A
tool other than plato_eas that adds an attempt to a settled task must set it to NULL.

Version 4 (incremental scheduling): ``eas_task_check``, the tasks whose readiness a pass is
to check (``model/checks.py``). The migration marks every task that has no attempt yet, so
the first pass after it checks whatever an older release left waiting.
"""

from __future__ import annotations

import time
from typing import Callable

from ..db.database import UNIT_ATTEMPTS, Database, Tx
from ..errors import SchemaError
from . import attempts

SCHEMA_VERSION = 4

# {pk} and {text} are filled in by the dialect; everything else is common SQL. ({text} is
# MEDIUMTEXT on MySQL: a chain's description or a traceback can outgrow TEXT's 64 KiB.)
TABLES: list[tuple[str, str]] = [
    ("eas_worker_containers", """(
    containerId   {pk},
    containerName VARCHAR(64) NOT NULL UNIQUE,
    requestedCpus REAL,
    requestedGpus INTEGER,
    requestedRam  REAL,
    assignedCpus  REAL,
    assignedGpus  INTEGER,
    assignedRam   REAL
)"""),
    ("eas_task_types", """(
    taskTypeId   {pk},
    taskTypeName VARCHAR(64) NOT NULL UNIQUE
)"""),
    ("eas_task_containers", """(
    taskTypeId  INTEGER NOT NULL,
    containerId INTEGER NOT NULL,
    UNIQUE (taskTypeId, containerId),
    FOREIGN KEY (taskTypeId) REFERENCES eas_task_types (taskTypeId) ON DELETE CASCADE,
    FOREIGN KEY (containerId) REFERENCES eas_worker_containers (containerId) ON DELETE CASCADE
)"""),
    ("eas_task", """(
    taskId            {pk},
    parentTask        INTEGER,
    createdTime       REAL,
    isFullyConfigured BOOLEAN NOT NULL DEFAULT FALSE,
    taskTypeId        INTEGER NOT NULL,
    jobName           VARCHAR(256),
    taskName          VARCHAR(256),
    workingDirectory  VARCHAR(1024) NOT NULL,
    priority          INTEGER DEFAULT 0,
    settledState      VARCHAR(16) DEFAULT NULL,
    FOREIGN KEY (parentTask) REFERENCES eas_task (taskId) ON DELETE CASCADE,
    FOREIGN KEY (taskTypeId) REFERENCES eas_task_types (taskTypeId) ON DELETE CASCADE
)"""),
    ("eas_worker_host", """(
    hostId   {pk},
    hostname VARCHAR(256) DEFAULT NULL
)"""),
    ("eas_scheduling_attempt", """(
    schedulingAttemptId   {pk},
    taskId                INTEGER NOT NULL,
    queuedTime            REAL DEFAULT NULL,
    isQueued              BOOLEAN DEFAULT FALSE,
    isRunning             BOOLEAN DEFAULT FALSE,
    isFinished            BOOLEAN DEFAULT FALSE,
    hostId                INTEGER DEFAULT NULL,
    startTime             REAL DEFAULT NULL,
    latestHeartbeat       REAL DEFAULT NULL,
    endTime               REAL DEFAULT NULL,
    allProductsPassedQc   BOOLEAN DEFAULT NULL,
    errorFail             BOOLEAN NOT NULL DEFAULT FALSE,
    errorText             {text} DEFAULT NULL,
    runTimeWallClock      REAL DEFAULT NULL,
    runTimeCpu            REAL DEFAULT NULL,
    runTimeCpuIncChildren REAL DEFAULT NULL,
    priority              INTEGER DEFAULT 0,
    failureKind           VARCHAR(16) DEFAULT NULL,
    retryAt               REAL DEFAULT NULL,
    FOREIGN KEY (taskId) REFERENCES eas_task (taskId) ON DELETE CASCADE,
    FOREIGN KEY (hostId) REFERENCES eas_worker_host (hostId) ON DELETE CASCADE
)"""),
    ("eas_log_messages", """(
    generatedByTaskExecution INTEGER,
    timestamp                REAL NOT NULL,
    severity                 INTEGER NOT NULL,
    message                  {text},
    FOREIGN KEY (generatedByTaskExecution)
        REFERENCES eas_scheduling_attempt (schedulingAttemptId) ON DELETE CASCADE
)"""),
    ("eas_semantic_type", """(
    semanticTypeId {pk},
    name           VARCHAR(256) NOT NULL UNIQUE
)"""),
    ("eas_product", """(
    productId     {pk},
    generatorTask INTEGER NOT NULL,
    plannedTime   REAL,
    directoryName VARCHAR(512) NOT NULL,
    filename      VARCHAR(256) NOT NULL,
    semanticType  INTEGER NOT NULL,
    mimeType      VARCHAR(64),
    UNIQUE (directoryName, filename),
    UNIQUE (generatorTask, semanticType),
    FOREIGN KEY (generatorTask) REFERENCES eas_task (taskId) ON DELETE CASCADE,
    FOREIGN KEY (semanticType) REFERENCES eas_semantic_type (semanticTypeId) ON DELETE CASCADE
)"""),
    ("eas_product_version", """(
    productVersionId         {pk},
    productId                INTEGER NOT NULL,
    generatedByTaskExecution INTEGER NOT NULL,
    repositoryId             VARCHAR(64) NOT NULL UNIQUE,
    createdTime              REAL,
    modifiedTime             REAL,
    fileMD5                  VARCHAR(32),
    fileSize                 BIGINT,
    passedQc                 BOOLEAN,
    UNIQUE (productId, generatedByTaskExecution),
    FOREIGN KEY (productId) REFERENCES eas_product (productId) ON DELETE CASCADE,
    FOREIGN KEY (generatedByTaskExecution)
        REFERENCES eas_scheduling_attempt (schedulingAttemptId) ON DELETE CASCADE
)"""),
    ("eas_metadata_keys", """(
    keyId {pk},
    name  VARCHAR(64) NOT NULL UNIQUE
)"""),
    ("eas_metadata_item", """(
    taskId              INTEGER,
    schedulingAttemptId INTEGER,
    productId           INTEGER,
    productVersionId    INTEGER,
    setAtTime           REAL,
    metadataKey         INTEGER,
    valueFloat          REAL,
    valueString         {text},
    UNIQUE (taskId, metadataKey),
    UNIQUE (schedulingAttemptId, metadataKey),
    UNIQUE (productId, metadataKey),
    UNIQUE (productVersionId, metadataKey),
    FOREIGN KEY (taskId) REFERENCES eas_task (taskId) ON DELETE CASCADE,
    FOREIGN KEY (schedulingAttemptId)
        REFERENCES eas_scheduling_attempt (schedulingAttemptId) ON DELETE CASCADE,
    FOREIGN KEY (productId) REFERENCES eas_product (productId) ON DELETE CASCADE,
    FOREIGN KEY (productVersionId)
        REFERENCES eas_product_version (productVersionId) ON DELETE CASCADE,
    FOREIGN KEY (metadataKey) REFERENCES eas_metadata_keys (keyId) ON DELETE CASCADE
)"""),
    ("eas_task_input", """(
    taskId       INTEGER NOT NULL,
    inputId      INTEGER NOT NULL,
    semanticType INTEGER NOT NULL,
    UNIQUE (taskId, semanticType),
    FOREIGN KEY (taskId) REFERENCES eas_task (taskId) ON DELETE CASCADE,
    FOREIGN KEY (inputId) REFERENCES eas_product (productId) ON DELETE CASCADE,
    FOREIGN KEY (semanticType) REFERENCES eas_semantic_type (semanticTypeId) ON DELETE CASCADE
)"""),
    ("eas_task_metadata_input", """(
    taskId  INTEGER NOT NULL,
    inputId INTEGER NOT NULL,
    UNIQUE (taskId, inputId),
    FOREIGN KEY (taskId) REFERENCES eas_task (taskId) ON DELETE CASCADE,
    FOREIGN KEY (inputId) REFERENCES eas_task (taskId) ON DELETE CASCADE
)"""),
    # Our additions.
    ("eas_schema_version", """(
    version     INTEGER NOT NULL,
    appliedTime REAL NOT NULL,
    description VARCHAR(256)
)"""),
    ("eas_config", """(
    configKey   VARCHAR(64) NOT NULL PRIMARY KEY,
    configValue TEXT
)"""),
    # AMQP queue outbox: attempts queued by a committed scheduling transaction that must
    # still be published to the broker (rows are deleted once the broker confirmed them).
    ("eas_queue_outbox", """(
    outboxId            {pk},
    schedulingAttemptId INTEGER NOT NULL,
    queueName           VARCHAR(64) NOT NULL,
    FOREIGN KEY (schedulingAttemptId)
        REFERENCES eas_scheduling_attempt (schedulingAttemptId) ON DELETE CASCADE
)"""),
    # Jobs an operator cancelled: nothing of theirs is scheduled until `reschedule` names them.
    ("eas_cancelled_job", """(
    jobName       VARCHAR(256) NOT NULL PRIMARY KEY,
    cancelledTime REAL NOT NULL
)"""),
    # Tasks whose readiness the next scheduling pass is to check (model/checks.py).
    ("eas_task_check", """(
    taskId INTEGER NOT NULL PRIMARY KEY,
    FOREIGN KEY (taskId) REFERENCES eas_task (taskId) ON DELETE CASCADE
)"""),
]

# Progress counts settled tasks by type (and job) from this index alone.
SETTLED_INDEX = "CREATE INDEX eas_task_settled ON eas_task (settledState, taskTypeId, jobName)"
INDEXES = [
    "CREATE INDEX eas_task_parent ON eas_task (parentTask)",
    "CREATE INDEX eas_task_job ON eas_task (jobName)",
    "CREATE INDEX eas_task_type ON eas_task (taskTypeId)",
    "CREATE INDEX eas_attempt_task ON eas_scheduling_attempt (taskId)",
    "CREATE INDEX eas_log_1 ON eas_log_messages (severity, generatedByTaskExecution, timestamp)",
    "CREATE INDEX eas_log_3 ON eas_log_messages (generatedByTaskExecution, timestamp)",
    "CREATE INDEX eas_task_input_by_input ON eas_task_input (inputId)",
    "CREATE INDEX eas_task_metadata_input_by_input ON eas_task_metadata_input (inputId)",
    "CREATE INDEX eas_metadata_item_key ON eas_metadata_item (metadataKey)",
    SETTLED_INDEX,
]

# Columns that databases written by the original prototype lack: added in place (nullable or
# defaulted, so the prototype's tools keep working) when `create` adopts such a database.
# The prototype registered every task fully configured, hence the default.
PROTOTYPE_MISSING_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "eas_task": [("isFullyConfigured", "BOOLEAN DEFAULT TRUE")],
    "eas_worker_containers": [
        ("requestedCpus", "REAL"), ("requestedGpus", "INTEGER"), ("requestedRam", "REAL"),
        ("assignedCpus", "REAL"), ("assignedGpus", "INTEGER"), ("assignedRam", "REAL")],
}

TABLE_NAMES = [name for name, _ in TABLES]

# Version 2: the columns job control added (name, declaration: nullable, so the prototype's
# tools can still write these tables), the index the claim used
# before priorities, and the indexes of version 2 (the dialect's: partial on SQLite).
V2_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "eas_task": [("priority", "INTEGER DEFAULT 0")],
    "eas_scheduling_attempt": [
        ("priority", "INTEGER DEFAULT 0"), ("failureKind", "VARCHAR(16) DEFAULT NULL"),
        ("retryAt", "REAL DEFAULT NULL")],
}
V1_CLAIM_INDEX = "eas_attempt_queued"


def _to_v2(tx: Tx) -> None:
    for table, columns in V2_COLUMNS.items():
        have = set(tx.dialect.column_names(tx, table))
        for name, declaration in columns:
            if name not in have:
                tx.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
    if tx.dialect.index_exists(tx, "eas_scheduling_attempt", V1_CLAIM_INDEX):
        tx.dialect.drop_index(tx, "eas_scheduling_attempt", V1_CLAIM_INDEX)
    for stmt in (tx.dialect.queued_index, tx.dialect.retry_index):
        _create_index(tx, stmt)


def _to_v3(tx: Tx) -> None:
    if "settledState" not in tx.dialect.column_names(tx, "eas_task"):
        tx.execute("ALTER TABLE eas_task ADD COLUMN settledState VARCHAR(16) DEFAULT NULL")
    attempts.settle_all(tx)
    _create_index(tx, SETTLED_INDEX)


_MARK_UNATTEMPTED = (" INTO eas_task_check (taskId) SELECT t.taskId FROM eas_task t WHERE NOT"
                     " EXISTS (SELECT 1 FROM eas_scheduling_attempt a WHERE a.taskId = t.taskId)")


def _to_v4(tx: Tx) -> None:
    """Mark every task without an attempt (``create`` made the table: it was missing)."""
    tx.execute(tx.dialect.insert_ignore + _MARK_UNATTEMPTED)


# version -> the step that brings a database of the version before up to it; applied in order
# by _migrate(), each adding only what is missing. Version 1 is the base schema.
MIGRATIONS: dict[int, Callable[[Tx], None]] = {2: _to_v2, 3: _to_v3, 4: _to_v4}


def existing_tables(tx: Tx) -> list[str]:
    return sorted(t for t in tx.dialect.table_names(tx) if t in TABLE_NAMES)


def schema_version(tx: Tx) -> int | None:
    """Version stamped in the database; 0 for a prototype database (tables, no stamp)."""
    tables = existing_tables(tx)
    if not tables:
        return None
    if "eas_schema_version" not in tables:
        return 0
    return tx.scalar("SELECT MAX(version) FROM eas_schema_version") or 0


def check_version(tx: Tx, read_only: bool = False) -> int:
    """The schema version, refusing a database without a schema, one written by a newer
    release and (unless ``read_only``: reports read older databases, the prototype's too) one
    that still needs ``schema`` to bring it up to date."""
    version = schema_version(tx)
    if version is None:
        raise SchemaError("the task database has no schema: run plato.eas.schema (or eas init)")
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"the task database has schema version {version}, newer than this release "
            f"supports ({SCHEMA_VERSION}); upgrade plato_eas"
        )
    if not read_only and version < SCHEMA_VERSION:
        raise SchemaError(
            f"the task database has schema version {version}, older than this release "
            f"({SCHEMA_VERSION}): upgrade it with plato.eas.schema (eas init)")
    return version


def outdated(tx: Tx) -> bool:
    """The schema exists but misses migrations (`create` would apply them)."""
    version = schema_version(tx)
    return version is not None and version < SCHEMA_VERSION


def plan_create(tx: Tx) -> list[str]:
    """Tables that `create` would add (empty when the schema is complete and current)."""
    version = schema_version(tx)
    if version is not None and version > SCHEMA_VERSION:
        check_version(tx)
    present = set(existing_tables(tx))
    return [name for name in TABLE_NAMES if name not in present]


def create(db: Database) -> dict:
    """Create missing tables and indexes, apply migrations; returns what was done. This is
    the one place allowed to bring a new SQLite file into existence."""
    db.create = True

    def unit(tx: Tx) -> dict:
        missing = plan_create(tx)
        before = schema_version(tx)
        added = _adopt_prototype(tx) if before == 0 else []
        d = tx.dialect
        for name, body in TABLES:
            if name in missing:
                tx.execute(f"CREATE TABLE {name} "
                           + body.format(pk=d.autoincrement, text=d.long_text)
                           + d.table_options)
        migrated = [] if before is None else _migrate(tx, before)
        if missing:
            for stmt in INDEXES + [d.queued_index, d.running_index, d.retry_index]:
                _create_index(tx, stmt)
        if missing or migrated:
            tx.execute(
                "INSERT INTO eas_schema_version (version, appliedTime, description) "
                "VALUES (?, ?, ?)",
                (SCHEMA_VERSION, time.time(), "created" if before is None else "migrated"),
            )
        tx.execute(f"{d.insert_ignore} INTO eas_config (configKey, configValue) VALUES (?, ?)",
                   ("scheduler_lock", ""))
        return {"created_tables": missing, "migrations": migrated, "added_columns": added}

    return db.run(unit, attempts=UNIT_ATTEMPTS if db.dialect.transactional_ddl else 1)


def _adopt_prototype(tx: Tx) -> list[str]:
    """Add the columns a prototype database lacks; returns them as ``table.column``."""
    added = []
    for table, columns in PROTOTYPE_MISSING_COLUMNS.items():
        have = set(tx.dialect.column_names(tx, table))
        for name, declaration in columns:
            if name not in have:
                tx.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
                added.append(f"{table}.{name}")
    return added


def _create_index(tx: Tx, stmt: str) -> None:
    """Run ``CREATE INDEX <name> ON <table> ...`` unless that index exists already."""
    name = stmt.split()[2]
    table = stmt.split(" ON ")[1].split()[0]
    if not tx.dialect.index_exists(tx, table, name):
        tx.execute(stmt)


def _migrate(tx: Tx, current: int) -> list[int]:
    applied = []
    for version in sorted(v for v in MIGRATIONS if current < v <= SCHEMA_VERSION):
        MIGRATIONS[version](tx)
        applied.append(version)
    return applied


def drop(db: Database) -> list[str]:
    """Drop every plato_eas table (children first); returns the tables dropped."""

    def unit(tx: Tx) -> list[str]:
        present = existing_tables(tx)
        with tx.dialect.foreign_keys_off(tx):
            for name in reversed(TABLE_NAMES):
                if name in present:
                    tx.execute(f"DROP TABLE {name}")
        return [n for n in reversed(TABLE_NAMES) if n in present]

    return db.run(unit)
