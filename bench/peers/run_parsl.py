"""One Parsl run (HighThroughputExecutor, 2 workers on this node, optional SQLite monitoring)
of a workload; prints {"seconds": ...} as JSON. Timed from the first submit to the last result."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider
from workloads import graph


@parsl.python_app
def noop(*_deps):
    return None


def config(run_dir: Path, monitoring: bool) -> Config:
    hub = None
    if monitoring:
        from parsl.monitoring.monitoring import MonitoringHub
        hub = MonitoringHub(hub_address="127.0.0.1",
                            logging_endpoint=f"sqlite:///{run_dir / 'monitoring.db'}",
                            resource_monitoring_enabled=False)
    htex = HighThroughputExecutor(label="htex", max_workers_per_node=2, address="127.0.0.1",
                                  provider=LocalProvider(init_blocks=1, max_blocks=1))
    return Config(executors=[htex], monitoring=hub, run_dir=str(run_dir / "runinfo"),
                  strategy="none")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("workload")
    p.add_argument("size", type=int)
    p.add_argument("--monitoring", action="store_true")
    a = p.parse_args()
    g = graph(a.workload, a.size)
    with tempfile.TemporaryDirectory() as tmp:
        dfk = parsl.load(config(Path(tmp), a.monitoring))
        try:
            noop().result()  # workers up
            start = time.perf_counter()
            futures = {}
            for name, deps in g:
                futures[name] = noop(*(futures[d] for d in deps))
            for f in futures.values():
                f.result()
            elapsed = time.perf_counter() - start
        finally:
            dfk.cleanup()
    print(json.dumps({"seconds": elapsed}))


if __name__ == "__main__":
    main()
