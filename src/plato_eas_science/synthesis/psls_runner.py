"""Run PSLS 2.0 (the PLATO Solar-like Light-curve Simulator, PyPI ``psls``) for one light curve.

PSLS 2.0 runs here with nothing fetched at run time: the star is described by the "universal
pattern" model (``ModelType: UP``), which needs no stellar-model files, and instrumental
systematics stay off (their tables are not in the PyPI package; the prototype downloaded them,
so ``enable_systematics``/``mask_updates`` are refused). PSLS is run as a child process, as
its own command-line program: it installs top-level modules with common names (``transit``,
``sls``) and exits the interpreter on bad input, so it is kept out of the task's process.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from ..constants import SECONDS_PER_DAY, SUN_RADIUS_RJ

STAR_ID = 12069449
# The two stars of the prototype's PSLS templates, as universal-pattern parameters. The main-
# sequence star's numax comes from the scaling relation for its log g and Teff.
STARS = {
    "main_sequence": {"Mag": 10.0, "Teff": 5750.0, "Logg": 4.353, "ES": "ms",
                      "numax": 2557.0, "delta_nu": -1.0, "DPI": -1.0, "q": 0.0},
    "red_giant": {"Mag": 12.5, "Teff": 5400.0, "Logg": 3.934, "ES": "rg",
                  "numax": 181.77120898, "delta_nu": 13.70885191, "DPI": 80.30739925,
                  "q": 0.15611347},
}


class PslsError(RuntimeError):
    """PSLS refused its configuration or failed."""


@dataclass
class PslsOutput:
    times: np.ndarray  # days from the first sample
    fluxes: np.ndarray  # relative flux
    flags: np.ndarray
    star_radius: float  # Jupiter radii (the star PSLS simulated)


def config(mode: str, duration: float, cadence: float, seed: int, nsr: float,
           random_noise: bool, groups: int, cameras: int) -> dict:
    star = STARS[mode]
    return {
        "Observation": {"QuarterDuration": [float(duration)], "MasterSeed": int(seed),
                        "Gaps": {"Enable": 0, "Seed": 0}},
        "Instrument": {
            "Sampling": float(cadence), "IntegrationTime": float(cadence) * 21.0 / 25.0,
            "GroupID": list(range(1, groups + 1)), "NCamera": int(cameras), "TimeShift": 6.25,
            "RandomNoise": {"Enable": int(random_noise), "Type": "User", "NSR": float(nsr)},
            "Systematics": {"Enable": 0, "Version": 2, "Seed": 0, "DriftLevel": "low",
                            "Table": ""},
        },
        "Star": {"Mag": star["Mag"], "ID": STAR_ID, "ModelDir": ".", "ModelType": "UP",
                 "ModelName": "UP", "ES": star["ES"], "Teff": star["Teff"],
                 "Logg": star["Logg"], "SurfaceRotationPeriod": 0.0, "CoreRotationFreq": 0.0,
                 "Inclination": 0.0},
        "Oscillations": {"Enable": 1, "Seed": 0, "numax": star["numax"],
                         "delta_nu": star["delta_nu"], "DPI": star["DPI"], "q": star["q"],
                         "SurfaceEffects": 0},
        "Activity": {"Enable": 1, "Sigma": 40.0, "Tau": 0.2, "Seed": 0,
                     "Spot": {"Enable": 0, "Seed": 0}, "Flare": {"Enable": 0, "Seed": 0}},
        "Granulation": {"Enable": 1, "Type": 1, "Seed": 0},
        "Transit": {"Enable": 0},
        "External": {"Enable": 0},
    }


def _star_radius(summary: Path) -> float:
    """The simulated star's radius (solar radii in PSLS's summary) in Jupiter radii."""
    for line in summary.read_text().splitlines():
        for part in line.split(","):
            key, _, value = part.partition("=")
            if key.strip() == "radius":
                return float(value) * SUN_RADIUS_RJ
    return SUN_RADIUS_RJ


def run_psls(cfg: dict, timeout: float | None = None) -> PslsOutput:
    with tempfile.TemporaryDirectory(prefix="eas_psls_") as tmp:
        work = Path(tmp)
        (work / "out").mkdir()
        (work / "psls.yaml").write_text(yaml.safe_dump(cfg))
        done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-c", "import psls; psls.main()", "-o", "out", "psls.yaml"],
            cwd=work, capture_output=True, text=True, timeout=timeout,
            env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin", "HOME": tmp}, check=False)
        data_file = work / "out" / f"{STAR_ID:010d}.dat"
        if done.returncode != 0 or not data_file.is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise PslsError(f"PSLS failed (exit {done.returncode}): {tail[0]}")
        table = np.loadtxt(data_file, ndmin=2)
        radius = _star_radius(work / "out" / f"{STAR_ID:010d}.txt")
    times = (table[:, 0] - table[0, 0]) / SECONDS_PER_DAY
    return PslsOutput(times, 1.0 + 1e-6 * table[:, 1], table[:, 2].astype(np.int32), radius)
