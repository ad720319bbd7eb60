"""Where a `null` attempt's time goes on the embedded default (SQLite + SQL queue). Prints
figures; asserts nothing.

    .venv/bin/python bench/bench_attempts.py [--attempts N] [--rounds R] [--only PART,...]

1. The SQLite commit rate on this disk: one-row write transactions (``BEGIN IMMEDIATE``, an
   UPDATE, ``COMMIT``) through the project's own connection (WAL, its ``synchronous``
   setting), one writer and two; the disk's fsyncs/s (what each WAL checkpoint pays); and
   attempts/s recorded when the child answers at once — the database's bound on attempts/s
   with one commit per attempt.
2. A per-attempt breakdown for one worker: write transactions and statements per attempt,
   and the wall time of each phase (hand-off to the task-runner child and back, the task
   itself as the child timed it, recording, claiming the next attempt, COMMIT, loading the
   claimed attempt after the COMMIT),
   with the worker's and the child's CPU time per attempt.
3. Attempts/s end to end with 2 workers (as ``bench_core.py``), with the CPU time the
   workers and their children spent per attempt (on a shared machine the CPU figure moves
   less than the wall-clock one) and the wall time per attempt the workers waited for
   SQLite's write lock (in ``BEGIN IMMEDIATE``), held it before COMMIT, and spent in COMMIT
   (and in the COMMITs that ran a WAL checkpoint, after releasing the lock).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from embedded import fresh  # bench/ is the folder of the running script

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.settings import Settings
from plato_eas.worker import worker as worker_module
from plato_eas.worker.child import Outcome
from plato_eas.worker.worker import Worker

CTX = multiprocessing.get_context("fork")


def queued_nulls(s: Settings, n: int) -> None:
    """n null tasks, expanded and queued."""
    actions.submit(s, chain={"job_name": "bench", "task_list": [
        {"task": "null", "name": f"t{i}"} for i in range(n)]})
    actions.schedule(s)
    Worker(s, task_types=["execution_chain"]).run(until_empty=True)
    actions.schedule(s)


def row(figure: str, value: str) -> None:
    print(f"| {figure:<66} | {value:>16} |", flush=True)


def _cpu_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# -- 1. commit rate ------------------------------------------------------------------------
def _committer(s: Settings, seconds: float, barrier, out) -> None:
    with Database(s) as db:
        db.conn  # noqa: B018 - connect before the clock starts
        barrier.wait()
        n, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            db.run(lambda tx: tx.execute("UPDATE bench_commit SET n = n + 1 WHERE id = ?",
                                         (os.getpid() % 2,)))
            n += 1
        out.put(n)


def bench_commit_rate(tmp: Path, seconds: float = 2.0) -> None:
    s = fresh(tmp, "commits")
    with Database(s) as db:
        mode = db.conn.execute("PRAGMA journal_mode").fetchone()[0]
        sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
            db.conn.execute("PRAGMA synchronous").fetchone()[0]]
        db.run(lambda tx: tx.execute(
            "CREATE TABLE bench_commit (id INTEGER PRIMARY KEY, n INTEGER)"))
        db.run(lambda tx: tx.executemany("INSERT INTO bench_commit VALUES (?, 0)",
                                         [(0,), (1,)]))
    for writers in (1, 2):
        barrier, out = CTX.Barrier(writers + 1), CTX.Queue()
        procs = [CTX.Process(target=_committer, args=(s, seconds, barrier, out))
                 for _ in range(writers)]
        for p in procs:
            p.start()
        barrier.wait()
        total = sum(out.get() for _ in procs)
        for p in procs:
            p.join()
        row(f"SQLite commits/s, one-row write tx, {writers} writer(s) "
            f"({mode}, sync {sync})", f"{total / seconds:,.0f}")


def bench_fsync_rate(tmp: Path, seconds: float = 1.0) -> None:
    """What a checkpoint (or synchronous=FULL) pays per sync on this disk."""
    fd = os.open(tmp / "fsync.bin", os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        n, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            os.pwrite(fd, b"x" * 4096, 0)
            os.fsync(fd)
            n += 1
    finally:
        os.close(fd)
    row("fsyncs/s of a 4 KiB write on this disk (what a checkpoint pays)", f"{n / seconds:,.0f}")


def bench_database_bound(tmp: Path, n: int) -> None:
    """Attempts/s when the task-runner child answers at once with a null task's outcome:
    the recording (and claiming, loading) transactions alone, one worker."""
    s = fresh(tmp, "bound")
    queued_nulls(s, n)
    worker = Worker(s, task_types=["null"])

    def answer(*_args, **_kwargs) -> Outcome:
        return Outcome(ok=True, logs=[(time.time(), logging.INFO,
                                       "plato_eas.task: null task wrote 0 output(s)")])

    worker.runner.run = answer
    cpu0, start = time.process_time(), time.perf_counter()
    done = worker.run(until_empty=True)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
    row("attempts/s recorded with no task run (the database's share), 1 worker",
        f"{done / elapsed:,.0f}")
    row("  its CPU, µs/attempt", f"{1e6 * cpu / done:,.0f}")


# -- 2. per-attempt breakdown ---------------------------------------------------------------
class Phases:
    """Wall time spent in each phase, summed over the attempts."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def add(self, name: str, seconds: float) -> None:
        self.spent[name] = self.spent.get(name, 0.0) + seconds

    def timed(self, name: str, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - start)
        return wrapper


