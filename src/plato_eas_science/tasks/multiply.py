"""``multiply``: multiply two light curves (to inject a transit into a stellar light curve).

Inputs ``lightcurve_1`` and ``lightcurve_2``; output ``lightcurve`` on the first one's time
raster. When the rasters differ the second light curve is resampled onto the first's, conserving
flux (each sample gets the time-average over its cell); samples the second does not cover keep
the first's flux and are flagged. Relative uncertainties add in quadrature, flags combine
bitwise, and the metadata of both are kept (the second's win on a clash, so a transit injected
by the second is what a search is judged against).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..lightcurve import FLAG_NOT_COVERED, LightCurve, resample
from ..taskkit import output_path, read_input, write_output
from . import science_task


def product(first: LightCurve, second: LightCurve) -> LightCurve:
    fluxes2, errors2, covered = resample(second, first.times)
    fluxes2 = np.where(covered, fluxes2, 1.0)
    errors2 = np.where(covered, errors2, 0.0)
    flags2 = np.zeros(len(first), np.int32)
    if np.array_equal(first.times, second.times):
        flags2 = second.flags
    fluxes = first.fluxes * fluxes2
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.hypot(np.where(first.fluxes != 0, first.uncertainties / first.fluxes, 0),
                            np.where(fluxes2 != 0, errors2 / fluxes2, 0))
    flags = first.flags | flags2 | np.where(covered, 0, FLAG_NOT_COVERED).astype(np.int32)
    return LightCurve(first.times.copy(), fluxes, np.abs(fluxes) * relative, flags,
                      {**first.metadata, **second.metadata})


@science_task()
def multiply(run) -> dict[str, Any]:
    output_path(run, "lightcurve")  # refused before any work
    first = read_input(run, "lightcurve_1")
    second = read_input(run, "lightcurve_2")
    result = product(first, second)
    write_output(run, "lightcurve", result)
    run.log.info("multiply: %d samples (%d not covered by lightcurve_2)", len(result),
                 int(np.count_nonzero(result.flags & FLAG_NOT_COVERED)))
    return dict(result.metadata)
