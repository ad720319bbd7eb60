"""Create or drop the task database and load the task-type registry into it (``schema``)."""

from __future__ import annotations

from ..db import Database, Tx
from ..model import schema as ddl
from ..tasks.registry import Registry, load_registry


def _registry_changes(tx: Tx, registry: Registry) -> dict[str, list]:
    """What loading the registry would add or update (for check mode and `changed`)."""
    have_types = {r[0] for r in tx.tuples("SELECT taskTypeName FROM eas_task_types")}
    have = {r["containerName"]: r for r in tx.rows("SELECT * FROM eas_worker_containers")}
    links = set(tx.tuples(
        "SELECT tt.taskTypeName, c.containerName FROM eas_task_containers tc "
        "JOIN eas_task_types tt ON tt.taskTypeId = tc.taskTypeId "
        "JOIN eas_worker_containers c ON c.containerId = tc.containerId"))
    containers = []
    for c in registry.containers:
        row = have.get(c.name)
        if row is None or (row["requestedCpus"], row["requestedGpus"], row["requestedRam"]) != (
                c.cpu, c.gpu, c.memory_gb):
            containers.append(c.name)
    wanted_links = {(t, c) for t in registry.task_types for c in registry.containers_for(t)}
    return {
        "task_types": sorted(set(registry.task_types) - have_types),
        "containers": containers,
        "links": sorted(wanted_links - links),
    }


def _load_registry(tx: Tx, registry: Registry) -> None:
    ignore = tx.dialect.insert_ignore
    for name in registry.task_types:
        tx.execute(f"{ignore} INTO eas_task_types (taskTypeName) VALUES (?)", (name,))
    # A database adopted from the prototype also has its NOT NULL required* columns.
    legacy = "requiredCpus" in tx.dialect.column_names(tx, "eas_worker_containers")
    for c in registry.containers:
        if legacy:
            tx.execute(f"{ignore} INTO eas_worker_containers (containerName, requiredCpus, "
                       "requiredGpus, requiredRam) VALUES (?, ?, ?, ?)",
                       (c.name, c.cpu, c.gpu, c.memory_gb))
        else:
            tx.execute(f"{ignore} INTO eas_worker_containers (containerName) VALUES (?)",
                       (c.name,))
        tx.execute(
            "UPDATE eas_worker_containers SET requestedCpus = ?, requestedGpus = ?, "
            "requestedRam = ? WHERE containerName = ?", (c.cpu, c.gpu, c.memory_gb, c.name))
    for task_type in registry.task_types:
        for container in registry.containers_for(task_type):
            tx.execute(
                f"{ignore} INTO eas_task_containers (taskTypeId, containerId) "  # noqa: S608
                "SELECT tt.taskTypeId, c.containerId FROM eas_task_types tt, "
                "eas_worker_containers c WHERE tt.taskTypeName = ? AND c.containerName = ?",
                (task_type, container))


def _task_count(tx: Tx) -> int:
    """How many tasks a drop would lose (what makes a database worth asking about)."""
    return int(tx.scalar("SELECT COUNT(*) FROM eas_task"))


def apply_schema(db: Database, state: str = "present", check_mode: bool = False) -> dict:
    """Bring the database to ``state``; idempotent (a second run reports no change)."""
    if not db.create and not db.dialect.exists():  # no SQLite file (check mode, absent)
        if state == "absent":
            return {"changed": False, "state": "absent", "dropped_tables": [], "tasks": 0}
        registry = load_registry(db.settings)
        return {"changed": True, "state": "present", "version": ddl.SCHEMA_VERSION,
                "created_tables": list(ddl.TABLE_NAMES),
                "task_types": sorted(registry.task_types),
                "containers": [c.name for c in registry.containers]}
    if state == "absent":
        present = db.read(ddl.existing_tables)
        tasks = db.read(_task_count) if "eas_task" in present else 0
        dropped = present if check_mode else ddl.drop(db)
        return {"changed": bool(present), "state": "absent", "dropped_tables": dropped,
                "tasks": tasks}
    registry = load_registry(db.settings)
    missing, outdated = db.read(lambda tx: (ddl.plan_create(tx), ddl.outdated(tx)))
    created: list[str] = missing
    if not check_mode and (missing or outdated):
        created = ddl.create(db)["created_tables"]
    if check_mode and missing:
        changes = {"task_types": sorted(registry.task_types),
                   "containers": [c.name for c in registry.containers], "links": []}
    else:
        changes = db.read(lambda tx: _registry_changes(tx, registry))
        if not check_mode and any(changes.values()):
            db.run(lambda tx: _load_registry(tx, registry))
    version = ddl.SCHEMA_VERSION if check_mode else db.read(ddl.check_version)
    return {
        "changed": bool(created or outdated) or any(changes.values()),
        "state": "present",
        "version": version,
        "created_tables": created,
        "upgraded": outdated,
        "task_types": changes["task_types"],
        "containers": changes["containers"],
    }
