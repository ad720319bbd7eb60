"""The workers report: every worker (host and process) that ever claimed an attempt, with its
latest sign of life (heartbeat, else end or start of its newest attempt), what it runs now
and whether it was seen within the heartbeat age."""

from __future__ import annotations

import time

from ..db import Database
from .base import Report, utc_time
from .render import Table

_WORKERS = (
    "SELECT h.hostId, h.hostname, COUNT(a.schedulingAttemptId),"
    " SUM(CASE WHEN a.isRunning AND NOT a.isFinished THEN 1 ELSE 0 END),"
    " MAX(COALESCE(a.latestHeartbeat, a.endTime, a.startTime))"
    " FROM eas_worker_host h"
    " LEFT OUTER JOIN eas_scheduling_attempt a ON a.hostId = h.hostId"
    " GROUP BY h.hostId, h.hostname"
)
KEYS = ("host_id", "host", "attempts", "running", "last_seen_timestamp")


def workers(db: Database) -> Report:
    """Rows per worker, most recently seen first; ``recent`` counts those seen within
    ``max_heartbeat_age`` seconds."""
    found = db.read(lambda tx: tx.tuples(_WORKERS))
    since = time.time() - db.settings.max_heartbeat_age
    rows = []
    for values in found:
        row = dict(zip(KEYS, values, strict=True))
        row["running"] = int(row["running"] or 0)
        seen = row["last_seen_timestamp"]
        row["last_seen"] = utc_time(seen)
        row["seen_recently"] = seen is not None and float(seen) >= since
        rows.append(row)
    rows.sort(key=lambda r: (-(r["last_seen_timestamp"] or 0.0), r["host_id"]))
    table = Table(["Worker", "Last seen", "Seen recently", "Running", "Attempts"],
                  [[r["host"], r["last_seen"], "yes" if r["seen_recently"] else "no",
                    r["running"], r["attempts"]] for r in rows],
                  keys=["host", "last_seen", "seen_recently", "running", "attempts"])
    return Report(rows, [table], extra={"recent": sum(r["seen_recently"] for r in rows)})
