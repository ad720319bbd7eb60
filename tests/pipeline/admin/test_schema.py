import sqlite3
from pathlib import Path

import pytest

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.errors import DatabaseError, SchemaError
from plato_eas.model.schema import SCHEMA_VERSION

# SPEC §3.1: the prototype's tables and camelCase columns are the interface.
PROTOTYPE_COLUMNS = {
    "eas_worker_containers": "containerId containerName requestedCpus requestedGpus requestedRam "
                             "assignedCpus assignedGpus assignedRam",
    "eas_task_types": "taskTypeId taskTypeName",
    "eas_task_containers": "taskTypeId containerId",
    "eas_task": "taskId parentTask createdTime isFullyConfigured taskTypeId jobName taskName "
                "workingDirectory",
    "eas_worker_host": "hostId hostname",
    "eas_scheduling_attempt": "schedulingAttemptId taskId queuedTime isQueued isRunning "
                              "isFinished hostId startTime latestHeartbeat endTime "
                              "allProductsPassedQc errorFail errorText runTimeWallClock "
                              "runTimeCpu runTimeCpuIncChildren",
    "eas_log_messages": "generatedByTaskExecution timestamp severity message",
    "eas_semantic_type": "semanticTypeId name",
    "eas_product": "productId generatorTask plannedTime directoryName filename semanticType "
                   "mimeType",
    "eas_product_version": "productVersionId productId generatedByTaskExecution repositoryId "
                           "createdTime modifiedTime fileMD5 fileSize passedQc",
    "eas_metadata_keys": "keyId name",
    "eas_metadata_item": "taskId schedulingAttemptId productId productVersionId setAtTime "
                         "metadataKey valueFloat valueString",
    "eas_task_input": "taskId inputId semanticType",
    "eas_task_metadata_input": "taskId inputId",
}


# Nullable columns added after the prototype (SPEC §3: additions only), after its own.
ADDED_COLUMNS = {
    "eas_task": "priority settledState",
    "eas_scheduling_attempt": "priority failureKind retryAt",
}


def test_schema_has_prototype_tables_and_columns_exactly(installed):
    conn = sqlite3.connect(installed.db_path)
    for table, columns in PROTOTYPE_COLUMNS.items():
        found = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        assert found == columns.split() + ADDED_COLUMNS.get(table, "").split(), table
        added = [r for r in conn.execute(f"PRAGMA table_info({table})")
                 if r[1] in ADDED_COLUMNS.get(table, "").split()]
        assert all(not notnull for _, _, _, notnull, _, _ in added), table


def test_sqlite_runs_in_wal_mode_with_foreign_keys(db):
    assert db.read(lambda tx: tx.scalar("PRAGMA journal_mode")) == "wal"
    assert db.read(lambda tx: tx.scalar("PRAGMA foreign_keys")) == 1


def test_create_is_idempotent_and_loads_the_registry(settings):
    first = actions.init_schema(settings)
    assert first["changed"] and "eas_task" in first["created_tables"]
    assert "null" in first["task_types"] and first["version"] == SCHEMA_VERSION
    second = actions.init_schema(settings)
    assert second["changed"] is False and second["created_tables"] == []
    with Database(settings) as db:
        links = db.read(lambda tx: tx.scalar(
            "SELECT COUNT(*) FROM eas_task_containers tc JOIN eas_task_types t "
            "ON t.taskTypeId = tc.taskTypeId WHERE t.taskTypeName = 'null'"))
        assert links == 3  # 'all' containers
        cpus = db.read(lambda tx: tx.scalar(
            "SELECT requestedCpus FROM eas_worker_containers WHERE containerName = 'eas-tda'"))
        assert cpus == 4


def test_check_mode_changes_nothing(settings):
    planned = actions.init_schema(settings, check_mode=True)
    assert planned["changed"] and "eas_task" in planned["created_tables"]
    assert not Path(settings.db_path).exists()  # not even an empty file


def test_nothing_but_schema_creates_a_sqlite_file(settings):
    with pytest.raises(DatabaseError, match="no task database at .*eas init"):
        actions.report(settings, "progress")
    with pytest.raises(DatabaseError, match="no task database"):
        actions.schedule(settings)
    assert not Path(settings.db_path).exists()
    assert actions.init_schema(settings, state="absent")["changed"] is False


def test_absent_drops_everything_and_check_mode_lists_it(installed):
    plan = actions.init_schema(installed, state="absent", check_mode=True)
    assert plan["changed"] and "eas_task" in plan["dropped_tables"]
    assert actions.init_schema(installed, state="absent")["changed"]
    assert actions.init_schema(installed, state="absent")["changed"] is False


