"""Transit Least Squares (Hippke & Heller 2019, the ``transitleastsquares`` package).

TLS's numba kernels are compiled on first use and cached on disk (``cache=True``); the worker
image warms that cache when it is built (:func:`warm_up`), so no search pays the ~15 s compile.
TLS reports its depth as the flux level at the transit's bottom; the result here states it as
the relative drop (1 - that level), like the other searches.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..lightcurve import LightCurve
from .result import SearchGrid, SearchResult


def search(lc: LightCurve, grid: SearchGrid, threads: int = 1) -> SearchResult:
    from transitleastsquares import transitleastsquares

    good = (lc.flags == 0) & np.isfinite(lc.fluxes)
    times = lc.times[good]
    mean = np.mean(lc.fluxes[good])
    fluxes = lc.fluxes[good] / mean
    errors = lc.uncertainties[good] / mean
    model = transitleastsquares(times, fluxes, errors if np.all(errors > 0) else None,
                                verbose=False)
    found = model.power(period_min=grid.period_min,
                        period_max=grid.resolved_period_max(lc.span),
                        use_threads=int(threads), show_progress_bar=False)
    transit_count = int(getattr(found, "distinct_transit_count", 0) or 0)
    depth = float(found.depth)
    return SearchResult(
        period=float(found.period), power=float(found.SDE), depth=1.0 - depth,
        duration=float(found.duration), t0=float(found.T0),
        extra={"sde": float(found.SDE), "snr": float(found.snr),
               "transit_count": transit_count},
        periods=np.asarray(found.periods, dtype=float),
        powers=np.asarray(found.power, dtype=float))


def warm_up() -> None:
    """Compile (or load from numba's cache) the TLS kernels with a tiny search."""
    rng = np.random.default_rng(1)
    times = np.arange(0, 10, 0.02)
    fluxes = 1 + 1e-4 * rng.standard_normal(times.size)
    fluxes[(times % 2.0) < 0.08] -= 0.01
    with warnings.catch_warnings():  # TLS warns about its grid on so short a light curve
        warnings.simplefilter("ignore")
        search(LightCurve(times, fluxes), SearchGrid(period_min=1.0, period_max=4.0))
