"""Science task types: wall time of each type on a 30-day and a 730-day light curve at 25 s
cadence, end-to-end throughput of a 100-task synthesis + search grid with 2 local workers, and
the control plane's share of each attempt's time. Prints figures; asserts nothing.

    python bench/bench_science.py            # 30-day light curves + the grid
    python bench/bench_science.py --long     # also 730 days (an hour or more; PSLS ~5 GB)
    python bench/bench_science.py --long --no-grid --only transit_search_qats   # one type
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.settings import Settings
from plato_eas.tasks.single import run_task

PLANET = {"planet_radius": 0.3, "orbital_period": 5.0, "semi_major_axis": 0.06,
          "noise": 0.000315, "seed": 1, "sampling_cadence": 25}


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(task_type: str, spec: dict, workdir: Path, **files) -> None:
    """Run one task and print its wall and CPU seconds (CPU time, summed over its threads and
    processes, is the fairer figure on a machine shared with other work)."""
    start, cpu = time.perf_counter(), _cpu()
    run_task(task_type, spec, inputs=[f"{k}={v}" for k, v in files.get("inputs", {}).items()],
             outputs=[f"{k}={v}" for k, v in files.get("outputs", {}).items()],
             workdir=str(workdir))
    print(f"  {task_type:30s} {time.perf_counter() - start:9.2f} s wall {_cpu() - cpu:9.2f} s CPU",
          flush=True)


def per_type(days: float, workdir: Path, only: list[str] | None = None) -> None:
    search = {"lc_duration": days}
    if days > 100:  # the prototype's long-period timing chains searched from 90 days
        search["search_settings"] = {"period_min": 90}
    print(f"\n{days:g}-day light curve, 25 s cadence ({int(days * 86400 / 25)} samples)"
          + (" - searches from period_min 90 d" if days > 100 else ""), flush=True)
    lc, flat = workdir / "lc.fits", workdir / "flat.fits"
    steps = [
        ("synthesis_batman", {"specs": {**PLANET, "duration": days}},
         {"outputs": {"lightcurve": lc.name}}),
        ("synthesis_psls", {"specs": {"duration": days, "sampling_cadence": 25,
                                      "enable_transits": 0, "seed": 1}},
         {"outputs": {"lightcurve": flat.name}}),
        ("verify", {}, {"inputs": {"lightcurve": lc}}),
        ("multiply", {}, {"inputs": {"lightcurve_1": flat, "lightcurve_2": lc},
                          "outputs": {"lightcurve": "product.fits"}}),
        ("binning", {"cadence": 600}, {"inputs": {"lightcurve": lc},
                                       "outputs": {"lightcurve": "b.fits"}}),
        *[(f"transit_search_{tda}", search, {"inputs": {"lightcurve": lc}})
          for tda in ("bls_reference", "bls_kovacs", "tls", "qats")],
    ]
    # the searches read batman's light curve, multiply also PSLS's
    wanted = set(only or [s[0] for s in steps]) | {"synthesis_batman"}
    if "multiply" in wanted:
        wanted.add("synthesis_psls")
    for task_type, spec, files in steps:
        if task_type in wanted:
            timed(task_type, spec, workdir, **files)


def grid(workdir: Path, size: int = 50) -> None:
    settings = Settings(db_path=str(workdir / "eas.sqlite"), data_dir=str(workdir / "data"))
    actions.init_schema(settings)
    actions.init_queues(settings)
    name = "'g_{size_index}.fits'.format(**metadata)"
    specs = {"duration": 10, "sampling_cadence": 1800, "planet_radius": "(metadata['size'])",
             "orbital_period": 2, "semi_major_axis": 0.03, "noise": 0.000315}
    chain = {"job_name": "grid", "task_list": [{
        "task": "execution_for_loop", "parameter": "size",
        "linear_range": [0.0, 0.4, size], "task_list": [
            {"task": "synthesis_batman", "outputs": {"lightcurve": name}, "specs": specs},
            {"task": "transit_search_bls_reference", "inputs": {"lightcurve": name},
             "lc_duration": 10}]}]}
    actions.submit(settings, chain=chain)
    start = time.perf_counter()
    result = actions.local_run(settings, workers=2, job_name="grid", timeout=1800)
    elapsed = time.perf_counter() - start
    with Database(settings) as db:
        walls = db.read(lambda tx: tx.tuples(
            "SELECT tt.taskTypeName, a.runTimeWallClock FROM eas_scheduling_attempt a "
            "JOIN eas_task t ON t.taskId = a.taskId JOIN eas_task_types tt "
            "ON tt.taskTypeId = t.taskTypeId"))
    science = [w for name, w in walls if not name.startswith("execution_")]
    worker_time = elapsed * 2
    overhead = (worker_time - sum(w for _, w in walls)) / len(walls)
    print(f"\n{len(science)}-task synthesis + search grid, 2 workers "
          f"({'finished' if result['finished'] else 'NOT finished'})")
    print(f"  wall time                      {elapsed:8.2f} s")
    print(f"  science tasks per second       {len(science) / elapsed:8.2f}")
    print(f"  mean task time (own code)      {sum(science) / len(science):8.3f} s")
    print(f"  control-plane time per attempt {overhead:8.3f} s "
          f"({overhead / (worker_time / len(walls)):.1%} of each attempt's share of worker time)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--long", action="store_true", help="also the 730-day light curve")
    parser.add_argument("--only", nargs="*", help="task types to time (default: all)")
    parser.add_argument("--no-grid", action="store_true", help="skip the 100-task grid")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_science_") as tmp:
        per_type(30, Path(tmp) / "d30", args.only)
        if args.long:
            per_type(730, Path(tmp) / "d730", args.only)
        if not args.no_grid:
            grid(Path(tmp) / "grid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
