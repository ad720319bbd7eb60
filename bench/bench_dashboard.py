"""Benchmark the web dashboard's pages on big task databases.

Builds SQLite databases shaped like the prototype's ``detection_grid_2d`` job (nested for-loops
over TDA, cadence, size, period and impact; five tasks per grid point; every task carrying its
inherited loop metadata and description, as a real expansion writes them) with bulk inserts:
one of about 10,000 and one of about 130,000 tasks, mid-run (most tasks done, some failed,
running, queued and waiting). Then serves the dashboard on each with the real server (waitress)
and prints, for every page, the time to first byte and the time to the full response (the
pages, plots included, are rendered on the server), best of three requests.

Prints figures only: speed is measured here, not asserted in tests.

    .venv/bin/python bench/bench_dashboard.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path

from plato_eas.db import Database
from plato_eas.model.attempts import settle_all
from plato_eas.model.schema import create
from plato_eas.settings import Settings

# (sizes, periods, impacts) of the grid: 3 TDAs x 1 cadence x the rest, 5 tasks per point.
SHAPES = {"10k": (9, 10, 6), "130k": (24, 24, 12)}
TDAS = ("tls", "bls_reference", "qats")
LEAVES = ("synthesis_psls", "synthesis_batman", "multiply", "verify", "transit_search")
HOSTS = 16
REARTH = 6.371e6 / 6.957e8  # Earth radius in solar radii, as the chains' constants


class Builder:
    """Accumulates rows for every table, then writes them in one transaction."""

    def __init__(self, now: float, points: int):
        self.now = now
        self.rng = random.Random(36)
        self.types: dict[str, int] = {}
        self.keys: dict[str, int] = {}
        self.tasks: list[tuple] = []
        self.attempts: list[tuple] = []
        self.items: list[tuple] = []
        self.logs: list[tuple] = []
        self.products: list[tuple] = []
        self.versions: list[tuple] = []
        self.inputs: list[tuple] = []
        # When each host is next free: started long enough ago to have done 70% of the work.
        self.clock = [now - points * 3.8] * HOSTS
        self.leaf_index = 0

    def type_id(self, name: str) -> int:
        return self.types.setdefault(name, len(self.types) + 1)

    def key_id(self, name: str) -> int:
        return self.keys.setdefault(name, len(self.keys) + 1)

    def task(self, parent: int | None, type_name: str, name: str | None, meta: dict,
             description: dict) -> int:
        task_id = len(self.tasks) + 1
        self.tasks.append((task_id, parent, self.clock[0] - 600, 1, self.type_id(type_name),
                           "detection_grid_2d", name, "detection_grid_2d"))
        for key, value in meta.items():
            number = float(value) if isinstance(value, (int, float)) else None
            text = None if number is not None else str(value)
            self.items.append((task_id, None, self.now, self.key_id(key), number, text))
        self.items.append((task_id, None, self.now, self.key_id("task_description"), None,
                           json.dumps(description, sort_keys=True)))
        return task_id

    def attempt(self, task_id: int, state: str, wall: float, outcome: str | None = None) -> int:
        """One attempt in ``state`` (done, failed, running, queued); None for waiting."""
        attempt_id = len(self.attempts) + 1
        host = min(range(HOSTS), key=self.clock.__getitem__)
        start = self.clock[host]
        end = start + wall
        queued = start - 30.0
        if state in ("done", "failed"):
            self.clock[host] = end + 0.2
            self.attempts.append((attempt_id, task_id, queued, 0, 0, 1, host + 1, start, end,
                                  end, int(state == "done"), int(state == "failed"),
                                  "Traceback (most recent call last):\n  ...\nValueError: "
                                  "light curve has no valid points" if state == "failed"
                                  else None, wall, wall * 0.93, wall * 0.97))
            self.logs.append((attempt_id, start + 0.01, 20, f"task {task_id} started"))
            if state == "failed":
                self.logs.append((attempt_id, end, 40, "Traceback (most recent call last):\n"
                                  "  ...\nValueError: light curve has no valid points"))
        elif state == "running":
            self.clock[host] = self.now + 3600
            self.attempts.append((attempt_id, task_id, queued, 0, 1, 0, host + 1, self.now - 20,
                                  self.now - 5, None, None, 0, None, None, None, None))
        else:
            self.attempts.append((attempt_id, task_id, self.now - 60, 1, 0, 0, None, None,
                                  None, None, None, 0, None, None, None, None))
        if outcome is not None:
            self.items.append((None, attempt_id, end, self.key_id("outcome"), None, outcome))
        return attempt_id

    def product(self, task_id: int, filename: str, attempt_id: int | None) -> int:
        product_id = len(self.products) + 1
        self.products.append((product_id, task_id, self.now, "detection_grid_2d", filename,
                              self.key_id("sem:lightcurve"), "application/gzip"))
        if attempt_id is not None:
            digest = hashlib.md5(filename.encode(), usedforsecurity=False).hexdigest()
            self.versions.append((len(self.versions) + 1, product_id, attempt_id,
                                  digest[:16] + f"{product_id:016x}", self.now, self.now,
                                  digest, 1_200_000 + product_id, 1))
        return product_id


def _state(index: int, total: int, running_left: list[int]) -> str | None:
    """Mid-run: the first 70% done (2% of those failed), then 16 running, 10% queued, the
    rest waiting."""
    if index < 0.7 * total:
        return "failed" if index % 50 == 7 else "done"
    if running_left[0] > 0:
        running_left[0] -= 1
        return "running"
    if index < 0.8 * total:
        return "queued"
    return None


def _grid(b: Builder, shape: tuple[int, int, int]) -> None:
    sizes, periods, impacts = shape
    points = len(TDAS) * sizes * periods * impacts
    running = [HOSTS]
    root = b.task(None, "execution_chain", "root", {}, {"job_name": "detection_grid_2d"})
    b.attempt(root, "done", 0.2)

    def loop(parent: int, meta: dict, parameter: str, values: list, body) -> None:
        loop_id = b.task(parent, "execution_for_loop", None, meta, {"parameter": parameter})
        b.attempt(loop_id, "done", 0.3)
        for index, value in enumerate(values):
            inner = {**meta, parameter: value, f"{parameter}_index": index}
            chain = b.task(loop_id, "execution_chain", None, inner, {"task": "execution_chain"})
            b.attempt(chain, "done", 0.1)
            body(chain, inner)

    def point(chain: int, meta: dict) -> None:
        index = b.leaf_index
        b.leaf_index += 1
        state = _state(index, points, running)
        suffix = "_".join(str(meta[k]) for k in ("tda_index", "cadence_index", "size_index",
                                                  "period_index", "impact_index"))
        files = {}
        for leaf in LEAVES:
            type_name = f"transit_search_{meta['tda']}" if leaf == "transit_search" else leaf
            name = "transit_detection" if leaf == "transit_search" else None
            task_id = b.task(chain, type_name, name, meta, {"task": type_name})
            leaf_state = state if state in ("done", "failed", None) else (
                "done" if leaf != "transit_search" else state)
            if state == "failed" and leaf != "transit_search":
                leaf_state = "done"
            attempt_id = None
            if leaf_state is not None:
                wall = {"synthesis_psls": 40.0, "synthesis_batman": 8.0, "multiply": 2.0,
                        "verify": 1.0}.get(leaf, 30.0) * b.rng.uniform(0.6, 1.6)
                outcome = None
                if leaf == "transit_search" and leaf_state == "done":
                    chance = 1 - math.exp(-meta["size"] / REARTH / (0.4 + meta["impact"]))
                    outcome = "PASS" if b.rng.random() < chance else "FAIL"
                attempt_id = b.attempt(task_id, leaf_state, wall, outcome)
            if leaf in ("synthesis_psls", "synthesis_batman", "multiply"):
                done = attempt_id if leaf_state == "done" else None
                files[leaf] = b.product(task_id, f"grid2d_{leaf}_{suffix}.gz", done)
            if leaf == "multiply":
                b.inputs.append((task_id, files["synthesis_psls"], b.key_id("sem:lightcurve_1")))
                b.inputs.append((task_id, files["synthesis_batman"],
                                 b.key_id("sem:lightcurve_2")))
            if leaf in ("verify", "transit_search"):
                b.inputs.append((task_id, files["multiply"], b.key_id("sem:lightcurve")))

    sizes_v = [REARTH * (0.25 + 1.75 * i / (sizes - 1)) for i in range(sizes)]
    periods_v = [0.5 + 379.5 * i / (periods - 1) for i in range(periods)]
    impacts_v = [i / (impacts - 1) for i in range(impacts)]

    def by_impact(chain, meta):
        loop(chain, meta, "impact", impacts_v, point)

    def by_period(chain, meta):
        loop(chain, meta, "period", periods_v, by_impact)

    def by_size(chain, meta):
        loop(chain, meta, "size", sizes_v, by_period)

    def by_cadence(chain, meta):
        loop(chain, meta, "cadence", [900], by_size)

    loop(root, {}, "tda", list(TDAS), by_cadence)


def build(path: Path, shape: tuple[int, int, int]) -> tuple[Settings, int]:
    """A fresh SQLite database at ``path`` holding one detection_grid_2d-shaped job; returns
    its settings and its number of tasks."""
    settings = Settings(db_path=str(path), data_dir=str(path.parent / "data"))
    with Database(settings, create=True) as db:
        create(db)
        b = Builder(time.time(), len(TDAS) * shape[0] * shape[1] * shape[2])
        _grid(b, shape)
        semantic = {k[4:]: v for k, v in b.keys.items() if k.startswith("sem:")}
        keys = {k: v for k, v in b.keys.items() if not k.startswith("sem:")}

        def unit(tx) -> None:
            tx.execute("DELETE FROM eas_task_types")
            tx.executemany("INSERT INTO eas_task_types (taskTypeId, taskTypeName) VALUES (?, ?)",
                           [(i, n) for n, i in b.types.items()])
            tx.executemany("INSERT INTO eas_metadata_keys (keyId, name) VALUES (?, ?)",
                           [(i, n) for n, i in keys.items()])
            tx.executemany("INSERT INTO eas_semantic_type (semanticTypeId, name) VALUES (?, ?)",
                           [(i, n) for n, i in semantic.items()])
            tx.executemany("INSERT INTO eas_worker_host (hostId, hostname) VALUES (?, ?)",
                           [(h + 1, f"eas-worker-{h:02d}") for h in range(HOSTS)])
            tx.executemany(
                "INSERT INTO eas_task (taskId, parentTask, createdTime, isFullyConfigured, "
                "taskTypeId, jobName, taskName, workingDirectory) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                b.tasks)
            tx.executemany(
                "INSERT INTO eas_scheduling_attempt (schedulingAttemptId, taskId, queuedTime, "
                "isQueued, isRunning, isFinished, hostId, startTime, latestHeartbeat, endTime, "
                "allProductsPassedQc, errorFail, errorText, runTimeWallClock, runTimeCpu, "
                "runTimeCpuIncChildren) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                b.attempts)
            tx.executemany(
                "INSERT INTO eas_metadata_item (taskId, schedulingAttemptId, setAtTime, "
                "metadataKey, valueFloat, valueString) VALUES (?, ?, ?, ?, ?, ?)", b.items)
            tx.executemany(
                "INSERT INTO eas_log_messages (generatedByTaskExecution, timestamp, severity, "
                "message) VALUES (?, ?, ?, ?)", b.logs)
            tx.executemany(
                "INSERT INTO eas_product (productId, generatorTask, plannedTime, directoryName, "
                "filename, semanticType, mimeType) VALUES (?, ?, ?, ?, ?, ?, ?)", b.products)
            tx.executemany(
                "INSERT INTO eas_product_version (productVersionId, productId, "
                "generatedByTaskExecution, repositoryId, createdTime, modifiedTime, fileMD5, "
                "fileSize, passedQc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", b.versions)
            tx.executemany("INSERT INTO eas_task_input (taskId, inputId, semanticType) "
                           "VALUES (?, ?, ?)", b.inputs)
            tx.execute("INSERT INTO eas_config (configKey, configValue) VALUES (?, ?)",
                       ("queue_implementation", "sql"))
            settle_all(tx)  # each task's settled state, as the attempt lifecycle keeps it

        db.run(unit)
        db.conn.execute("ANALYZE")
        return settings, len(b.tasks)


# -- measuring ------------------------------------------------------------------------------
def pages(settings: Settings) -> dict[str, str]:
    """Every page of the dashboard on the bench job, and the downloads."""
    from plato_eas.db import Database

    with Database(settings, read_only=True) as db:
        loop, task, failed = db.read(lambda tx: (
            tx.scalar("SELECT MIN(taskId) FROM eas_task WHERE taskTypeId = "
                      "(SELECT taskTypeId FROM eas_task_types WHERE taskTypeName = "
                      "'execution_for_loop') AND parentTask > 1"),
            tx.scalar("SELECT MAX(t.taskId) FROM eas_task t JOIN eas_product p "
                      "ON p.generatorTask = t.taskId"),
            tx.scalar("SELECT MIN(taskId) FROM eas_scheduling_attempt WHERE errorFail = 1")))
    job = "detection_grid_2d"
    return {
        "jobs": "/",
        "job": f"/jobs/{job}",
        "job (running only, 4 levels)": f"/jobs/{job}?running_only=1&depth=4",
        "job (live refresh)": f"/jobs/{job}?part=live",
        "tree: children of a loop": f"/tree?parent={loop}",
        "task (with files)": f"/tasks/{task}",
        "task (failed)": f"/tasks/{failed}",
        "logs": "/logs",
        "logs (job, errors, page 5)": f"/logs?job_name={job}&min_severity=error&page=5",
        "timings": f"/timings?job_name={job}",
        "pass/fail": f"/pass_fail?job_name={job}",
        "pass/fail against period": f"/pass_fail?job_name={job}&variable=period",
        "timeline (whole job)": f"/timeline?job_name={job}",
        "queue": "/queue",
        "files": "/files/",
        "download: timing summary CSV": f"/timing_summary.csv?job_name={job}",
        "download: detection CSV": f"/detection.csv?job_name={job}",
        "download: timings CSV (every attempt)": f"/timings.csv?job_name={job}",
        "download: pass/fail CSV (every attempt)": f"/pass_fail.csv?job_name={job}",
    }


def fetch(port: int, path: str) -> tuple[float, float, int, int]:
    """(time to first byte, time to the last byte, status, bytes) of one GET."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("GET", path)
    response = conn.getresponse()
    first = time.perf_counter() - start
    body = response.read()
    total = time.perf_counter() - start
    conn.close()
    return first, total, response.status, len(body)


