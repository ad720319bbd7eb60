"""BLS as implemented by astropy (``astropy.timeseries.BoxLeastSquares``): the reference
implementation the other searches are checked against."""

from __future__ import annotations

import numpy as np

from ..lightcurve import LightCurve
from .result import SearchGrid, SearchResult


def search(lc: LightCurve, grid: SearchGrid) -> SearchResult:
    from astropy.timeseries import BoxLeastSquares

    good = lc.flags == 0
    times, fluxes = lc.times[good], lc.fluxes[good] / np.mean(lc.fluxes[good])
    errors = lc.uncertainties[good]
    model = BoxLeastSquares(times, fluxes, dy=errors if np.all(errors > 0) else None)
    periods = 1.0 / grid.frequencies(lc.span)[::-1]
    found = model.power(periods, grid.durations(), objective="likelihood")
    best = int(np.argmax(found.power))
    return SearchResult(
        period=float(found.period[best]), power=float(found.power[best]),
        depth=float(found.depth[best]), duration=float(found.duration[best]),
        t0=float(found.transit_time[best]),
        extra={"snr": float(found.depth_snr[best])},
        periods=np.asarray(found.period), powers=np.asarray(found.power))