def test_newer_schema_version_is_refused(db, installed):
    db.run(lambda tx: tx.execute(
        "INSERT INTO eas_schema_version (version, appliedTime) VALUES (?, 0)",
        (SCHEMA_VERSION + 1,)))
    with pytest.raises(SchemaError, match="newer than this release"):
        actions.init_schema(installed)
    with pytest.raises(SchemaError, match="newer than this release"):
        actions.schedule(installed)


def test_registry_override_with_unknown_container_is_refused(settings, tmp_path):
    bad = tmp_path / "registry.yaml"
    bad.write_text("containers: [{name: a, image: x, cpu: 1, memory_gb: 1}]\n"
                   "task_types: [{name: 'null', container: b}]\n")
    from plato_eas.errors import RegistryError

    with pytest.raises(RegistryError, match="unknown container 'b'"):
        actions.init_schema(settings.replace(registry_file=str(bad)))


def test_prototype_database_is_adopted_in_place_and_runs_new_work(settings):
    from prototype_db import write_prototype_database

    write_prototype_database(settings)
    result = actions.init_schema(settings)
    assert result["changed"] and "eas_schema_version" in result["created_tables"]
    conn = sqlite3.connect(settings.db_path)
    task_columns = [r[1] for r in conn.execute("PRAGMA table_info(eas_task)")]
    assert "isFullyConfigured" in task_columns
    # the prototype's own column is still there, and its rows are untouched
    assert conn.execute("SELECT requiredCpus FROM eas_worker_containers "
                        "WHERE containerName = 'eas-base'").fetchone() == (1.0,)
    assert conn.execute("SELECT COUNT(*) FROM eas_task WHERE jobName = 'proto'").fetchone() == (9,)
    assert actions.init_schema(settings)["changed"] is False
    actions.init_queues(settings)
    from pipeline_helpers import chain

    actions.submit(settings, chain=chain("null_parallel"))
    # The one worker serves the queue oldest first: the prototype's queued synthesis_psls
    # attempt comes first. With the science extra installed it runs and, having no output
    # product, is refused at once (not after synthesising PSLS's 730-day default).
    run = actions.local_run(settings, workers=1, job_name="null_parallel", timeout=60)
    assert run["finished"] and run["summary"]["done"] == 4


def _as_version_1(settings) -> None:
    """Turn a fresh database into one written by release 1 (before job control)."""
    def unit(tx):
        tx.execute("DROP INDEX eas_attempt_claim")
        tx.execute("DROP INDEX eas_attempt_retry")
        tx.execute("DROP INDEX eas_task_settled")
        for table, columns in ADDED_COLUMNS.items():
            for column in columns.split():
                tx.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        tx.execute("DROP TABLE eas_cancelled_job")
        tx.execute("CREATE INDEX eas_attempt_queued ON eas_scheduling_attempt "
                   "(schedulingAttemptId) WHERE isQueued = 1")
        tx.execute("UPDATE eas_schema_version SET version = 1")

    with Database(settings) as db:
        db.run(unit)


def test_a_version_1_database_is_read_as_it_is_and_upgraded_by_schema(installed):
    from pipeline_helpers import chain

    actions.submit(installed, chain=chain("null_parallel"))
    _as_version_1(installed)
    progress = actions.report(installed, "progress")  # reports read it as it is
    assert progress["total"]["waiting"] == 1
    assert actions.report(installed, "jobs")["rows"][0]["state"] == "running"
    with pytest.raises(SchemaError, match=rf"schema version 1, older than this release "
                                          rf"\({SCHEMA_VERSION}\): upgrade it with "
                                          r"plato.eas.schema \(eas init\)"):
        actions.schedule(installed)
    assert actions.init_schema(installed, check_mode=True)["changed"] is True
    upgraded = actions.init_schema(installed)
    assert upgraded["changed"] and upgraded["upgraded"] and upgraded["version"] == SCHEMA_VERSION
    assert actions.init_schema(installed)["changed"] is False
    with Database(installed) as db:
        assert db.read(lambda tx: tx.dialect.index_exists(
            tx, "eas_scheduling_attempt", "eas_attempt_claim"))
        assert not db.read(lambda tx: tx.dialect.index_exists(
            tx, "eas_scheduling_attempt", "eas_attempt_queued"))
    run = actions.local_run(installed, workers=1, job_name="null_parallel", timeout=60)
    assert run["finished"] and run["summary"]["done"] == 4
