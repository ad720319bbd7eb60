"""``verify``: check a light curve before it is searched.

Input ``lightcurve``. Fails the task when any time, flux or uncertainty is NaN or infinite
(a search would silently skip or mis-handle them). Output metadata: verification_time_min,
verification_time_max [d], verification_flux_min, verification_flux_max [relative flux], and
verification = whether the samples lie on a fixed time step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..taskkit import TaskInputError, read_input
from . import science_task


@science_task()
def verify(run) -> dict[str, Any]:
    lc = read_input(run, "lightcurve")
    if not len(lc):
        raise TaskInputError("verify: the light curve has no samples")
    bad = lc.non_finite()
    if bad:
        detail = ", ".join(f"{count} in {column}" for column, count in bad.items())
        raise TaskInputError(f"verify: the light curve has non-finite values ({detail})")
    errors = lc.fixed_step_errors()
    step = lc.sampling_interval()
    run.log.info("verify: %d samples, %.4f-%.4f d, step %.3f s, %d off the fixed step",
                 len(lc), lc.times[0], lc.times[-1], step * 86400, errors)
    return {
        "verification_time_min": float(np.min(lc.times)),
        "verification_time_max": float(np.max(lc.times)),
        "verification_flux_min": float(np.min(lc.fluxes)),
        "verification_flux_max": float(np.max(lc.fluxes)),
        "verification": errors == 0,
    }
