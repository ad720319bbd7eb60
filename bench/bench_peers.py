"""plato.eas side by side with Celery, Parsl and Dask on the same workloads (run by
``make bench-peers``, never by the tests). Prints figures; asserts nothing.

    .venv/bin/python bench/bench_peers.py [--quick] [--rounds 3] [--systems plato,dask,...]
                                          [--workloads flat1k,fan,...]

Each peer is installed into its own virtual environment under ``--cache``
(``$EAS_PEERS_CACHE``, default ``~/.cache/plato-eas-peers``) from the pinned requirements in
``bench/peers/requirements-<peer>.txt``. Celery's broker is a throw-away RabbitMQ on loopback
with its own ports and data directory (``tests/backends/backend_servers.py``, as the backend
tests start it). Every run is a fresh process; the systems alternate within each round, and
each cell is the median over the rounds. Ratio = peer time / plato.eas time (below 1: the peer
is faster). What each system records per task: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "bench" / "peers"
sys.path.insert(0, str(ROOT / "tests" / "backends"))

import backend_servers as servers  # noqa: E402

WORKLOADS = {  # name: (workload, size, label)
    "flat1k": ("flat", 1_000, "1k no-op tasks, flat"),
    "flat10k": ("flat", 10_000, "10k no-op tasks, flat"),
    "flat100k": ("flat", 100_000, "100k no-op tasks, flat"),
    "fan": ("fan", 1_000, "fan-out/fan-in 1 -> 1,000 -> 1"),
    "grid": ("grid", 0, "grid, 6,000 tasks in 1,200 loop bodies"),
}
QUICK = ("flat1k",)
DEFAULT = ("flat1k", "flat10k", "fan", "grid")
SYSTEMS = {  # name: (environment, runner, extra arguments, label, workloads it runs)
    "plato": (None, "run_plato.py", [], "plato.eas", None),
    "parsl": ("parsl", "run_parsl.py", [], "Parsl HTEX", None),
    "parsl-mon": ("parsl", "run_parsl.py", ["--monitoring"], "Parsl HTEX + monitoring", None),
    "dask": ("dask", "run_dask.py", [], "Dask LocalCluster", None),
    "celery": ("celery", "run_celery.py", [], "Celery, no results", {"flat"}),
    "celery-db": ("celery", "run_celery.py", ["--results"], "Celery + DB results",
                  {"flat", "fan"}),
}


def venv_python(cache: Path, env: str | None) -> Path:
    """The environment's interpreter, created and installed from its requirements once."""
    if env is None:
        return Path(sys.executable)
    folder = cache / env
    python = folder / "bin" / "python"
    reqs = PEERS / f"requirements-{env}.txt"
    stamp = folder / ".installed"
    if not stamp.exists() or stamp.read_text() != reqs.read_text():
        print(f"installing {env} into {folder} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(reqs)], check=True)
        stamp.write_text(reqs.read_text())
    return python


def run_one(python: Path, runner: str, extra: list[str], workload: str, size: int,
            env: dict, log: Path) -> float | None:
    """Seconds of one run in a fresh process, or None (its output is in ``log``). It runs in
    the benchmark's own temporary folder: a checkout updated meanwhile (a rebase removes and
    recreates bench/peers) left a Parsl run without a working directory (``os.getcwd()``
    failed in HighThroughputExecutor's ``abspath(run_dir)``)."""
    cmd = [str(python), str(PEERS / runner), workload, str(size), *extra]
    child_env = dict(env, PATH=f"{python.parent}:{env.get('PATH', '')}",
                     PYTHONPATH=str(PEERS) if python != Path(sys.executable)
                     else os.pathsep.join([str(PEERS), str(ROOT / "src")]))
    with open(log, "ab") as out:
        done = subprocess.run(cmd, env=child_env, stdout=subprocess.PIPE, stderr=out,
                              cwd=log.parent, timeout=7200)
    try:
        return float(json.loads(done.stdout.decode().strip().splitlines()[-1])["seconds"])
    except (IndexError, ValueError, KeyError):
        return None


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def table(results: dict, systems: list[str], workloads: list[str]) -> str:
    head = ["workload", *(SYSTEMS[s][3] for s in systems)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w in workloads:
        base = results.get(("plato", w))
        base_med = median(base) if base else None
        cells = [WORKLOADS[w][2]]
        for s in systems:
            times = results.get((s, w))
            if not times:
                cells.append("–")
            elif s == "plato" or not base_med:
                cells.append(f"{median(times):.2f} s")
            else:
                cells.append(f"{median(times):.2f} s ({median(times) / base_med:.2f}×)")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the 1k flat workload only")
    p.add_argument("--full", action="store_true", help="add the 100k flat workload")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--systems", default=",".join(SYSTEMS),
                   help=f"comma-separated subset of {', '.join(SYSTEMS)}")
    p.add_argument("--workloads", help=f"comma-separated subset of {', '.join(WORKLOADS)}")
    p.add_argument("--cache", default=os.environ.get("EAS_PEERS_CACHE")
                   or str(Path.home() / ".cache" / "plato-eas-peers"))
    a = p.parse_args(argv)
    systems = [s.strip() for s in a.systems.split(",") if s.strip()]
    workloads = (a.workloads.split(",") if a.workloads else
                 QUICK if a.quick else (*DEFAULT, "flat100k") if a.full else DEFAULT)
    bad = [s for s in systems if s not in SYSTEMS] + [w for w in workloads if w not in WORKLOADS]
    if bad:
        print(f"unknown system or workload: {', '.join(bad)}", file=sys.stderr)
        return 2
    cache = Path(a.cache)
    cache.mkdir(parents=True, exist_ok=True)
    pythons = {s: venv_python(cache, SYSTEMS[s][0]) for s in systems}
    results: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="eas-peers-") as tmp:
        log = Path(tmp) / "runs.log"
        env = dict(os.environ)
        rabbit = None
        if any(s.startswith("celery") for s in systems):
            servers.ensure_packages()
            rabbit = servers.RabbitMQ(Path(tmp) / "rabbitmq").start()
            env["PEER_BROKER"] = (f"amqp://{rabbit.user}:{rabbit.password}@127.0.0.1:"
                                  f"{rabbit.port}/{rabbit.vhost}")
        try:
            print(f"load average before: {load_average()}", flush=True)
            for r in range(a.rounds):
                for w in workloads:
                    kind, size, _ = WORKLOADS[w]
                    order = systems[r % len(systems):] + systems[:r % len(systems)]
                    for s in order:
                        _, runner, extra, label, only = SYSTEMS[s]
                        if only is not None and kind not in only:
                            continue
                        seconds = run_one(pythons[s], runner, extra, kind, size, env, log)
                        shown = "failed (see log below)" if seconds is None else f"{seconds:.2f} s"
                        print(f"round {r + 1} {w:<9} {label:<24} {shown}", flush=True)
                        if seconds is not None:
                            results.setdefault((s, w), []).append(seconds)
            print(f"load average after: {load_average()}  ({os.cpu_count()} cores)")
            print(table(results, systems, workloads))
            if any(v is None for v in results.values()) or log.stat().st_size and not results:
                print(log.read_text()[-3000:])
        finally:
            if rabbit is not None:
                rabbit.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
