"""``synthesis_psls``: a PLATO light curve of a solar-like star (PSLS 2.0: oscillations,
granulation, activity, random noise of the chosen number of cameras), with a transiting planet.

Output ``lightcurve``. ``specs`` as for ``synthesis_batman`` (duration [d], sampling_cadence [s],
a multiple of 25; planet_radius [R_jup], orbital_period [d], semi_major_axis [AU],
orbital_angle [deg] or impact_parameter, t0 [d], eccentricity, star_radius [R_jup]) plus: mode
(``main_sequence`` or ``red_giant``), enable_transits, nsr [ppm h^1/2 per camera, 73 = PLATO's
nominal], enable_random_noise, number_camera_groups (1-4), number_cameras_per_group (1-6),
seed. The transit is batman's on PSLS's time samples, multiplied in: PSLS 2.0's own transit
model is always edge-on and starts at a fixed phase, so it cannot honour orbital_angle,
impact_parameter or t0. The MES assumes the PLATO noise scaled by nsr / 73.
``enable_systematics`` and ``mask_updates`` are refused: PSLS's systematics tables are not
part of its PyPI package and nothing is fetched at run time.
"""

from __future__ import annotations

import time
from typing import Any

from ..constants import PLATO_NOISE_25S, SUN_RADIUS_RJ
from ..lightcurve import LightCurve
from ..synthesis.psls_runner import STARS, PslsError, config, run_psls
from ..synthesis.transit_model import noise_per_sample, signal_statistics, transit_fluxes
from ..taskkit import TaskInputError, output_path, specs, write_output
from . import QcResult, science_task
from .quality import lightcurve_problems
from .synthesis_batman import RECORDED, expected_length, planet_from

NOMINAL_NSR = 73.0
SPECS: dict[str, tuple[type, Any]] = {
    "mode": (str, "main_sequence"),
    "enable_transits": (bool, True),
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
    "nsr": (float, NOMINAL_NSR),
    "mask_updates": (bool, False),
    "enable_systematics": (bool, False),
    "enable_random_noise": (bool, True),
    "number_camera_groups": (int, 4),
    "number_cameras_per_group": (int, 6),
    "seed": (int, None),
}


def _check(spec: dict[str, Any]) -> None:
    if spec["mode"] not in STARS:
        raise TaskInputError(f"synthesis_psls: mode must be one of {', '.join(STARS)}, "
                             f"not {spec['mode']!r}")
    if spec["enable_systematics"] or spec["mask_updates"]:
        raise TaskInputError("synthesis_psls: enable_systematics/mask_updates need PSLS's "
                             "systematics tables, which its PyPI package does not include")
    cadence = spec["sampling_cadence"]
    if cadence <= 0 or cadence % 25:
        raise TaskInputError(f"synthesis_psls: sampling_cadence must be a positive multiple of "
                             f"25 s, not {cadence}")
    if spec["duration"] <= 0:
        raise TaskInputError("synthesis_psls: duration must be positive")
    if not 1 <= spec["number_camera_groups"] <= 4 or not 1 <= spec[
            "number_cameras_per_group"] <= 6:
        raise TaskInputError("synthesis_psls: 1-4 camera groups of 1-6 cameras")


def synthesise(spec: dict[str, Any]) -> LightCurve:
    _check(spec)
    seed = spec["seed"] if spec["seed"] is not None else int(time.time() * 1000) % 2**30
    star = run_psls(config(spec["mode"], spec["duration"], spec["sampling_cadence"], seed,
                           spec["nsr"], spec["enable_random_noise"],
                           spec["number_camera_groups"], spec["number_cameras_per_group"]))
    metadata = {k: v for k, v in spec.items() if v is not None}
    metadata.update(seed=seed, psls_star_radius=star.star_radius)
    fluxes = star.fluxes
    assumed = noise_per_sample(PLATO_NOISE_25S * spec["nsr"] / NOMINAL_NSR,
                               spec["sampling_cadence"])
    if spec["enable_transits"]:
        model = transit_fluxes(planet_from(spec), star.times)
        fluxes = fluxes * model
        metadata.update(signal_statistics(model, assumed))
    else:
        metadata.update(integrated_transit_power=0.0, pixels_in_transit=0,
                        pixels_out_of_transit=len(star.times), mes=0.0)
    return LightCurve(star.times, fluxes, None, star.flags, metadata)


def qc(run, metadata: dict[str, Any]) -> QcResult:
    spec = specs(run, SPECS)
    problems = lightcurve_problems(
        output_path(run, "lightcurve"),
        expected_length(spec["duration"], spec["sampling_cadence"]), RECORDED)
    for problem in problems:
        run.log.error("lightcurve QC: %s", problem)
    return {"lightcurve": not problems}, {}


@science_task(qc)
def synthesis_psls(run) -> dict[str, Any]:
    output_path(run, "lightcurve")  # a run with nowhere to write is refused before any work
    spec = specs(run, SPECS)
    try:
        lc = synthesise(spec)
    except PslsError as exc:
        raise TaskInputError(f"synthesis_psls: {exc}") from None
    write_output(run, "lightcurve", lc)
    run.log.info("PSLS: %d samples (%s star), planet %.4f R_jup, MES %.2f", len(lc),
                 spec["mode"], spec["planet_radius"] if spec["enable_transits"] else 0.0,
                 lc.metadata["mes"])
    return dict(lc.metadata)
