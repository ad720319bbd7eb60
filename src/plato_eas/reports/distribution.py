"""Summary statistics and histogram bins of a list of numbers, with round bin edges."""

from __future__ import annotations

import math

BINS = 20


def nice_step(span: float, bins: int = BINS) -> float:
    """A bin width of 1, 2 or 5 times a power of ten giving about ``bins`` bins."""
    if span <= 0:
        return 1.0
    raw = span / bins
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


def quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: list[float]) -> dict:
    """count, min, median, mean, p90, max and total of ``values`` (None-free)."""
    if not values:
        return {"count": 0, "min": None, "median": None, "mean": None, "p90": None,
                "max": None, "total": 0.0}
    ordered = sorted(values)
    total = math.fsum(ordered)
    return {"count": len(ordered), "min": ordered[0], "median": quantile(ordered, 0.5),
            "mean": total / len(ordered), "p90": quantile(ordered, 0.9), "max": ordered[-1],
            "total": total}


def histogram(values: list[float], bins: int = BINS) -> list[dict]:
    """[{low, high, count}] over round edges covering every value (empty list for none)."""
    if not values:
        return []
    low, high = min(values), max(values)
    # All equal: bins a tenth of the value's size (or 1 for zeros), so one narrow bar shows.
    step = nice_step(high - low, bins) if high > low else nice_step(abs(low) or bins, bins)
    start = math.floor(low / step) * step
    count = max(1, math.floor((high - start) / step) + 1)
    counts = [0] * count
    for value in values:
        counts[min(count - 1, int((value - start) // step))] += 1
    return [{"low": round(start + i * step, 12), "high": round(start + (i + 1) * step, 12),
             "count": n} for i, n in enumerate(counts)]
