"""Benchmark the reports that must stay fast on big task databases.

Builds SQLite databases of 10,000 and 100,000 tasks (a chain of for-loops, one attempt per
task in a realistic mix of states) with bulk inserts, then prints how long job_tree
(target < 0.2 s at 10k), progress (target < 1 s at 100k) and job_summary take.
With ``--million`` it also builds 1,000,000 tasks (with input metadata and outcomes; a kept
database of an older schema is upgraded first) and runs each big report in a fresh child
process, printing its wall time, its CPU time and its peak memory (the child's own VmHWM),
before and after: progress by every task joined to its latest attempt (before) and from the
settled states (after); the whole job tree (before) and its first page (after); the timings
and pass/fail CSV files built whole in memory (before) and streamed (after). Targets: progress
< 0.5 s, first page < 0.5 s, < 200 MB each. The load average is printed at the start and the
end: on a shared machine wall time follows it, CPU time much less.
Prints figures only: speed is measured here, not asserted in tests.

    .venv/bin/python bench/bench_reports.py [--million [--keep DIR]] [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plato_eas.db import Database
from plato_eas.model.attempts import settle_all
from plato_eas.model.schema import create, outdated
from plato_eas.model.states import _TYPE_STATE_COUNTS, job_summary
from plato_eas.reports import (
    build_report,
    render,
    run_report,
    write_report_csv,
    write_report_text,
)
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


def _metadata(count: int) -> tuple[list[tuple], list[tuple]]:
    """Each science task's loop variable ``size`` (its input metadata) and, for each done
    attempt (attempt id = position among the attempts), an ``outcome`` PASS or FAIL."""
    items, outcomes, attempt_id = [], [], 0
    for task_id in range(2, count + 1):
        science = (task_id - 2) % LOOP_SIZE != 0
        if science:
            items.append((task_id, None, 1, float(task_id % 7), None))
        if MIX[task_id % len(MIX)] is not None:
            attempt_id += 1
            if science and MIX[task_id % len(MIX)] == "done":
                outcomes.append((None, attempt_id, 2, None,
                                 "PASS" if task_id % 3 else "FAIL"))
    return items, outcomes


def build(path: Path, count: int, metadata: bool = False) -> Database:
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
        if metadata:
            tx.executemany("INSERT INTO eas_metadata_keys (keyId, name) VALUES (?, ?)",
                           [(1, "size"), (2, "outcome")])
            for rows in _metadata(count):
                tx.executemany(
                    "INSERT INTO eas_metadata_item (taskId, schedulingAttemptId, metadataKey,"
                    " valueFloat, valueString) VALUES (?, ?, ?, ?, ?)", rows)
        settle_all(tx)  # what the attempt lifecycle keeps for each task

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


MEASURED = {  # name: (what it does, in a fresh process), before then after each change
    "progress_joined": "progress, every task joined (before)",
    "progress": "progress, settled states (after)",
    "job_tree": "job_tree, whole (before paging)",
    "job_tree_page": "job_tree, first page of 100 rows",
    "job_tree_text": "job_tree, whole, streamed text (eas report)",
    "timings_whole": "timings CSV, whole in memory (before)",
    "timings_csv": "timings CSV, streamed (after)",
    "pass_fail_whole": "pass_fail CSV, whole in memory (before)",
    "pass_fail_csv": "pass_fail CSV, streamed (after)",
}


def _whole_csv(db: Database, name: str, out: Path) -> None:
    """The CSV file as it was written before streaming: the whole report, then its text."""
    report = build_report(db, name)
    tables = report.tables if report.csv_tables is None else report.csv_tables
    out.write_text(render.to_csv(tables), encoding="utf-8")


def _joined_progress(db: Database) -> list:
    """Progress counts as they were read before settled states: every task joined to its
    latest attempt."""
    cutoff = time.time() - db.settings.max_heartbeat_age
    return db.read(lambda tx: tx.tuples(_TYPE_STATE_COUNTS, (cutoff, None, None)))


def _streamed_text(db: Database, name: str, out: Path) -> None:
    """What `eas report job_tree > FILE` does."""
    with open(out.with_suffix(".txt"), "w", encoding="utf-8") as handle:
        write_report_text(db, name, handle.write)


def measure(db_path: str, what: str) -> None:
    """Child process: run one report on the database, print seconds, CPU seconds and VmHWM."""
    db = Database(Settings(db_path=db_path, data_dir=str(Path(db_path).parent / "data")))
    out = Path(db_path).parent / f"{what}.csv"
    calls = {
        "progress_joined": lambda: _joined_progress(db),
        "progress": lambda: run_report(db, "progress"),
        "job_tree_page": lambda: run_report(db, "job_tree", limit=100),
        "job_tree": lambda: run_report(db, "job_tree"),
        "job_tree_text": lambda: _streamed_text(db, "job_tree", out),
        "timings_whole": lambda: _whole_csv(db, "timings", out),
        "timings_csv": lambda: write_report_csv(db, "timings", out),
        "pass_fail_whole": lambda: _whole_csv(db, "pass_fail", out),
        "pass_fail_csv": lambda: write_report_csv(db, "pass_fail", out),
    }
    start, cpu = time.perf_counter(), time.process_time()
    calls[what]()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text()
                .splitlines() if line.startswith("VmHWM:"))
    print(json.dumps({"seconds": elapsed, "cpu": cpu, "peak_mb": peak / 1024}))


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def million(tmp: str, only: list[str] | None = None) -> None:
    count = 1_000_000
    start = time.perf_counter()
    path = Path(tmp) / "bench_1m.sqlite"
    if not path.exists():
        build(path, count, metadata=True).close()
        print(f"{count:,} tasks built in {time.perf_counter() - start:.1f} s", flush=True)
    db = Database(Settings(db_path=str(path), data_dir=str(path.parent / "data")))
    if db.read(outdated):
        start = time.perf_counter()
        create(db)
        print(f"schema upgraded in {time.perf_counter() - start:.1f} s", flush=True)
    db.close()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {_load()}", flush=True)
    print(f"  {'report (1M tasks)':<42} {'wall':>9} {'CPU':>9} {'peak':>8}")
    for what, label in MEASURED.items():
        if only and what not in only:
            continue
        done = subprocess.run([sys.executable, __file__, "--measure", what, str(path)],
                              capture_output=True, text=True, check=False)
        try:
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"  {label:<42} {figures['seconds']:7.2f} s {figures['cpu']:7.2f} s "
                  f"{figures['peak_mb']:5.0f} MB", flush=True)
        except (IndexError, ValueError):
            print(f"  {label:<42} failed: {done.stderr.strip().splitlines()[-1:]}", flush=True)
    print(f"end: {_load()}")
    print("targets at 1M: progress < 0.5 s; first job-tree page < 0.5 s; < 200 MB each")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--million", action="store_true", help="also the 1,000,000-task figures")
    p.add_argument("--sizes", default=",".join(str(n) for n in SIZES))
    p.add_argument("--keep", help="build the 1M database in this folder, reuse it if there")
    p.add_argument("--only", help="the 1M figures to take, comma-separated (default all: "
                   + ",".join(MEASURED) + ")")
    p.add_argument("--measure", nargs=2, metavar=("WHAT", "DB"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.measure:
        measure(a.measure[1], a.measure[0])
        return
    with tempfile.TemporaryDirectory() as tmp:
        for count in (int(n) for n in a.sizes.split(",") if n):
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
        if a.million:
            million(a.keep or tmp, a.only.split(",") if a.only else None)


if __name__ == "__main__":
    main()