def bench_breakdown(tmp: Path, n: int) -> None:
    s = fresh(tmp, "breakdown")
    queued_nulls(s, n)
    worker = Worker(s, task_types=["null"])
    phases = Phases()
    statements: list[str] = []
    worker.db.conn.set_trace_callback(statements.append)
    task_wall: list[float] = []
    run = worker.runner.run

    def hand_off(*args, **kwargs):
        outcome = run(*args, **kwargs)
        task_wall.append(outcome.wall)
        return outcome

    worker.runner.run = phases.timed("hand-off to the child and back", hand_off)
    recorded = worker_module.record
    worker_module.record = phases.timed("record (incl. claim, commit)", recorded)
    worker.queue.claim_within = phases.timed("  claim next (inside record)",
                                             worker.queue.claim_within)
    worker.db.read = phases.timed("load the attempt (a read transaction)", worker.db.read)
    dialect = worker.db.dialect
    dialect.commit = phases.timed("  COMMITs (write in record, read in load)", dialect.commit)
    cpu0, kids0, start = time.process_time(), _cpu_children(), time.perf_counter()
    try:
        done = worker.run(until_empty=True)
    finally:
        worker_module.record = recorded
    elapsed = time.perf_counter() - start
    cpu, kids = time.process_time() - cpu0, _cpu_children() - kids0
    phases.add("  task in the child (its own clock)", sum(task_wall))
    begun = sum(1 for sql in statements if sql.startswith("BEGIN IMMEDIATE"))
    row(f"one worker: {done:,} attempts, attempts/s", f"{done / elapsed:,.0f}")
    row("write transactions per attempt", f"{begun / done:.2f}")
    row("SQL statements per attempt (BEGIN and COMMIT included)",
        f"{len(statements) / done:.1f}")
    accounted = 0.0
    for name, seconds in phases.spent.items():
        row(f"{name}, µs/attempt ({100 * seconds / elapsed:.0f} %)",
            f"{1e6 * seconds / done:,.0f}")
        accounted += 0.0 if name.startswith(" ") else seconds
    row(f"rest of the worker loop, µs/attempt ({100 * (elapsed - accounted) / elapsed:.0f} %)",
        f"{1e6 * (elapsed - accounted) / done:,.0f}")
    row("worker CPU, µs/attempt", f"{1e6 * cpu / done:,.0f}")
    row("task-runner child CPU, µs/attempt", f"{1e6 * kids / done:,.0f}")


