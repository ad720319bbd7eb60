"""A planet's transit light curve with batman, and the multiple event statistic (MES) that says
how strong the injected signal is against a given noise.

Geometry follows the prototype's specs: radii in Jupiter radii, semi-major axis in AU, the
orbit's inclination given either as ``orbital_angle`` (degrees from edge-on) or as
``impact_parameter`` (0-1, in stellar radii, which wins when given); quadratic limb darkening
u = (0.1, 0.3); noise levels are per 25 s sample and scale as 1/sqrt(cadence).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..constants import AU_RJ

LIMB_DARKENING = (0.1, 0.3)
NOISE_CADENCE_S = 25.0
MES_CAP = 1e8  # an infinite MES (no noise) is stored as this: the database holds no inf


@dataclass(frozen=True)
class Planet:
    planet_radius: float  # Jupiter radii
    orbital_period: float  # days
    semi_major_axis: float  # AU
    star_radius: float  # Jupiter radii
    t0: float = 1.0  # days: mid-time of the first transit
    eccentricity: float = 0.0
    orbital_angle: float = 0.0  # degrees from edge-on
    impact_parameter: float | None = None

    def inclination(self) -> float:
        """Degrees (90 = edge-on)."""
        if self.impact_parameter is None:
            return 90.0 - self.orbital_angle
        ratio = self.impact_parameter * self.star_radius / (self.semi_major_axis * AU_RJ)
        if not -1 <= ratio <= 1:
            raise ValueError(f"impact_parameter {self.impact_parameter} is impossible for an "
                             f"orbit of {self.semi_major_axis} AU")
        return 90.0 - math.degrees(math.asin(ratio))


def transit_fluxes(planet: Planet, times: np.ndarray) -> np.ndarray:
    """Relative flux of the star as the planet transits it (1 outside transits)."""
    import batman  # imported here: its C extension is only needed by synthesis

    params = batman.TransitParams()
    params.t0 = planet.t0
    params.per = planet.orbital_period
    params.rp = planet.planet_radius / planet.star_radius
    params.a = planet.semi_major_axis * AU_RJ / planet.star_radius
    params.inc = planet.inclination()
    params.ecc = planet.eccentricity
    params.w = 90.0
    params.u = list(LIMB_DARKENING)
    params.limb_dark = "quadratic"
    if planet.planet_radius <= 0:
        return np.ones_like(times)
    model = batman.TransitModel(params, np.ascontiguousarray(times, dtype=float))
    return np.asarray(model.light_curve(params), dtype=float)


def noise_per_sample(noise_25s: float, cadence_s: float) -> float:
    return noise_25s * math.sqrt(NOISE_CADENCE_S / cadence_s)


def signal_statistics(model: np.ndarray, noise_sample: float) -> dict[str, float | int]:
    """The injected signal's strength: integrated transit power (sum of 1 - flux), samples in
    and out of transit, and MES = power / (noise * sqrt(samples in transit))."""
    power = float(np.sum(1.0 - model))
    in_transit = int(np.count_nonzero(model < 1))
    if in_transit < 1:
        mes = 0.0
    elif noise_sample <= 0:
        mes = MES_CAP
    else:
        mes = min(MES_CAP, power / noise_sample / math.sqrt(in_transit))
    return {"integrated_transit_power": power, "pixels_in_transit": in_transit,
            "pixels_out_of_transit": int(model.size - in_transit), "mes": mes}
