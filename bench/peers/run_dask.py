"""One Dask (distributed, LocalCluster of 2 single-threaded worker processes) run of a workload;
prints {"seconds": ...} as JSON. Timed from the first submit to the last result."""

from __future__ import annotations

import argparse
import json
import time

from distributed import Client, LocalCluster, wait
from workloads import graph


def noop(*_deps):
    return None


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("workload")
    p.add_argument("size", type=int)
    a = p.parse_args()
    g = graph(a.workload, a.size)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.submit(noop, pure=False).result()  # workers up
        start = time.perf_counter()
        futures = {}
        for name, deps in g:
            futures[name] = client.submit(noop, *(futures[d] for d in deps), key=name)
        wait(list(futures.values()))
        elapsed = time.perf_counter() - start
    print(json.dumps({"seconds": elapsed}))


if __name__ == "__main__":
    main()
