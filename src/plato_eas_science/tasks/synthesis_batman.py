"""``synthesis_batman``: a light curve of a star with a transiting planet (batman), plus white
noise.

Output ``lightcurve``. ``specs`` (units): duration [d], sampling_cadence [s], planet_radius
[R_jup], orbital_period [d], semi_major_axis [AU], orbital_angle [deg from edge-on] or
impact_parameter [0-1], t0 [d, first mid-transit], eccentricity, star_radius [R_jup], noise
[relative flux per 25 s sample], mes_assume_noise [the noise to compute the MES with, when it
differs from the injected noise], seed [random-number seed; omitted = fresh noise each run].
The light curve's metadata (and the attempt's output metadata) record every spec plus the
injected signal's strength: integrated_transit_power, pixels_in_transit, pixels_out_of_transit
and mes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..constants import SECONDS_PER_DAY, SUN_RADIUS_RJ
from ..lightcurve import LightCurve
from ..synthesis.transit_model import Planet, noise_per_sample, signal_statistics, transit_fluxes
from ..taskkit import TaskInputError, output_path, specs, write_output
from . import QcResult, science_task
from .quality import lightcurve_problems

SPECS: dict[str, tuple[type, Any]] = {
    "duration": (float, 730.0),
    "sampling_cadence": (float, 25.0),
    "planet_radius": (float, 1.0),
    "orbital_period": (float, 365.0),
    "semi_major_axis": (float, 1.0),
    "orbital_angle": (float, 0.0),
    "impact_parameter": (float, None),
    "t0": (float, 1.0),
    "eccentricity": (float, 0.0),
    "star_radius": (float, SUN_RADIUS_RJ),
    "noise": (float, 0.0),
    "mes_assume_noise": (float, None),
    "seed": (int, None),
}
RECORDED = ("orbital_period", "planet_radius", "semi_major_axis", "star_radius", "t0",
            "duration", "sampling_cadence", "mes")


def raster(duration: float, cadence_s: float) -> np.ndarray:
    """Sample times [d] from 0 to ``duration`` (exclusive) every ``cadence_s`` seconds."""
    if duration <= 0 or cadence_s <= 0:
        raise TaskInputError("duration and sampling_cadence must be positive")
    return np.arange(expected_length(duration, cadence_s)) * (cadence_s / SECONDS_PER_DAY)


def expected_length(duration: float, cadence_s: float) -> int:
    return int(math.ceil(duration * SECONDS_PER_DAY / cadence_s - 1e-9))


def planet_from(spec: dict[str, Any]) -> Planet:
    for name in ("orbital_period", "semi_major_axis", "star_radius"):
        if spec[name] <= 0:
            raise TaskInputError(f"{name} must be positive, not {spec[name]}")
    if spec["planet_radius"] < 0:
        raise TaskInputError(f"planet_radius must not be negative, not {spec['planet_radius']}")
    try:
        planet = Planet(**{k: spec[k] for k in (
            "planet_radius", "orbital_period", "semi_major_axis", "star_radius", "t0",
            "eccentricity", "orbital_angle", "impact_parameter")})
        planet.inclination()
    except ValueError as exc:
        raise TaskInputError(str(exc)) from None
    return planet


def synthesise(spec: dict[str, Any]) -> LightCurve:
    times = raster(spec["duration"], spec["sampling_cadence"])
    model = transit_fluxes(planet_from(spec), times)
    noise = noise_per_sample(spec["noise"], spec["sampling_cadence"])
    assumed = noise if spec["mes_assume_noise"] is None else noise_per_sample(
        spec["mes_assume_noise"], spec["sampling_cadence"])
    rng = np.random.default_rng(spec["seed"])
    fluxes = model + (rng.normal(0.0, noise, times.size) if noise > 0 else 0.0)
    metadata = {k: v for k, v in spec.items() if v is not None}
    metadata.update(signal_statistics(model, assumed))
    return LightCurve(times, fluxes, np.full(times.size, noise), None, metadata)


def qc(run, metadata: dict[str, Any]) -> QcResult:
    """Finite values, the expected number of samples, the injected parameters recorded."""
    spec = specs(run, SPECS)
    problems = lightcurve_problems(
        output_path(run, "lightcurve"),
        expected_length(spec["duration"], spec["sampling_cadence"]), RECORDED)
    for problem in problems:
        run.log.error("lightcurve QC: %s", problem)
    return {"lightcurve": not problems}, {}


@science_task(qc)
def synthesis_batman(run) -> dict[str, Any]:
    output_path(run, "lightcurve")  # a run with nowhere to write is refused before any work
    spec = specs(run, SPECS)
    lc = synthesise(spec)
    write_output(run, "lightcurve", lc)
    run.log.info("batman: %d samples, planet %.4f R_jup on a %.3f d orbit, MES %.2f",
                 len(lc), spec["planet_radius"], spec["orbital_period"], lc.metadata["mes"])
    return dict(lc.metadata)
