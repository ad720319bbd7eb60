"""The light-curve type: times, fluxes, uncertainties, flags and metadata, with units.

Times are in days from the start of the observation, fluxes are relative (1 = the star's mean
out-of-transit flux), uncertainties are in the same relative units, and flags are integers
(0 = good sample; any other value marks a sample to distrust). Metadata is a flat mapping of
names to numbers or strings whose units are listed in :mod:`.units`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

TIME_UNIT = "d"
FLUX_UNIT = ""  # relative flux: dimensionless
# Flag bit set by `multiply` on samples the second light curve does not cover.
FLAG_NOT_COVERED = 1 << 1


@dataclass
class LightCurve:
    times: np.ndarray
    fluxes: np.ndarray
    uncertainties: np.ndarray | None = None
    flags: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.times = np.asarray(self.times, dtype=float)
        self.fluxes = np.asarray(self.fluxes, dtype=float)
        n = self.times.shape[0]
        if self.times.ndim != 1 or self.fluxes.shape != (n,):
            raise ValueError(f"times and fluxes must be 1-d arrays of one length "
                             f"({self.times.shape} vs {self.fluxes.shape})")
        self.uncertainties = (np.zeros(n) if self.uncertainties is None
                              else np.asarray(self.uncertainties, dtype=float))
        self.flags = (np.zeros(n, dtype=np.int32) if self.flags is None
                      else np.asarray(self.flags).astype(np.int32))
        if self.uncertainties.shape != (n,) or self.flags.shape != (n,):
            raise ValueError("uncertainties and flags must have one value per sample")
        self.metadata = dict(self.metadata)

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def span(self) -> float:
        """Days from the first sample to the last."""
        return float(self.times[-1] - self.times[0]) if len(self) else 0.0

    def non_finite(self) -> dict[str, int]:
        """Count of NaN/infinite values per column (empty when all are finite)."""
        counts = {name: int(np.count_nonzero(~np.isfinite(values)))
                  for name, values in (("times", self.times), ("fluxes", self.fluxes),
                                       ("uncertainties", self.uncertainties))}
        return {name: count for name, count in counts.items() if count}

    def select(self, mask: np.ndarray) -> LightCurve:
        return LightCurve(self.times[mask], self.fluxes[mask], self.uncertainties[mask],
                          self.flags[mask], self.metadata)

    def truncated(self, max_days: float | None) -> LightCurve:
        """Only the samples in the first ``max_days`` days (the searches' ``lc_duration``)."""
        if max_days is None or not len(self):
            return self
        return self.select(self.times < self.times[0] + float(max_days))

    def sampling_interval(self) -> float:
        """The sampling step in days, robust against gaps: the mean of the inter-quartile
        range of the time differences."""
        steps = np.sort(np.diff(self.times))
        if not steps.size:
            return 0.0
        middle = steps[steps.size // 4: max(steps.size // 4 + 1, (3 * steps.size) // 4)]
        return float(np.mean(middle))

    def fixed_step_errors(self, tolerance_days: float = 1e-4) -> int:
        """How many samples are missing from, or off, a fixed-step raster from the first
        sample to the last (0 = the light curve is on a fixed time step)."""
        step = self.sampling_interval()
        if step <= 0 or len(self) < 2:
            return 0
        position = (self.times - self.times[0]) / step
        nearest = np.rint(position)
        off = int(np.count_nonzero(np.abs(position - nearest) * step > tolerance_days))
        expected = int(nearest[-1]) + 1
        present = np.unique(nearest[np.abs(position - nearest) * step <= tolerance_days]).size
        return off + (expected - present)


def cell_edges(times: np.ndarray) -> np.ndarray:
    """Edges of the cells sampled by ``times`` (midpoints between samples, the outer cells as
    wide as their neighbours): N+1 edges for N samples."""
    if times.size < 2:
        return np.array([times[0] - 0.5, times[0] + 0.5]) if times.size else np.array([])
    middle = (times[1:] + times[:-1]) / 2
    return np.concatenate(([2 * times[0] - middle[0]], middle, [2 * times[-1] - middle[-1]]))


def resample(source: LightCurve, raster: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values of ``source`` on the cells of ``raster``, conserving flux: each output cell gets
    the time-average of the source over the cell. Returns (fluxes, uncertainties, covered),
    where ``covered`` is False for cells outside the source's time range."""
    if source.times.shape == raster.shape and np.array_equal(source.times, raster):
        return source.fluxes.copy(), source.uncertainties.copy(), np.ones(raster.size, bool)
    src_edges = cell_edges(source.times)
    out_edges = cell_edges(raster)
    widths = np.diff(src_edges)
    integral = np.concatenate(([0.0], np.cumsum(source.fluxes * widths)))
    variance = np.concatenate(([0.0], np.cumsum((source.uncertainties * widths) ** 2)))
    lo, hi = np.clip(out_edges[:-1], src_edges[0], src_edges[-1]), np.clip(
        out_edges[1:], src_edges[0], src_edges[-1])
    span = hi - lo
    covered = span > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        fluxes = (np.interp(hi, src_edges, integral) - np.interp(lo, src_edges, integral)) / span
        errors = np.sqrt(np.maximum(
            np.interp(hi, src_edges, variance) - np.interp(lo, src_edges, variance), 0)) / span
    fluxes[~covered] = np.nan
    errors[~covered] = np.nan
    return fluxes, errors, covered
