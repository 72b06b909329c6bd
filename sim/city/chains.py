"""Trip chains: a citizen's taps of the day in a home -> work -> home order, each sector keeping
its time-of-day profile.

A citizen with k transit trips takes trip j (0-based) at the profile's quantile (j + U) / k
(stratified inverse-CDF sampling): the k times are in order, and pooled over citizens with k
trips each stratum is drawn once per citizen, so the day's transit times follow the profile
exactly (in distribution), whatever the mix of k. Trip j leaves home when j is even and work
when odd, so each trip starts where the one before ended; a lone trip keeps the noon rule.

Shops and taxis are placed relative to the chain's first departure (`leave_s`) by a rank
matching: the sector's times are drawn from its profile as before, then handed out in time
order to the taps in order of their citizen's departure (citizens without a commute get a
departure drawn from the commuters'), so the sector's times are the same multiset (its
profile kept exactly) and a commuter's purchase comes after they left home whenever the
profiles allow it (`after_leave`). Taxis run through the night, so a taxi ride before the
morning bus is a night's ride, not a broken chain: taxi times stay independent of the chain.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr  # type: ignore[import-untyped]  # no stubs installed: arrays back

GRID_S = 10.0  # the inverse CDF's resolution (tap times are seconds; the clock ticks in seconds)


def quantile_times(
    u: np.ndarray,
    peaks_h: tuple[float, ...],
    peak_shares: tuple[float, ...],
    width_h: float,
    start_h: float,
    end_h: float,
) -> np.ndarray:
    """Seconds since midnight at quantiles `u` (in [0, 1)) of the peaks-over-base profile that
    `demand.draw_times` samples: normal peaks inside the hours, and the peaks' draws outside
    the hours moved onto the flat base."""
    start_s, end_s = start_h * 3600, end_h * 3600
    grid = np.arange(start_s, end_s + GRID_S, GRID_S)
    grid[-1] = end_s
    sd = width_h * 3600
    cdf = np.zeros(len(grid))
    inside = 0.0
    for peak_h, share in zip(peaks_h, peak_shares, strict=True):
        mass = np.asarray(ndtr((grid - peak_h * 3600) / sd) - ndtr((start_s - peak_h * 3600) / sd), float)
        cdf += share * mass
        inside += share * float(mass[-1])
    cdf += (1.0 - inside) * (grid - start_s) / (end_s - start_s)
    cdf /= cdf[-1]
    t: np.ndarray = np.minimum(np.interp(u, cdf, grid), np.nextafter(end_s, start_s))
    return t


def rank_in_citizen(who: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For taps grouped by citizen (`who` non-decreasing, as np.repeat gives them): each tap's
    rank within its citizen and its citizen's count."""
    n = len(who)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    first = np.r_[True, who[1:] != who[:-1]]
    starts = np.flatnonzero(first)
    counts = np.diff(np.r_[starts, n])
    group = np.cumsum(first) - 1
    return np.arange(n) - starts[group], counts[group]


def gap_to_next_s(who: np.ndarray, t_s: np.ndarray) -> np.ndarray:
    """Seconds to the same citizen's next trip (infinite for the last), taps grouped by citizen
    and in time order within a citizen."""
    gap = np.full(len(who), np.inf)
    if len(who) > 1:
        same = who[1:] == who[:-1]
        gap[:-1][same] = (t_s[1:] - t_s[:-1])[same]
    return gap


def after_leave(
    rng: np.random.Generator, t_s: np.ndarray, who: np.ndarray, leave_s: np.ndarray
) -> np.ndarray:
    """The sector's times `t_s` handed out again so that a tap's time rises with its citizen's
    departure from home (`leave_s[who]`, NaN for a citizen without a commute, who gets a
    departure drawn from the commuters'). The result is a permutation of `t_s`."""
    key = leave_s[who]
    alone = np.isnan(key)
    commuters = leave_s[~np.isnan(leave_s)]
    pool = commuters if len(commuters) else np.zeros(1)
    key[alone] = pool[rng.integers(0, len(pool), int(alone.sum()))]
    # Ties (one citizen's several taps, equal departures) are broken at random, not by index.
    order = np.lexsort((rng.random(len(key)), key))
    out = np.empty_like(t_s)
    out[order] = np.sort(t_s)
    return out
