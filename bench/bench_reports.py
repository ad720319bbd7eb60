"""Benchmark the reports that must stay fast on big task databases.

Builds SQLite databases of 10,000 and 100,000 tasks (a chain of for-loops, one attempt per
task in a realistic mix of states) with bulk inserts, then prints how long job_tree
(target < 0.2 s at 10k), progress (target < 1 s at 100k) and job_summary take.
Prints figures only: speed is measured here, not asserted in tests (SPEC §11).

    .venv/bin/python bench/bench_reports.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from plato_eas.db import Database
from plato_eas.model.schema import create
from plato_eas.model.states import job_summary
from plato_eas.reports import run_report
from plato_eas.settings import Settings

SIZES = (10_000, 100_000)
LOOP_SIZE = 100
TYPES = ("execution_chain", "execution_for_loop", "synthesis_psls", "transit_search_bls")
# One attempt per task, cycling through: done x6, running, queued, failed, none (waiting).
MIX = ("done",) * 6 + ("running", "queued", "failed", None)


def _tasks(count: int, now: float) -> list[tuple]:
    """A root chain, for-loops under it, and LOOP_SIZE - 1 science tasks under each loop."""
    rows = [(1, None, now, 1, 1, "bench", "root", "work")]
    loop = 1
    for task_id in range(2, count + 1):
        if (task_id - 2) % LOOP_SIZE == 0:
            loop = task_id
            rows.append((task_id, 1, now, 1, 2, "bench", None, "work"))
        else:
            rows.append((task_id, loop, now, 1, 3 + task_id % 2, "bench", None, "work"))
    return rows


def _attempt(task_id: int, now: float) -> tuple | None:
    state = MIX[task_id % len(MIX)]
    if state is None:
        return None
    return (task_id, int(state == "queued"), int(state == "running"),
            int(state in ("done", "failed")), int(state == "failed"), now - 50, now, 12.5)


def build(path: Path, count: int) -> Database:
    db = Database(Settings(db_path=str(path), data_dir=str(path.parent / "data")))
    create(db)
    now = time.time()
    attempts = [a for a in (_attempt(t, now) for t in range(1, count + 1)) if a]

    def unit(tx) -> None:
        tx.executemany("INSERT INTO eas_task_types (taskTypeId, taskTypeName) VALUES (?, ?)",
                       list(enumerate(TYPES, start=1)))
        tx.executemany(
            "INSERT INTO eas_task (taskId, parentTask, createdTime, isFullyConfigured, "
            "taskTypeId, jobName, taskName, workingDirectory) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            _tasks(count, now))
        tx.executemany(
            "INSERT INTO eas_scheduling_attempt (taskId, isQueued, isRunning, isFinished, "
            "errorFail, startTime, latestHeartbeat, runTimeWallClock) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", attempts)

    db.run(unit)
    db.conn.execute("ANALYZE")
    return db


def best_of(runs: int, call) -> float:
    """Fastest of ``runs`` calls, in seconds (the first warms the page cache)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for count in SIZES:
            start = time.perf_counter()
            db = build(Path(tmp) / f"bench_{count}.sqlite", count)
            built = time.perf_counter() - start
            tree = best_of(3, lambda db=db: run_report(db, "job_tree"))
            live = best_of(3, lambda db=db: run_report(db, "job_tree", running_only=True))
            progress = best_of(3, lambda db=db: run_report(db, "progress"))
            summary = best_of(3, lambda db=db: db.read(lambda tx: job_summary(tx, "bench")))
            print(f"{count:>7} tasks (built in {built:.2f} s): "
                  f"job_tree {tree:.3f} s, job_tree running_only {live:.3f} s, "
                  f"progress {progress:.3f} s, job_summary {summary:.3f} s")
            db.close()
    print("targets: job_tree < 0.2 s at 10k tasks; progress < 1 s at 100k tasks")


if __name__ == "__main__":
    main()
