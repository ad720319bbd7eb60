"""Our QATS (Carter & Agol 2013) is the exact optimum: its dynamic programme agrees with an
exhaustive search over every allowed transit sequence, and the whole search agrees with a
brute-force one on a tiny light curve. (Recovery of a batman planet at high SNR, and not at
zero radius, is tested with the other searches in test_searches.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from plato_eas_science.lightcurve import LightCurve
from plato_eas_science.search import qats
from plato_eas_science.search.result import SearchGrid


def exhaustive(signal: np.ndarray, dmin: int, dmax: int) -> dict[int, tuple[float, set]]:
    """M -> (best sum, {(first, last) of every sequence reaching it}), by enumerating every
    sequence: first transit within dmax of the start, spacings in [dmin, dmax], last within
    dmax of the end."""
    n = signal.size
    best: dict[int, tuple[float, set]] = {}

    def extend(sequence: list[int], total: float) -> None:
        last = sequence[-1]
        if last >= n - dmax:
            m = len(sequence)
            pair = (sequence[0], last)
            if m not in best or total > best[m][0] + 1e-9:
                best[m] = (total, {pair})
            elif abs(total - best[m][0]) <= 1e-9:
                best[m][1].add(pair)
        for step in range(dmin, dmax + 1):
            nxt = last + step
            if nxt < n and np.isfinite(signal[nxt]):
                extend(sequence + [nxt], total + signal[nxt])

    for start in range(min(dmax, n)):
        if np.isfinite(signal[start]):
            extend([start], signal[start])
    return best


@pytest.mark.parametrize("dmin, dmax", [(5, 5), (5, 7), (6, 9), (11, 14), (20, 26)])
def test_dynamic_programme_is_the_exhaustive_optimum(dmin, dmax):
    rng = np.random.default_rng(dmin * 100 + dmax)
    cells = rng.normal(size=47)
    signals = qats.box_signals(cells, np.array([1, 2, 3]))
    sums, firsts, lasts = qats.best_sums(signals, dmin, dmax, track_first=True)
    assert np.array_equal(sums, qats.best_sums(signals, dmin, dmax))  # the same optimum
    for row in range(signals.shape[0]):
        truth = exhaustive(signals[row], dmin, dmax)
        assert truth  # every case has allowed sequences
        for m in range(1, sums.shape[1] + 1):
            if m in truth:
                assert sums[row, m - 1] == pytest.approx(truth[m][0], abs=1e-9)
                assert (firsts[row, m - 1], lasts[row, m - 1]) in truth[m][1]
            else:
                assert sums[row, m - 1] == -np.inf
        assert max(truth) <= sums.shape[1]  # no sequence length left out


def test_window_max_is_a_sliding_maximum():
    values = np.random.default_rng(3).normal(size=(2, 40))
    for width in range(1, 12):
        expected = np.array([[row[i:i + width].max() for i in range(41 - width)]
                             for row in values])
        assert np.array_equal(qats.window_max(values, width), expected)


def test_search_is_the_brute_force_best_on_a_tiny_light_curve():
    # 12 days at 0.0125 d: one cell per sample; a 0.05 d (4-cell) transit every 2.3 d
    step = 0.0125
    times = np.arange(0, 12, step)
    rng = np.random.default_rng(11)
    fluxes = 1 + 2e-4 * rng.standard_normal(times.size)
    fluxes[((times - 0.7) % 2.3) < 0.05] -= 1e-3
    grid = SearchGrid(period_min=1.0, period_max=4.0, duration_min=0.05, duration_max=0.1,
                      duration_count=2)
    found = qats.search(LightCurve(times, fluxes), grid, max_ttv_mag=0.02)

    # brute force over the same windows, box lengths and cells
    cells = (fluxes / fluxes.mean() - np.median(fluxes / fluxes.mean()))
    cells /= cells.std()
    lengths = [4, 8]
    best = (-np.inf, None)
    for dmin, dmax in qats.windows(1.0 / step, 4.0 / step, 0.02):
        for q in lengths:
            signal = qats.box_signals(cells, np.array([q]))[0]
            for m, (total, pairs) in exhaustive_fast(signal, dmin, dmax).items():
                snr = total / np.sqrt(m * q)
                if snr > best[0] + 1e-9:
                    best = (snr, (m, pairs))
    snr, (m, pairs) = best
    assert found.power == pytest.approx(snr, rel=1e-9)
    assert found.extra["transit_count"] == m
    assert abs(found.period / 2.3 - 1) < 0.01
    assert any(found.period == pytest.approx((last - first) * step / (m - 1))
               for first, last in pairs)


def exhaustive_fast(signal: np.ndarray, dmin: int, dmax: int) -> dict[int, tuple[float, set]]:
    """:func:`exhaustive` by plain dictionary dynamic programming over (cell, count) — still
    every sequence, without enumerating them one by one (the tiny light curve has too many)."""
    n = signal.size
    # state: last cell -> {count: (best total, {firsts reaching it})}
    states: dict[int, dict[int, tuple[float, set]]] = {}
    for cell in range(n):
        if not np.isfinite(signal[cell]):
            continue
        here: dict[int, tuple[float, set]] = {}
        if cell < dmax:
            here[1] = (signal[cell], {cell})
        for step in range(dmin, dmax + 1):
            for count, (total, firsts) in states.get(cell - step, {}).items():
                value = total + signal[cell]
                known = here.get(count + 1)
                if known is None or value > known[0] + 1e-9:
                    here[count + 1] = (value, set(firsts))
                elif abs(value - known[0]) <= 1e-9:
                    known[1].update(firsts)
        states[cell] = here
    best: dict[int, tuple[float, set]] = {}
    for cell in range(max(0, n - dmax), n):
        for count, (total, firsts) in states.get(cell, {}).items():
            pairs = {(first, cell) for first in firsts}
            if count not in best or total > best[count][0] + 1e-9:
                best[count] = (total, pairs)
            elif abs(total - best[count][0]) <= 1e-9:
                best[count][1].update(pairs)
    return best


def test_the_reference_programme_agrees_with_enumeration():
    signal = qats.box_signals(np.random.default_rng(5).normal(size=40), np.array([2]))[0]
    for dmin, dmax in [(4, 6), (7, 9), (10, 13)]:
        slow, fast = exhaustive(signal, dmin, dmax), exhaustive_fast(signal, dmin, dmax)
        assert slow.keys() == fast.keys()
        for m in slow:
            assert slow[m][0] == pytest.approx(fast[m][0])
            assert slow[m][1] == fast[m][1]
