"""Scheduling benchmarks (issue 15, goals 2 and 3) on the embedded default (SQLite + SQL
queue). Prints figures; asserts nothing.

- a scheduling pass at 1M tasks: the first one over 1M ready tasks, an idle one once they are
  all scheduled, and an idle one over 1M tasks that all wait for an input nobody produced
  (the databases are built with bulk inserts, as registration would leave them);
- dependencies in ``eas run`` (embedded, 2 workers): fan-out/fan-in 1 -> 1,000 -> 1 and a grid
  of about 6,000 tasks in 1,200 loop bodies, wall time from submission to the end.

    .venv/bin/python bench/bench_scheduling.py [--tasks N] [--skip-runs]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from embedded import fresh  # bench/ is the folder of the running script

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.scheduling.scheduler import schedule_pass
from plato_eas.settings import Settings

BATCH = 50_000


def row(figure: str, value: str, target: str) -> None:
    load = os.getloadavg()[0]
    print(f"| {figure:<58} | {value:>10} | {target:>9} | {load:>4.2f} |", flush=True)


def _bulk_tasks(tx, n: int, type_id: int, job: str) -> None:
    now = time.time()
    for start in range(0, n, BATCH):
        tx.executemany(
            "INSERT INTO eas_task (createdTime, isFullyConfigured, taskTypeId, jobName, "
            "taskName, workingDirectory) VALUES (?, 1, ?, ?, ?, 'w')",
            [(now, type_id, job, f"t{i}") for i in range(start, min(n, start + BATCH))])


def _mark_new(tx) -> None:
    """Registration marks each new fully configured task for a readiness check (where the
    schema has the marker table): do as it does."""
    if "eas_task_check" in tx.dialect.table_names(tx):
        tx.execute("INSERT INTO eas_task_check (taskId) SELECT taskId FROM eas_task")


def _type_id(tx, name: str) -> int:
    found = tx.scalar("SELECT taskTypeId FROM eas_task_types WHERE taskTypeName = ?", (name,))
    return int(found) if found is not None else tx.insert(
        "INSERT INTO eas_task_types (taskTypeName) VALUES (?)", (name,))


def ready_database(tmp: Path, n: int) -> Settings:
    """n fully configured null tasks without inputs: all ready."""
    s = fresh(tmp, f"ready{n}")
    with Database(s) as db:
        def unit(tx) -> None:
            _bulk_tasks(tx, n, _type_id(tx, "null"), "bulk")
            _mark_new(tx)
        db.run(unit)
    return s


def waiting_database(tmp: Path, n: int) -> Settings:
    """One producer task (never run) and n tasks that each read its one file: all waiting."""
    s = fresh(tmp, f"waiting{n}")
    with Database(s) as db:
        def unit(tx) -> None:
            type_id = _type_id(tx, "null")
            producer = tx.insert(
                "INSERT INTO eas_task (createdTime, isFullyConfigured, taskTypeId, jobName, "
                "taskName, workingDirectory) VALUES (?, 0, ?, 'bulk', 'producer', 'w')",
                (time.time(), type_id))
            sem = tx.insert("INSERT INTO eas_semantic_type (name) VALUES ('lightcurve')")
            product = tx.insert(
                "INSERT INTO eas_product (generatorTask, directoryName, filename, semanticType) "
                "VALUES (?, 'w', 'x.lc', ?)", (producer, sem))
            _bulk_tasks(tx, n, type_id, "bulk")
            tx.execute("INSERT INTO eas_task_input (taskId, inputId, semanticType) "
                       "SELECT taskId, ?, ? FROM eas_task WHERE taskId <> ?",
                       (product, sem, producer))
            _mark_new(tx)
        db.run(unit)
    return s


def timed_pass(s: Settings) -> tuple[float, int, float]:
    """(wall seconds, attempts queued, CPU seconds of this process): SQLite works in this
    process, so the CPU time is the figure to compare on a busy machine."""
    with Database(s) as db:
        start, cpu = time.perf_counter(), time.process_time()
        n = len(schedule_pass(db)["attempt_ids"])
        return time.perf_counter() - start, n, time.process_time() - cpu


def bench_passes(tmp: Path, n: int) -> None:
    s = ready_database(tmp, n)
    elapsed, queued, cpu = timed_pass(s)
    row(f"first pass over {n:,} ready tasks ({queued:,} queued)", f"{elapsed:.2f} s", "< 3 s")
    row("  the same pass, CPU time of the process", f"{cpu:.2f} s", "-")
    idle = min(timed_pass(s)[0] for _ in range(3))
    row(f"idle pass, {n:,} tasks all scheduled (best of 3)", f"{idle * 1000:.1f} ms", "< 10 ms")
    s = waiting_database(tmp, n)
    timed_pass(s)  # the first pass checks every new task once
    idle = min(timed_pass(s)[0] for _ in range(3))
    row(f"idle pass, {n:,} tasks waiting for an input (best of 3)", f"{idle * 1000:.1f} ms",
        "< 10 ms")


def fan_chain(width: int) -> dict:
    middle = [{"task": "null", "name": f"m{i}", "requires_metadata_from": ["first"]}
              for i in range(width)]
    return {"job_name": "fan", "task_list": [
        {"task": "null", "name": "first"}, *middle,
        {"task": "null", "name": "last", "requires_metadata_from": [m["name"] for m in middle]}]}


def grid_chain(tools: int, sizes: int) -> dict:
    """tools x sizes loop bodies of four null tasks, each reading the file the one before
    wrote."""
    body = [{"task": "null", "name": "make", "outputs": {"lightcurve": "'a_{tool}_{size}.lc'"
                                                          ".format(**metadata)"}}]
    for step, (src, dst) in enumerate((("a", "b"), ("b", "c"), ("c", None))):
        task = {"task": "null", "name": f"use{step}",
                "inputs": {"lightcurve": f"'{src}_{{tool}}_{{size}}.lc'.format(**metadata)"}}
        if dst:
            task["outputs"] = {"lightcurve": f"'{dst}_{{tool}}_{{size}}.lc'.format(**metadata)"}
        body.append(task)
    return {"job_name": "grid", "working_directory": "grid", "task_list": [
        {"task": "execution_for_loop", "parameter": "tool", "values": list(range(tools)),
         "task_list": [{"task": "execution_for_loop", "parameter": "size",
                        "values": list(range(sizes)), "task_list": body}]}]}


def bench_run(tmp: Path, name: str, chain: dict) -> None:
    s = fresh(tmp, name)
    start = time.perf_counter()
    actions.submit(s, chain=chain)
    result = actions.local_run(s, workers=2, job_name=chain["job_name"], timeout=1800)
    elapsed = time.perf_counter() - start
    summary = result["summary"]
    row(f"eas run, {name}: {summary['done']:,} of {summary['total']:,} tasks done",
        f"{elapsed:.2f} s", "-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000, help="tasks in the big databases")
    parser.add_argument("--skip-runs", action="store_true", help="only the passes at scale")
    parser.add_argument("--skip-passes", action="store_true", help="only the eas run figures")
    args = parser.parse_args(argv)
    print("| figure" + " " * 53 + "| measured   | target    | load |")
    print("|" + "-" * 60 + "|" + "-" * 12 + "|" + "-" * 11 + "|" + "-" * 6 + "|")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_passes:
            bench_passes(Path(tmp), args.tasks)
        if not args.skip_runs:
            bench_run(Path(tmp), "fan-out/fan-in 1 -> 1,000 -> 1", fan_chain(1000))
            bench_run(Path(tmp), "grid 40 x 30 bodies", grid_chain(40, 30))
    return 0


if __name__ == "__main__":
    sys.exit(main())
