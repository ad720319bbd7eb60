"""Science task types: wall time of each type on a 30-day and a 730-day light curve at 25 s
cadence, end-to-end throughput of a 100-task synthesis + search grid with 2 local workers, and
the control plane's share of each attempt's time. Prints figures; asserts nothing.

    python bench/bench_science.py            # 30-day light curves + the grid
    python bench/bench_science.py --long     # also 730 days (5 minutes at load 15 on 2 cores)
    python bench/bench_science.py --long --no-grid --only transit_search_qats   # one type

On 730 days (2.5 M samples) a search's trial grid is what costs: the frequency spacing a
transit needs shrinks as 1/span**2, so trial periods grow as span**2 and astropy's BLS and TLS
(which touch every sample per trial period) grow as span**3 - the timing chains' full grid
(periods 90 d to half the span) is hours of CPU. There the searches run on a bounded window of
trial periods around the injected 5-day planet (about 700 trials, TLS its own grid on it), and
the figure printed with the trial count; the full-grid count is printed beside it, for scale.
PSLS runs at its real size; peak memory is printed for every type.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.settings import Settings
from plato_eas.tasks.single import run_task

# 730 days: trial periods around the injected planet, and how many trial frequencies (astropy
# BLS, Kovacs) the window holds at frequency_factor 2 (the default, the prototype's)
WINDOW = {"period_min": 4.9, "period_max": 5.1}
LONG_TRIALS = 700

PLANET = {"planet_radius": 0.3, "orbital_period": 5.0, "semi_major_axis": 0.06,
          "noise": 0.000315, "seed": 1, "sampling_cadence": 25}


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_gib() -> float:
    """The largest resident size so far of this process or any child it waited for (PSLS)."""
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 2**20


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg()) + \
        f" on {os.cpu_count()} cores"


def timed(task_type: str, spec: dict, workdir: Path, **files) -> None:
    """Run one task and print its wall and CPU seconds (CPU time, summed over its threads and
    processes, is the fairer figure on a machine shared with other work), the peak resident
    memory so far and the load average when it ended."""
    start, cpu = time.perf_counter(), _cpu()
    run_task(task_type, spec, inputs=[f"{k}={v}" for k, v in files.get("inputs", {}).items()],
             outputs=[f"{k}={v}" for k, v in files.get("outputs", {}).items()],
             workdir=str(workdir))
    print(f"  {task_type:30s} {time.perf_counter() - start:9.2f} s wall {_cpu() - cpu:9.2f} s CPU"
          f"  peak {_peak_gib():5.2f} GiB  ({load()})", flush=True)


def trial_counts(days: float, settings: dict) -> str:
    """Trial periods of a search grid: frequencies (astropy BLS, Kovacs) and TLS's own grid."""
    from transitleastsquares import period_grid

    from plato_eas_science.search.result import grid_from

    grid = grid_from(settings, days)
    tls = period_grid(R_star=1, M_star=1, time_span=days, period_min=grid.period_min,
                      period_max=grid.resolved_period_max(days), oversampling_factor=3)
    return f"{grid.frequencies(days).size} trial frequencies (BLS), {len(tls)} trial periods (TLS)"


def long_search_settings(days: float) -> dict:
    """The bounded window, with the frequency factor that gives it LONG_TRIALS frequencies."""
    from plato_eas_science.search.result import SearchGrid

    default = SearchGrid(**WINDOW).frequencies(days).size
    return {**WINDOW, "frequency_factor": 2.0 * default / LONG_TRIALS}


def per_type(days: float, workdir: Path, only: list[str] | None = None) -> None:
    search = {"lc_duration": days}
    print(f"\n{days:g}-day light curve, 25 s cadence ({int(days * 86400 / 25)} samples); "
          f"{load()}", flush=True)
    if days > 100:
        search["search_settings"] = long_search_settings(days)
        print(f"  searches: periods {WINDOW['period_min']}-{WINDOW['period_max']} d, "
              f"{trial_counts(days, search['search_settings'])}; the timing chains' grid "
              f"(period_min 90 d) has {trial_counts(days, {'period_min': 90})}, the default "
              f"(0.5 d to half the span) {trial_counts(days, {})}", flush=True)
    else:
        print(f"  searches: default grid, {trial_counts(days, {})}", flush=True)
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
          f"({'finished' if result['finished'] else 'NOT finished'}; {load()})")
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
        if not args.no_grid:
            grid(Path(tmp) / "grid")
        if args.long:
            per_type(730, Path(tmp) / "d730", args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