# -- 3. end to end ----------------------------------------------------------------------------
class WriteLock:
    """Wall time of this process's write transactions: waiting in ``BEGIN IMMEDIATE``, holding
    SQLite's write lock before COMMIT, and in COMMIT; and the COMMITs slower than 1 ms (those
    that ran an automatic WAL checkpoint, which runs after the lock is released: another
    writer goes on meanwhile)."""

    SLOW = 1e-3

    def __init__(self, dialect) -> None:
        self.count = 0
        self.waiting = self.before_commit = self.committing = self.slow = 0.0
        self.slow_count = 0
        self._since: float | None = None
        begin, commit, rollback = dialect.begin, dialect.commit, dialect.rollback

        def timed_begin(conn) -> None:
            start = time.perf_counter()
            begin(conn)
            self._since = time.perf_counter()
            self.waiting += self._since - start

        def timed_end(end, conn) -> None:
            start = time.perf_counter()
            try:
                end(conn)
            finally:
                if self._since is not None:  # a write transaction (reads begin otherwise)
                    spent = time.perf_counter() - start
                    self.before_commit += start - self._since
                    self.committing += spent
                    if spent > self.SLOW:
                        self.slow += spent
                        self.slow_count += 1
                    self.count += 1
                    self._since = None

        dialect.begin = timed_begin
        dialect.commit = lambda conn: timed_end(commit, conn)
        dialect.rollback = lambda conn: timed_end(rollback, conn)

    def figures(self) -> tuple:
        return (self.count, self.waiting, self.before_commit, self.committing, self.slow,
                self.slow_count)


def _serve(s: Settings, out) -> None:
    cpu0, kids0 = time.process_time(), _cpu_children()
    worker = Worker(s, task_types=["null"])
    lock = WriteLock(worker.db.dialect)
    done = worker.run(until_empty=True)
    # the runner is reaped when the worker closes: its CPU is in RUSAGE_CHILDREN by now
    out.put((done, time.process_time() - cpu0, _cpu_children() - kids0,
             lock.figures()))


def bench_end_to_end(tmp: Path, n: int, workers: int = 2) -> tuple[float, float, tuple]:
    s = fresh(tmp, f"e2e{time.monotonic_ns()}")
    queued_nulls(s, n)
    out = CTX.Queue()
    procs = [CTX.Process(target=_serve, args=(s, out)) for _ in range(workers)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    done = sum(r[0] for r in results)
    cpu = sum(r[1] + r[2] for r in results)
    txs, waiting, held, committing, slow, slow_count = (
        sum(r[3][i] for r in results) for i in range(6))
    return done / elapsed, 1e6 * cpu / done, (
        txs / done, 1e6 * waiting / done, 1e6 * held / done, 1e6 * committing / done,
        1e6 * slow / done, 1000 * slow_count / done)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3, help="end-to-end runs (median)")
    parser.add_argument("--only", default="commits,breakdown,end_to_end",
                        help="comma-separated parts to run (default: all three)")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    print(f"load average {os.getloadavg()[0]:.2f} at the start")
    print("| figure" + " " * 61 + "| measured         |")
    print("|" + "-" * 68 + "|" + "-" * 18 + "|")
    with tempfile.TemporaryDirectory() as tmp:
        if "commits" in only:
            bench_commit_rate(Path(tmp))
            bench_fsync_rate(Path(tmp))
            bench_database_bound(Path(tmp), args.attempts)
        if "breakdown" in only:
            bench_breakdown(Path(tmp), args.attempts)
        if "end_to_end" in only:
            runs = [bench_end_to_end(Path(tmp), args.attempts) for _ in range(args.rounds)]
            rates = [r for r, _, _ in runs]
            row(f"null attempts/s end to end, 2 workers, {args.attempts:,} attempts (median)",
                f"{statistics.median(rates):,.0f}")
            row("  each run", " ".join(f"{r:,.0f}" for r in rates))
            row("  CPU of workers + children, µs/attempt (median)",
                f"{statistics.median(c for _, c, _ in runs):,.0f}")
            for i, what in enumerate(("write transactions per attempt",
                                      "waiting in BEGIN IMMEDIATE, µs/attempt",
                                      "write lock held before COMMIT, µs/attempt",
                                      "in COMMIT, µs/attempt",
                                      "  in COMMITs over 1 ms (WAL checkpoints), µs/attempt",
                                      "  COMMITs over 1 ms per 1,000 attempts")):
                figure = statistics.median(lock[i] for _, _, lock in runs)
                row(f"  {what} (median)", f"{figure:,.2f}" if i == 0 else f"{figure:,.0f}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
