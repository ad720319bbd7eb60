"""Pipeline-core benchmarks on the embedded default (SQLite + SQL queue). Prints figures;
asserts nothing. Targets are from issue #2 (prototype figures on this machine class).

    .venv/bin/python bench/bench_core.py [--skip-large]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

from embedded import fresh  # bench/ is the folder of the running script

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.queues.sql import SqlQueue
from plato_eas.reports import run_report
from plato_eas.scheduling.scheduler import schedule_pass
from plato_eas.settings import Settings
from plato_eas.worker.worker import Worker

CTX = multiprocessing.get_context("fork")
ROOT = Path(__file__).resolve().parents[1]


def expanded_nulls(s: Settings, n: int) -> float:
    """Submit n null tasks and expand them; returns the expansion's seconds."""
    actions.submit(s, chain={"job_name": "bench", "task_list": [
        {"task": "null", "name": f"t{i}"} for i in range(n)]})
    actions.schedule(s)
    start = time.perf_counter()
    Worker(s, task_types=["execution_chain"]).run(until_empty=True)
    return time.perf_counter() - start


def row(figure: str, value: str, target: str) -> None:
    print(f"| {figure:<62} | {value:>14} | {target:>10} |", flush=True)


def bench_scheduling(tmp: Path) -> None:
    s = fresh(tmp, "sched")
    expand = expanded_nulls(s, 10_000)
    row("expansion of one chain into 10,000 tasks", f"{expand:.2f} s", "-")
    with Database(s) as db:
        start = time.perf_counter()
        n = len(schedule_pass(db)["attempt_ids"])
        row(f"one scheduling pass over {n:,} ready tasks", f"{time.perf_counter() - start:.3f} s",
            "< 0.35 s")
        start = time.perf_counter()
        schedule_pass(db)
        row("idle scheduling pass with 10,000 tasks scheduled",
            f"{time.perf_counter() - start:.3f} s", "< 0.05 s")
        start = time.perf_counter()
        run_report(db, "job_tree")
        row("job tree of 10,001 tasks", f"{time.perf_counter() - start:.3f} s", "< 0.2 s")


def _claimer(s: Settings, barrier, out) -> None:
    with Database(s) as db:
        queue = SqlQueue(db)
        barrier.wait()
        n = 0
        while queue.claim(["null"], 1) is not None:
            n += 1
        out.put(n)


def bench_claims(tmp: Path) -> None:
    for claimers in (1, 4):
        s = fresh(tmp, f"claims{claimers}")
        expanded_nulls(s, 10_000)
        actions.schedule(s)
        barrier, out = CTX.Barrier(claimers + 1), CTX.Queue()
        procs = [CTX.Process(target=_claimer, args=(s, barrier, out)) for _ in range(claimers)]
        for p in procs:
            p.start()
        barrier.wait()
        start = time.perf_counter()
        total = sum(out.get() for _ in procs)
        elapsed = time.perf_counter() - start
        for p in procs:
            p.join()
        row(f"claims/s, {claimers} claimer(s), {total:,} attempts", f"{total / elapsed:,.0f}",
            "> 2,000")


def _serve(s: Settings, out) -> None:
    out.put(Worker(s, task_types=["null"]).run(until_empty=True))


def bench_end_to_end(tmp: Path, workers: int = 2, n: int = 5_000) -> None:
    s = fresh(tmp, "e2e")
    expanded_nulls(s, n)
    actions.schedule(s)
    out = CTX.Queue()
    procs = [CTX.Process(target=_serve, args=(s, out)) for _ in range(workers)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    total = sum(out.get() for _ in procs)
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    row(f"null attempts/s end to end, {workers} workers, {total:,} attempts",
        f"{total / elapsed:,.0f}", "> 300")


def bench_large_grid(tmp: Path) -> None:
    s = fresh(tmp, "grid")
    start = time.perf_counter()
    actions.submit(s, src=str(ROOT / "examples" / "chains" / "large_grid.json"))
    result = actions.local_run(s, workers=2, job_name="large_grid", timeout=1800)
    elapsed = time.perf_counter() - start
    summary = result["summary"]
    row(f"large_grid.json: {summary['done']:,} of {summary['total']:,} tasks done, 2 workers",
        f"{elapsed:.0f} s", "< 600 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-large", action="store_true", help="skip the 88,928-task grid")
    args = parser.parse_args(argv)
    print("| figure" + " " * 57 + "| measured       | target     |")
    print("|" + "-" * 64 + "|" + "-" * 16 + "|" + "-" * 12 + "|")
    with tempfile.TemporaryDirectory() as tmp:
        bench_scheduling(Path(tmp))
        bench_claims(Path(tmp))
        bench_end_to_end(Path(tmp))
        if not args.skip_large:
            bench_large_grid(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
