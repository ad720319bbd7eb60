"""Queue administration actions: declare the queues and record the choice (``queues``), and
empty them (``empty_queue``)."""

from __future__ import annotations

from ..db import Database, Tx
from ..errors import QueueError
from ..model import attempts, jobs
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
    priorities: dict = {"upgraded": [], "without_priority": {}}
    if not check_mode:
        queue = open_queue(db)
        try:
            declared = queue.declare(names)
            priorities = queue.prioritise(names)
        finally:
            queue.close()
        if recorded != impl:
            db.run(lambda tx: _record(tx, impl))
    elif impl == "amqp":
        declared = names  # cannot tell without touching the broker; report the plan
    return {
        "changed": bool(declared or priorities["upgraded"]) or recorded != impl,
        "implementation": impl,
        "previous_implementation": recorded,
        "queues": names,
        "declared": declared,
        **priorities,
        "warnings": [_without_priority(name, messages)
                     for name, messages in priorities["without_priority"].items()],
    }


def _without_priority(name: str, messages: int) -> str:
    return (f"queue {name} was declared without priorities and holds {messages} message(s) "
            "or a consumer: it delivers first in, first out until it is declared again; "
            f"empty it (empty_queue {name}), run queues again, then reschedule")


def _record(tx: Tx, impl: str) -> None:
    tx.execute("DELETE FROM eas_config WHERE configKey = ?", (CONFIG_KEY,))
    tx.execute("INSERT INTO eas_config (configKey, configValue) VALUES (?, ?)", (CONFIG_KEY, impl))


def empty_queues(db: Database, names: list[str] | None = None, job_name: str | None = None,
                 check_mode: bool = False) -> dict:
    """Take the waiting attempts off the queues (all, the named task types, and of
    ``job_name`` only when given); an unknown queue or job is refused."""
    known = db.read(task_type_names)
    unknown = sorted(set(names or []) - set(known))
    if unknown:
        raise QueueError(f"unknown queue(s) (task types): {', '.join(unknown)}")
    if job_name is not None:
        db.read(lambda tx: jobs.require(tx, job_name))
    targets = names or known
    if check_mode:
        per_queue = db.read(lambda tx: attempts.queued_by_type(tx, targets, job_name))
    else:
        queue = open_queue(db)
        try:
            per_queue = queue.purge(targets, job_name)
        finally:
            queue.close()
    per_queue = {n: ids for n, ids in per_queue.items() if ids}
    ids = sorted(i for group in per_queue.values() for i in group)
    return {"changed": bool(ids), "attempt_ids": ids, "per_queue": per_queue,
            "job_name": job_name}


def queue_depths(db: Database) -> dict[str, int]:
    """Waiting messages per queue (every task type), read without consuming anything."""
    names = db.read(task_type_names)
    queue = open_queue(db)
    try:
        return {name: depth["messages"] for name, depth in queue.depths(names, 0).items()}
    finally:
        queue.close()
