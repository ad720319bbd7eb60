"""The Quasiperiodic Automated Transit Search (Carter & Agol 2013, ApJ 765, 132), in numpy.

QATS finds the best sequence of transits whose spacings may vary (transit-timing variations)
within a window [dmin, dmax], exactly, by dynamic programming. The light curve is averaged into
cells of a quarter of the shortest trial duration (or its own cadence, if coarser), the median
is subtracted and the result divided by its standard deviation, so a transit is a run of
negative values. For a box of q cells starting at cell n the signal is D(n) = -sum(d[n:n+q]).
A sequence t_1 < ... < t_M is allowed when dmin <= t_(i+1) - t_i <= dmax, the first transit
starts within dmax of the start and the last within dmax of the end (no transit is missing);
QATS maximises S_M = sum D(t_i) over allowed sequences:

    G_1(n) = D(n) for n < dmax,  G_m(n) = D(n) + max(G_(m-1)(k) for n-dmax <= k <= n-dmin),
    S_M = max(G_M(n) for n >= N - dmax).

The window maximum takes log2(dmax - dmin + 1) vector operations, so each window costs
O(N M log) for all M at once; durations are done together as rows of one array. The
statistic S_M / sqrt(M q) (a signal-to-noise ratio: the cells have unit variance) chooses M,
q and the window. The windows follow the paper's grid (eqs. 15-16): spacing
P_j = period_min (1 + f/2)^j in cells, window [floor(P_j), ceil(P_(j+1))] (neighbours overlap by
a cell, so a strictly periodic planet always falls inside one), with f = ``max_ttv_mag``.

Reported, as the prototype's QATS task did: period = (t_M - t_1) / (M - 1), transit_count M,
period_span M - 1, first_transit and last_transit [d, mid-transit]; plus snr (the statistic),
depth (mean drop in the boxes) and duration (q cells). The periodogram is the best statistic
per window, against the window's central spacing.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..lightcurve import LightCurve
from .result import SearchGrid, SearchResult

DEFAULT_MAX_TTV_MAG = 0.01  # f: fractional width of the spacing windows


def window_max(values: np.ndarray, width: int) -> np.ndarray:
    """``out[..., i] = max(values[..., i:i + width])`` for every i where that fits
    (sparse-table doubling: one np.maximum per power of two)."""
    span, out = 1, values
    while span * 2 <= width:
        out = np.maximum(out[..., :-span], out[..., span:])
        span *= 2
    if span < width:
        rest = width - span
        out = np.maximum(out[..., :-rest], out[..., rest:])
    return out


def box_signals(cells: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """D(n) per box length (rows): minus the sum of ``q`` cells from n; -inf where a box
    would run past the end."""
    cumulative = np.concatenate([[0.0], np.cumsum(cells)])
    n = cells.size
    out = np.full((lengths.size, n), -np.inf)
    for row, q in enumerate(lengths):
        out[row, :n - q + 1] = cumulative[:n - q + 1] - cumulative[q:]
    return out


def best_sums(signals: np.ndarray, dmin: int, dmax: int, m_max: int | None = None,
              track_first: bool = False):
    """S_M for M = 1, 2, ... (columns) per row of ``signals``: the exact QATS optimum with
    spacings in [dmin, dmax] (-inf where no sequence of M transits is allowed). With
    ``track_first``, also the cells of the first and of the last transit of each optimum.

    G_m is finite only in a band: the m-th transit starts between (m-1) dmin and m dmax - 1,
    so each step touches that band only (for narrow windows, a small part of the light curve).
    G_m sits after ``dmax - dmin`` columns of -inf so the window before each cell is a view."""
    rows, n = signals.shape
    width = dmax - dmin + 1
    lead = width - 1
    last_start = int(np.flatnonzero(np.isfinite(signals).any(axis=0))[-1])
    m_max = min(m_max or n, last_start // dmin + 1)  # no room for more transits after that
    g, spare = np.full((2, rows, lead + n), -np.inf)
    lo, hi = 0, min(n, dmax)
    g[:, lead:lead + hi] = signals[:, :hi]
    first = spare_first = None
    if track_first:
        first, spare_first = np.zeros((2, rows, lead + n), np.int64)
        first[:, lead:lead + hi] = np.arange(hi)
    old_lo = old_hi = 0  # the band ``spare`` holds
    tail = max(0, n - dmax)
    every = np.arange(rows)
    sums, firsts, lasts = [], [], []
    for m in range(1, m_max + 1):
        if m > 1:
            new_lo, new_hi = lo + dmin, min(n, hi + dmax)
            before = g[:, new_lo - dmin:lead + new_hi - dmin]
            spare[:, lead + old_lo:lead + old_hi] = -np.inf
            if track_first:
                best, origin = _window_argmax(before, width)
                spare_first[:, lead + new_lo:lead + new_hi] = np.take_along_axis(
                    first, origin + (new_lo - dmin), axis=1)
                first, spare_first = spare_first, first
            else:
                best = window_max(before, width)
            np.add(signals[:, new_lo:new_hi], best, out=spare[:, lead + new_lo:lead + new_hi])
            g, spare = spare, g
            old_lo, old_hi, lo, hi = lo, hi, new_lo, new_hi
        a = max(tail, lo)
        if a >= hi:
            sums.append(np.full(rows, -np.inf))
            firsts.append(np.full(rows, -1))
            lasts.append(np.full(rows, -1))
            continue
        at = np.argmax(g[:, lead + a:lead + hi], axis=1)
        sums.append(g[every, lead + a + at])
        lasts.append(a + at)
        if track_first:
            firsts.append(first[every, lead + a + at])
    out = np.stack(sums, axis=1)
    if track_first:
        return out, np.stack(firsts, axis=1), np.stack(lasts, axis=1)
    return out


def _window_argmax(values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`window_max` and the index (into ``values``) of each maximum."""
    windows = np.lib.stride_tricks.sliding_window_view(values, width, axis=1)
    offset = np.argmax(windows, axis=2)
    index = offset + np.arange(windows.shape[1])
    return np.take_along_axis(values, index, axis=1), index


