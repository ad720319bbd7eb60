"""Queue administration actions: declare the queues and record the choice (``queues``), and
empty them (``empty_queue``)."""

from __future__ import annotations

from ..db import Database, Tx
from ..errors import QueueError
from ..model.schema import check_version
from ..queues.base import open_queue

CONFIG_KEY = "queue_implementation"


def task_type_names(tx: Tx) -> list[str]:
    return [r[0] for r in tx.tuples("SELECT taskTypeName FROM eas_task_types ORDER BY 1")]


def recorded_implementation(tx: Tx) -> str | None:
    return tx.scalar("SELECT configValue FROM eas_config WHERE configKey = ?", (CONFIG_KEY,))


def check_implementation(db: Database) -> None:
    """Refuse to run against a database initialised for the other queue implementation."""
    recorded = db.read(recorded_implementation)
    wanted = db.settings.queue_implementation
    if recorded and recorded != wanted:
        raise QueueError(
            f"the task database was initialised for the {recorded!r} queue, "
            f"but queue_implementation is {wanted!r}")


def init_queues(db: Database, check_mode: bool = False) -> dict:
    impl = db.settings.queue_implementation

    def inspect(tx: Tx) -> tuple[list[str], str | None]:
        check_version(tx)
        return task_type_names(tx), recorded_implementation(tx)

    names, recorded = db.read(inspect)
    declared: list[str] = []
    if not check_mode:
        queue = open_queue(db)
        try:
            declared = queue.declare(names)
        finally:
            queue.close()
        if recorded != impl:
            db.run(lambda tx: _record(tx, impl))
    elif impl == "amqp":
        declared = names  # cannot tell without touching the broker; report the plan
    return {
        "changed": bool(declared) or recorded != impl,
        "implementation": impl,
        "previous_implementation": recorded,
        "queues": names,
        "declared": declared,
    }


def _record(tx: Tx, impl: str) -> None:
    tx.execute("DELETE FROM eas_config WHERE configKey = ?", (CONFIG_KEY,))
    tx.execute("INSERT INTO eas_config (configKey, configValue) VALUES (?, ?)", (CONFIG_KEY, impl))


def empty_queues(db: Database, names: list[str] | None = None, check_mode: bool = False) -> dict:
    known = db.read(task_type_names)
    unknown = sorted(set(names or []) - set(known))
    if unknown:
        raise QueueError(f"unknown queue(s) (task types): {', '.join(unknown)}")
    targets = names or known
    queue = open_queue(db)
    try:
        if check_mode:
            per_queue = {n: d["ids"] for n, d in queue.depths(targets, show_ids=10**9).items()}
        else:
            per_queue = queue.purge(targets)
    finally:
        queue.close()
    per_queue = {n: ids for n, ids in per_queue.items() if ids}
    ids = sorted(i for group in per_queue.values() for i in group)
    return {"changed": bool(ids), "attempt_ids": ids, "per_queue": per_queue}


def queue_depths(db: Database) -> dict[str, int]:
    """Waiting messages per queue (every task type), read without consuming anything."""
    names = db.read(task_type_names)
    queue = open_queue(db)
    try:
        return {name: depth["messages"] for name, depth in queue.depths(names, 0).items()}
    finally:
        queue.close()