def measure(settings: Settings, runs: int) -> list[tuple]:
    """Serve with waitress (as `eas web` does) in this process and time every page."""
    from waitress.server import create_server

    from plato_eas.web.app import create_app

    server = create_server(create_app(settings), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    out = []
    try:
        for name, path in pages(settings).items():
            timings = [fetch(server.effective_port, path) for _ in range(runs)]
            best = min(timings, key=lambda t: t[1])
            out.append((name, *best))
    finally:
        server.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="build the databases in this folder and keep them")
    parser.add_argument("--runs", type=int, default=3, help="requests per page (best kept)")
    parser.add_argument("--sizes", default=",".join(SHAPES), help="10k, 130k or both")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-dash-"))
    try:
        for size in args.sizes.split(","):
            path = folder / f"dashboard_{size}.sqlite"
            start = time.perf_counter()
            if path.exists():
                settings = Settings(db_path=str(path), data_dir=str(folder / "data"))
                with Database(settings) as db:
                    count = db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_task"))
                built = "reused"
            else:
                settings, count = build(path, SHAPES[size])
                built = f"built in {time.perf_counter() - start:.1f} s"
            print(f"\n{count:,} tasks ({built}); best of {args.runs} requests, seconds:")
            print(f"  {'page':42} {'first byte':>10} {'full':>8} {'status':>6} {'bytes':>9}")
            for name, first, total, status, size_bytes in measure(settings, args.runs):
                print(f"  {name:42} {first:10.3f} {total:8.3f} {status:6} {size_bytes:9,}")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