@dataclass
class _Cells:
    values: np.ndarray  # normalised: median 0, standard deviation 1
    step: float  # days
    start: float  # day of cell 0's start
    scale: float  # the standard deviation divided out (relative flux)


def _cells(lc: LightCurve, grid: SearchGrid) -> _Cells:
    good = (lc.flags == 0) & np.isfinite(lc.fluxes)
    times, fluxes = lc.times[good], lc.fluxes[good] / np.mean(lc.fluxes[good])
    cadence = float(np.median(np.diff(times))) if times.size > 1 else grid.duration_min
    step = max(cadence, grid.duration_min / 4.0)
    index = np.floor((times - times[0]) / step + 1e-9).astype(np.int64)
    count = np.bincount(index)
    sums = np.bincount(index, fluxes)
    filled = count > 0
    means = np.zeros(count.size)
    means[filled] = sums[filled] / count[filled]
    median = np.median(means[filled])
    scale = float(np.std(means[filled] - median)) or 1.0
    values = np.where(filled, (means - median) / scale, 0.0)  # a gap carries no signal
    return _Cells(values, step, float(times[0]), scale)


def windows(period_min: float, period_max: float, max_ttv_mag: float) -> list[tuple[int, int]]:
    """The spacing windows [dmin, dmax] in cells, covering period_min..period_max."""
    ratio = 1.0 + max_ttv_mag / 2.0
    count = int(np.ceil(np.log(period_max / period_min) / np.log(ratio)))
    edges = period_min * ratio ** np.arange(count + 1)
    out = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        window = (max(1, int(np.floor(low))), int(np.ceil(min(high, period_max))))
        if window[1] == window[0]:
            window = (window[0], window[0] + 1)
        if not out or window != out[-1]:
            out.append(window)
    return out


def search(lc: LightCurve, grid: SearchGrid, max_ttv_mag: float = DEFAULT_MAX_TTV_MAG,
           threads: int = 1) -> SearchResult:
    cells = _cells(lc, grid)
    n = cells.values.size
    lengths = np.unique(np.maximum(1, np.rint(grid.durations() / cells.step).astype(int)))
    signals = box_signals(cells.values, lengths)
    spans = windows(grid.period_min / cells.step,
                    min(grid.resolved_period_max(lc.span), lc.span) / cells.step, max_ttv_mag)
    spans = [(dmin, dmax) for dmin, dmax in spans if dmin >= lengths.max() and dmax < n]
    if not spans:
        raise ValueError("no spacing window fits the light curve: widen the period range")
    norm = np.sqrt(lengths[:, None] * np.arange(1, n // spans[0][0] + 3)[None, :])

    def best_of(window: tuple[int, int]) -> tuple[float, int, int]:
        sums = best_sums(signals, *window)
        snr = sums / norm[:, :sums.shape[1]]
        row, m = np.unravel_index(int(np.argmax(snr)), snr.shape)
        return float(snr[row, m]), int(row), int(m) + 1

    with ThreadPoolExecutor(max(1, int(threads))) as pool:
        results = list(pool.map(best_of, spans))
    powers = np.array([r[0] for r in results])
    best = int(np.argmax(powers))
    snr, row, m = results[best]
    dmin, dmax = spans[best]
    q = int(lengths[row])
    sums, firsts, lasts = best_sums(signals[row:row + 1], dmin, dmax, m_max=m,
                                    track_first=True)
    first, last = int(firsts[0, m - 1]), int(lasts[0, m - 1])
    mid = cells.start + (q / 2.0) * cells.step
    period = (last - first) * cells.step / (m - 1) if m > 1 else 0.0
    centres = np.array([np.sqrt(dmin * dmax) for dmin, dmax in spans]) * cells.step
    return SearchResult(
        period=float(period), power=snr, depth=float(sums[0, m - 1] / (m * q) * cells.scale),
        duration=q * cells.step, t0=mid + first * cells.step,
        extra={"snr": snr, "transit_count": m, "period_span": m - 1,
               "first_transit": mid + first * cells.step,
               "last_transit": mid + last * cells.step},
        periods=centres, powers=powers)
