"""One plato.eas run (embedded SQLite + SQL queue, ``local_run`` with 2 workers) of a workload;
prints {"seconds": ..., "submit": ...} as JSON. Timed from the submit to the end of the run,
so validation, registration, loop expansion and worker start-up are all counted."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from plato_eas import actions
from plato_eas.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def flat_chain(n: int) -> dict:
    return {"job_name": "peers", "task_list": [{"task": "null", "name": f"t{i}"}
                                               for i in range(n)]}


def fan_chain(n: int) -> dict:
    mids = [{"task": "null", "name": f"m{i}", "inputs": {"x": "first.lc"},
             "outputs": {"x": f"m{i}.lc"}} for i in range(n)]
    last = {"task": "null", "name": "last", "inputs": {f"x{i}": f"m{i}.lc" for i in range(n)}}
    return {"job_name": "peers", "task_list": [
        {"task": "null", "name": "first", "outputs": {"x": "first.lc"}}, *mids, last]}


def grid_chain() -> dict:
    """large_grid.json without its innermost loop: 3 x 20 x 20 bodies of 5 tasks."""
    chain = json.loads((ROOT / "examples" / "chains" / "large_grid.json").read_text())
    period = chain["task_list"][0]["task_list"][0]["task_list"][0]
    body = period["task_list"][0]["task_list"]
    for task in body:
        for files in (task.get("inputs", {}), task.get("outputs", {})):
            for key, expr in files.items():
                files[key] = expr.replace("_{impact_index}", "")
        task.pop("set_metadata", None)
    period["task_list"] = body
    chain["job_name"] = "peers"
    return chain


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("workload")
    p.add_argument("size", type=int)
    a = p.parse_args()
    chain = {"flat": lambda: flat_chain(a.size), "fan": lambda: fan_chain(a.size),
             "grid": grid_chain}[a.workload]()
    with tempfile.TemporaryDirectory() as tmp:
        s = Settings(db_path=f"{tmp}/eas.sqlite", data_dir=f"{tmp}/data")
        actions.init_schema(s)
        actions.init_queues(s)
        start = time.perf_counter()
        actions.submit(s, chain=chain)
        submitted = time.perf_counter() - start
        result = actions.local_run(s, workers=2, job_name="peers", timeout=3600)
        elapsed = time.perf_counter() - start
    if not result["finished"] or result["failed"]:
        raise SystemExit(f"plato.eas run did not finish: {result.get('failure')}")
    print(json.dumps({"seconds": elapsed, "submit": submitted}))


if __name__ == "__main__":
    main()
