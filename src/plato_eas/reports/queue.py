"""The queue report: messages waiting in each queue (one per task type), and their attempt
ids when there are few; read from whichever queue implementation is configured."""

from __future__ import annotations

from ..db import Database
from ..defaults import SHOW_IDS
from ..model import attempts
from ..queues.base import open_queue
from .base import Report
from .render import Table

_QUEUE_NAMES = "SELECT taskTypeName FROM eas_task_types ORDER BY taskTypeName"


def queue(db: Database, queues: list[str] | None = None, show_ids: int = SHOW_IDS,
          job_name: str | None = None) -> Report:
    """One row per queue (all task types, or the named ones), sorted by name; ``ids`` is
    None when more than ``show_ids`` messages wait. With ``job_name``, the job's attempts the
    database records as queued (a broker's messages do not say which job they are for)."""
    names = sorted(queues) if queues else [
        r[0] for r in db.read(lambda tx: tx.tuples(_QUEUE_NAMES))]
    if job_name is not None:
        depths = _job_depths(db, names, job_name, int(show_ids))
    else:
        job_queue = open_queue(db)
        try:
            depths = job_queue.depths(names, int(show_ids))
        finally:
            job_queue.close()
    rows = []
    for name in names:
        depth = depths.get(name, {"messages": 0})
        rows.append({"queue": name, "messages": depth["messages"], "ids": _complete_ids(depth)})
    table = Table(["Queue", "Messages", "Attempt ids"],
                  [[r["queue"], r["messages"], _ids_text(r)] for r in rows])
    return Report(rows, [table], extra={"total_messages": sum(r["messages"] for r in rows)})


def _job_depths(db: Database, names: list[str], job_name: str, show_ids: int) -> dict:
    waiting = db.read(lambda tx: attempts.queued_by_type(tx, names, job_name))
    return {name: {"messages": len(ids), "ids": ids if len(ids) <= show_ids else []}
            for name, ids in waiting.items()}


def _complete_ids(depth: dict) -> list[int] | None:
    """The attempt ids when the queue listed all of them (few enough), else None."""
    ids = depth.get("ids")
    return list(ids) if ids is not None and len(ids) == depth["messages"] else None


def _ids_text(row: dict) -> str:
    if row["ids"] is None:
        return "(many)" if row["messages"] else ""
    return " ".join(str(i) for i in row["ids"])
