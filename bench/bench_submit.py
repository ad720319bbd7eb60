"""Submission benchmark on the embedded default (SQLite): how long validating and registering a
chain takes as it grows. Prints figures; asserts nothing.

For each chain it prints:
- validate: ``validate_chain`` alone (schema and every semantic rule);
- submit: ``actions.submit`` of the chain's JSON file (reading it, validation, product
  look-ups, the root task row): what ``eas submit FILE`` does;
- register: the run-time expansion of the chain's tasks into task rows, products, metadata
  (``expand`` + ``register_children`` in one transaction, as a worker does);
- submit + register: the two together, what an operator waits for between ``eas submit
  FILE`` and every task of the chain being in the database, ready for its first scheduling
  pass: the figure of issue 15's goal 1 (a 10k flat chain under 0.5 s, 100k under 5 s).
  Validation is inside submit (validate is the same work alone, not counted twice).

The flat chains are N ``null`` tasks, each named and writing one file, every other one
reading its predecessor's file and metadata; the nested grid is a literal chain of
``execution_chain`` tasks holding ``null`` tasks (100 x 100), registered level by level.

    .venv/bin/python bench/bench_submit.py [--sizes 1000,10000,100000] [--skip-grid]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from embedded import fresh  # bench/ is the folder of the running script

from plato_eas import actions
from plato_eas.chains.expand import expand
from plato_eas.chains.register import register_children
from plato_eas.chains.validate import validate_chain
from plato_eas.db import Database
from plato_eas.model.context import load_context
from plato_eas.tasks.registry import CONTROL_FLOW_TYPES

KNOWN = {*CONTROL_FLOW_TYPES, "null", "error"}


def flat_chain(n: int) -> dict:
    tasks = []
    for i in range(n):
        task = {"task": "null", "name": f"t{i}", "outputs": {"lightcurve": f"f{i}.lc"}}
        if i % 2:
            task["inputs"] = {"lightcurve": f"f{i - 1}.lc"}
            task["requires_metadata_from"] = [f"t{i - 1}"]
        tasks.append(task)
    return {"job_name": f"flat{n}", "working_directory": f"flat{n}", "task_list": tasks}


def grid_chain(outer: int, inner: int) -> dict:
    return {"job_name": "grid", "working_directory": "grid", "task_list": [
        {"task": "execution_chain", "name": f"c{i}", "working_directory": f"c{i}",
         "task_list": [{"task": "null", "name": f"t{j}", "outputs": {"lightcurve": f"f{j}.lc"}}
                       for j in range(inner)]}
        for i in range(outer)]}


def timed(fn) -> tuple[tuple[float, float], object]:
    """((wall seconds, CPU seconds of this process), result): CPU time is the figure to
    compare on a busy machine (SQLite works in this process)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return (time.perf_counter() - start, time.process_time() - cpu), result


def register_tree(db: Database, task_id: int) -> int:
    """Expand the control-flow task ``task_id`` and, level by level, its control-flow
    children, as the workers would (without running anything else); returns tasks made."""
    made, pending = 0, [task_id]
    while pending:
        parent = pending.pop(0)

        def unit(tx, parent=parent):
            attempt = tx.insert("INSERT INTO eas_scheduling_attempt (taskId, isRunning) "
                                "VALUES (?, 1)", (parent,))
            children = expand(load_context(tx, attempt))
            ids = register_children(tx, parent, children)
            control = [i for i, c in zip(ids, children, strict=True)
                       if c.task_type in CONTROL_FLOW_TYPES]
            return control, len(ids)

        control, count = db.run(unit)
        pending.extend(control)
        made += count
    return made


COLUMNS = ("validate", "submit", "register", "submit + register")
WIDTHS = [max(19, len(name) + 11) for name in COLUMNS]  # "<name> wall, cpu"


def row(label: str, tasks: int, *figures: tuple[float, float]) -> None:
    cells = " | ".join(f"{wall:>7.3f} s {cpu:>7.3f} s".rjust(width)
                       for (wall, cpu), width in zip(figures, WIDTHS, strict=True))
    print(f"| {label:<34} | {tasks:>8,} | {cells} | {os.getloadavg()[0]:>4.2f} |", flush=True)


def bench(tmp: Path, label: str, chain: dict) -> None:
    s = fresh(tmp, label.split()[0])
    src = tmp / f"{label.split()[0]}.json"
    src.write_text(json.dumps(chain))
    validate, _ = timed(lambda: validate_chain(chain, KNOWN))
    submit, result = timed(lambda: actions.submit(s, src=str(src)))
    with Database(s) as db:
        register, made = timed(lambda: register_tree(db, result["task_id"]))
    both = (submit[0] + register[0], submit[1] + register[1])
    row(label, made, validate, submit, register, both)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="flat chain sizes, comma-separated")
    parser.add_argument("--skip-grid", action="store_true", help="skip the nested grid")
    args = parser.parse_args(argv)
    heads = " | ".join(f"{name} wall, cpu".rjust(width)
                       for name, width in zip(COLUMNS, WIDTHS, strict=True))
    print(f"| {'chain':<34} | {'tasks':>8} | {heads} | load |")
    print(f"|{'-' * 36}|{'-' * 10}|" + "|".join("-" * (width + 2) for width in WIDTHS)
          + "|------|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(size) for size in args.sizes.split(",") if size):
            bench(Path(tmp), f"flat{n} ({n:,} null tasks)", flat_chain(n))
        if not args.skip_grid:
            bench(Path(tmp), "grid (100 chains x 100 tasks)", grid_chain(100, 100))
    return 0


if __name__ == "__main__":
    sys.exit(main())
