"""One Celery run (prefork worker, concurrency 2, RabbitMQ broker; with ``--results`` the
SQLAlchemy result backend on SQLite) of a workload; prints {"seconds": ...} as JSON. Timed
from the first submit to the last completion. Flat workloads only without results; flat and
fan-out/fan-in (a chord) with them."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _start_worker(env: dict, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "--concurrency", "2",
           "--pool", "prefork", "-Q", "peers", "--without-heartbeat", "--without-gossip",
           "--without-mingle", "--loglevel", "WARNING"]
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, cwd=HERE, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_count(path: Path, n: int, worker: subprocess.Popen) -> None:
    while not path.exists() or path.stat().st_size < n:
        if worker.poll() is not None:
            raise SystemExit("celery worker exited; see its log")
        time.sleep(0.005)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("workload")
    p.add_argument("size", type=int)
    p.add_argument("--results", action="store_true")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        count = Path(tmp) / "count"
        env = dict(os.environ, PEER_COUNT=str(count))
        if a.results:
            env["PEER_BACKEND"] = f"db+sqlite:///{tmp}/results.sqlite"
        os.environ.update(env)
        sys.path.insert(0, str(HERE))
        from celery import chord, group  # noqa: PLC0415
        from celery_app import app, noop  # noqa: PLC0415
        app.control.purge()
        worker = _start_worker(env, Path(tmp) / "worker.log")
        try:
            noop.apply_async()
            _wait_count(count, 1, worker)  # worker up
            start = time.perf_counter()
            if a.workload == "flat" and not a.results:
                for _ in range(a.size):
                    noop.apply_async()
                _wait_count(count, 1 + a.size, worker)
            elif a.workload == "flat":
                group(noop.si() for _ in range(a.size)).apply_async().join(interval=0.05)
            elif a.workload == "fan" and a.results:
                first = noop.si()
                (first | chord([noop.si() for _ in range(a.size)], noop.si())
                 ).apply_async().get(interval=0.05)
            else:
                raise SystemExit(f"celery: workload {a.workload} not run")
            elapsed = time.perf_counter() - start
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    print(json.dumps({"seconds": elapsed}))


if __name__ == "__main__":
    main()
