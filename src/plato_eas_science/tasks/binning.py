"""``binning``: resample a light curve onto a fixed time step.

Input ``lightcurve``, output ``lightcurve``; field ``cadence`` [s] (required). Each output
sample is the mean of the input samples in its bin (time = the bin's centre), so the flux summed
over samples is conserved; uncertainties combine as those of a mean; a bin's flag is the OR of
its samples'; bins with no samples are left out. Metadata are kept, with sampling_cadence set to
the new cadence.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..constants import SECONDS_PER_DAY
from ..lightcurve import LightCurve
from ..taskkit import TaskInputError, output_path, read_input, setting, write_output
from . import science_task


def rebin(lc: LightCurve, cadence_s: float) -> LightCurve:
    width = cadence_s / SECONDS_PER_DAY
    # (the tiny offset keeps a sample exactly on a bin edge out of float round-off)
    index = np.floor((lc.times - lc.times[0]) / width + 1e-9).astype(np.int64)
    count = int(index[-1]) + 1
    n = np.bincount(index, minlength=count)
    keep = n > 0
    fluxes = np.bincount(index, lc.fluxes, count)[keep] / n[keep]
    errors = np.sqrt(np.bincount(index, lc.uncertainties**2, count)[keep]) / n[keep]
    flags = np.zeros(count, np.int32)
    np.bitwise_or.at(flags, index, lc.flags)
    times = lc.times[0] + (np.nonzero(keep)[0] + 0.5) * width
    return LightCurve(times, fluxes, errors, flags[keep],
                      {**lc.metadata, "sampling_cadence": cadence_s})


@science_task()
def binning(run) -> dict[str, Any]:
    output_path(run, "lightcurve")  # refused before any work
    cadence = setting(run, "cadence")
    if cadence is None or cadence <= 0:
        raise TaskInputError("binning: 'cadence' (seconds, positive) is required")
    lc = read_input(run, "lightcurve")
    if not len(lc):
        raise TaskInputError("binning: the light curve has no samples")
    result = rebin(lc, cadence)
    write_output(run, "lightcurve", result)
    run.log.info("binning: %d samples -> %d at %.0f s", len(lc), len(result), cadence)
    return {"sampling_cadence": cadence, "samples": len(result)}
