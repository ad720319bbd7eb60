"""What a transit search finds, in the units the task metadata state (see ..units)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np


@dataclass
class SearchResult:
    period: float  # days
    power: float  # the algorithm's own statistic at the best period
    depth: float  # relative flux drop in transit
    duration: float  # days
    t0: float  # days: mid-time of a transit of the best signal
    extra: dict[str, Any] = field(default_factory=dict)  # sde, snr, transit_count, ...
    periods: np.ndarray = field(default_factory=lambda: np.array([]))  # the periodogram
    powers: np.ndarray = field(default_factory=lambda: np.array([]))

    def metadata(self) -> dict[str, Any]:
        out = {"period": self.period, "power": self.power, "depth": self.depth,
               "duration": self.duration, "t0": self.t0}
        out.update(self.extra)
        return {k: _plain(v) for k, v in out.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class SearchGrid:
    """Trial periods and transit durations: the prototype's search settings."""

    period_min: float = 0.5  # days
    period_max: float | None = None  # days; default: half the light curve's span
    duration_min: float = 0.05  # days
    duration_max: float = 0.3  # days
    duration_count: int = 10
    frequency_factor: float = 2.0  # frequency spacing, in units of duration_min / span**2

    def resolved_period_max(self, span: float) -> float:
        return float(self.period_max) if self.period_max else span / 2.0

    def durations(self) -> np.ndarray:
        return np.linspace(self.duration_min, self.duration_max, self.duration_count)

    def frequencies(self, span: float) -> np.ndarray:
        """Evenly spaced trial frequencies [1/d] (the spacing astropy's autoperiod uses)."""
        f_min = 1.0 / self.resolved_period_max(span)
        f_max = 1.0 / self.period_min
        step = self.frequency_factor * self.duration_min / span**2
        count = int(np.ceil((f_max - f_min) / step)) + 1
        return np.linspace(f_min, f_max, max(count, 2))


SETTINGS: dict[str, type] = {
    "period_min": float, "period_max": float, "duration_min": float, "duration_max": float,
    "duration_count": int, "frequency_factor": float,
}


def grid_from(settings: dict[str, Any], span: float, own: Iterable[str] = ()) -> SearchGrid:
    """A SearchGrid from a task's ``search_settings`` (keys named in ``own`` belong to the
    algorithm and are left to it); ValueError on unknown keys or impossible values."""
    unknown = sorted(set(settings) - set(SETTINGS) - set(own))
    if unknown:
        raise ValueError(f"unknown search_settings key(s) {', '.join(unknown)}; "
                         f"known: {', '.join(sorted({*SETTINGS, *own}))}")
    try:
        grid = SearchGrid(**{k: SETTINGS[k](v) for k, v in settings.items()
                             if v is not None and k in SETTINGS})
    except (TypeError, ValueError):
        raise ValueError(f"search_settings must be numbers: {settings!r}") from None
    period_max = grid.resolved_period_max(span)
    if not 0 < grid.period_min < period_max:
        raise ValueError(f"no periods to search: period_min {grid.period_min} d, period_max "
                         f"{period_max:.4g} d (light curve spans {span:.4g} d)")
    if not 0 < grid.duration_min <= grid.duration_max < grid.period_min:
        raise ValueError("durations must satisfy 0 < duration_min <= duration_max < period_min")
    return grid
