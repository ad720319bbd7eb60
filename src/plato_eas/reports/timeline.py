"""The timeline: attempts as bars over time, one lane per worker (host and process), so idle
workers and stragglers show. A window with more attempts than ``limit`` is summarised as each
worker's busy fraction over time (``occupancy``) instead of bars."""

from __future__ import annotations

import time

from ..db import Database, Tx
from ..model.attempts import stalled_cutoff
from ..model.states import ATTEMPT_STATE_SQL, RUNNING
from .base import Report, utc_time
from .filters import timestamp, whole
from .render import Table

LIMIT = 2000
OCCUPANCY_BINS = 200
UNKNOWN_HOST = "(no host)"
# Attempts that started in the job and may overlap the window (binds: job twice, until
# twice, since twice); the exact overlap is decided in Python.
_WINDOW = (
    " FROM eas_scheduling_attempt a INNER JOIN eas_task t ON t.taskId = a.taskId"
    " WHERE a.startTime IS NOT NULL AND (? IS NULL OR t.jobName = ?)"
    " AND (? IS NULL OR a.startTime < ?) AND (? IS NULL OR a.isRunning = 1"
    " OR COALESCE(a.endTime, a.latestHeartbeat, a.startTime) >= ?)"
)
_COUNT = "SELECT COUNT(*)" + _WINDOW  # noqa: S608
_ATTEMPTS = (
    "SELECT a.schedulingAttemptId, h.hostname, a.hostId, t.taskId, tt.taskTypeName,"  # noqa: S608
    " a.startTime, a.endTime, a.latestHeartbeat, " + ATTEMPT_STATE_SQL
    + _WINDOW.replace(" WHERE ", " INNER JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId"
                      " LEFT OUTER JOIN eas_worker_host h ON h.hostId = a.hostId WHERE ", 1)
    + " ORDER BY a.startTime, a.schedulingAttemptId"
)
# Only what the occupancy needs, for windows with too many attempts to draw.
_BARS = ("SELECT NULL, NULL, a.hostId, NULL, NULL, a.startTime, a.endTime,"  # noqa: S608
         " a.latestHeartbeat, " + ATTEMPT_STATE_SQL + _WINDOW)
_HOSTS = "SELECT hostId, hostname FROM eas_worker_host"
KEYS = ("attempt_id", "host", "host_id", "task_id", "task_type", "start_timestamp",
        "end_timestamp", "heartbeat_timestamp", "state")


def _occupancy(bars: list[tuple], lanes: list[str], t0: float, t1: float) -> dict[str, list]:
    """Busy seconds of each lane in OCCUPANCY_BINS equal slices of [t0, t1], as fractions
    (a tight loop: a big job has a hundred thousand bars)."""
    count = OCCUPANCY_BINS
    width = (t1 - t0) / count or 1.0
    busy: dict[str, list[float]] = {lane: [0.0] * count for lane in lanes}
    for lane, start, end in bars:
        start = t0 if start < t0 else start
        end = t1 if end > t1 else end
        if end <= start:
            continue
        slices = busy[lane]
        first, last = (start - t0) / width, (end - t0) / width
        i, j = int(first), min(int(last), count - 1)
        if i == j:
            slices[i] += end - start
            continue
        slices[i] += (i + 1 - first) * width
        for b in range(i + 1, j):
            slices[b] += width
        slices[j] += (last - j) * width
    return {lane: [round(min(1.0, s / width), 3) for s in slices]
            for lane, slices in busy.items()}


def _hosts(bars: list[tuple], t0: float, t1: float) -> list[dict]:
    lanes: dict[str, list] = {}
    for lane, start, end in bars:
        summary = lanes.get(lane)
        if summary is None:
            summary = lanes[lane] = [0, 0.0, start, end]
        summary[0] += 1
        overlap = (t1 if end > t1 else end) - (t0 if start < t0 else start)
        if overlap > 0:
            summary[1] += overlap
        if end > summary[3]:
            summary[3] = end
    span = (t1 - t0) or 1.0
    return [{"host": lane, "attempts": n, "busy": round(busy, 2),
             "busy_fraction": round(busy / span, 4), "first_start": first, "last_end": last}
            for lane, (n, busy, first, last) in sorted(lanes.items())]


def _fetch(tx: Tx, window: tuple, limit: int, cutoff: float) -> tuple[list[tuple], bool]:
    """(attempt tuples, whether there are more than ``limit``: then only their bars)."""
    if int(tx.scalar(_COUNT, window)) <= limit:
        return tx.tuples(_ATTEMPTS, (cutoff, *window)), False
    names = dict(tx.tuples(_HOSTS))
    return [(v[0], names.get(v[2]), *v[2:]) for v in tx.tuples(_BARS, (cutoff, *window))], True


def timeline(db: Database, job_name: str | None = None, since: float | str | None = None,
             until: float | str | None = None, limit: int | str | None = None) -> Report:
    """Rows: the attempts that overlap the window (``since`` to ``until``; default: all of
    them), by start time, each with its ``lane`` and bar ``start``/``end`` (Unix time);
    ``hosts`` summarises each lane. Over ``limit`` attempts, ``rows`` is empty, ``truncated``
    is true and ``occupancy`` gives each lane's busy fraction in OCCUPANCY_BINS slices."""
    low, high = timestamp(since, "since"), timestamp(until, "until")
    size = whole(limit, "limit", LIMIT, 1, 100_000)
    now = time.time()
    cutoff = stalled_cutoff(db.settings.max_heartbeat_age, now)
    window = (job_name, job_name, high, high, low, low)
    found, many = db.read(lambda tx: _fetch(tx, window, size, cutoff))
    bars, kept = [], []
    for values in found:
        _, host, host_id, _, _, start, end, heartbeat, state = values
        if end is None:  # still running: to now; stalled: to its last heartbeat
            end = now if state == RUNNING else (heartbeat or start)
        if low is None or end >= low:
            bars.append((host or (f"host {host_id}" if host_id else UNKNOWN_HOST),
                         float(start), float(end)))
            kept.append(values)
    t0 = low if low is not None else min((b[1] for b in bars), default=now)
    t1 = high if high is not None else max((b[2] for b in bars), default=now)
    hosts = _hosts(bars, t0, t1)
    extra = {"since": t0, "until": t1, "since_time": utc_time(t0), "until_time": utc_time(t1),
             "attempts": len(bars), "truncated": many and len(bars) > size, "hosts": hosts,
             "occupancy": None}
    rows = []
    if extra["truncated"]:
        extra["occupancy"] = _occupancy(bars, [h["host"] for h in hosts], t0, t1)
    else:
        for values, (lane, start, end) in zip(kept, bars, strict=True):
            row = dict(zip(KEYS, values, strict=True))
            row.update(lane=lane, start=start, end=end, start_time=utc_time(start),
                       end_time=utc_time(end))
            rows.append(row)
    table = Table(["Worker", "Attempts", "Busy (s)", "Busy fraction", "First start", "Last end"],
                  [[h["host"], h["attempts"], h["busy"], h["busy_fraction"],
                    utc_time(h["first_start"]), utc_time(h["last_end"])] for h in hosts],
                  keys=["host", "attempts", "busy", "busy_fraction", "first_start", "last_end"])
    return Report(rows, [table], extra=extra)
