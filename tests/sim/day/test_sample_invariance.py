"""Queue waits at recharge points and windows do not depend on the sample.

A city of COUNT places (Hangzhou's 11 windows; 600 recharge points of 2 kiosks) has full-scale
Poisson arrivals. A sampled day keeps a fraction `sample` of them and max(1, round(COUNT x
sample)) places, each sampled citizen going to one at random: exactly what the city day does.
Each place carries its full-scale stream (`Background`) and the sampled citizens observe it.
The mean wait of the sampled citizens, replicated over seeds with a Student-t 95% interval,
must agree across samples 0.002, 0.005 and 0.01 and with Erlang C for one full-scale place.
The sampled arrivals alone (no `Background`) are shown not to. The same through the whole
twin's day: tests/sim/day/test_twin_queues.py.
"""

from __future__ import annotations

import math
import random
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy
from scipy import stats

from sim.city.graph import scaled
from sim.day.recharge import Background, ServicePoint
from sim.placement.queueing import erlang_c_wait_s

SAMPLES = (0.002, 0.005, 0.01)
SEEDS = range(10)
SAMPLED_ARRIVALS = 1000  # per replication (the horizon is as long as these take)
QUEUE_LIMIT = 1_000_000  # nobody balks, so Erlang C applies
RHO = 0.7  # per position at full scale


def _mean_wait(
    count: int, positions: int, service_s: float, sample: float, seed: int, fix: bool, arrivals: int
) -> float:
    """One replication: the sampled citizens' mean wait at `scaled(count, sample)` places."""
    rng = random.Random(f"{seed}/{sample}")
    env = simpy.Environment()
    places = scaled(count, sample)
    # Full-scale arrivals at one place at positions x rho / service; the sample keeps `sample`
    # of the city's count x that.
    per_place = positions * RHO / service_s
    rate = sample * count * per_place
    horizon_s = 3 * arrivals / rate  # the stream runs past the last sampled arrival
    bins = 100
    background = Background((per_place,) * bins, horizon_s / bins, service_s, seed) if fix else None
    points = [ServicePoint(env, f"place {i}", positions, QUEUE_LIMIT, background) for i in range(places)]

    def citizen(point: ServicePoint) -> Generator[simpy.Event, Any, None]:
        s = rng.expovariate(1.0 / service_s)
        yield env.process(point.visit(lambda _p: s, lambda _p: None))

    def sampled_stream() -> Generator[simpy.Event, Any, None]:
        for _ in range(arrivals):
            yield env.timeout(rng.expovariate(rate))
            env.process(citizen(points[rng.randrange(places)]))

    env.process(sampled_stream())
    env.run()
    waits = [w for point in points for w in point.stats.waits_s]
    assert len(waits) == arrivals
    return float(np.mean(waits))


def _interval(
    count: int, positions: int, service_s: float, sample: float, fix: bool, arrivals: int = SAMPLED_ARRIVALS
) -> tuple[float, float]:
    means = np.array([_mean_wait(count, positions, service_s, sample, seed, fix, arrivals) for seed in SEEDS])
    half = float(stats.t.ppf(0.975, len(means) - 1)) * float(means.std(ddof=1)) / math.sqrt(len(means))
    return float(means.mean()) - half, float(means.mean()) + half


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _check_invariant(count: int, positions: int, service_s: float, arrivals: int) -> None:
    intervals = {s: _interval(count, positions, service_s, s, True, arrivals) for s in SAMPLES}
    full_scale = erlang_c_wait_s(positions * RHO / service_s, service_s, positions)
    print({s: (round(lo, 1), round(hi, 1)) for s, (lo, hi) in intervals.items()}, round(full_scale, 1))
    for a in SAMPLES:
        for b in SAMPLES:
            assert _overlap(intervals[a], intervals[b]), (a, b, intervals)
        lo, hi = intervals[a]
        assert lo <= full_scale <= hi, (a, intervals[a], full_scale)
        assert hi - lo < 0.5 * full_scale  # informative: not so wide that anything passes


def test_window_waits_do_not_depend_on_the_sample() -> None:
    _check_invariant(count=11, positions=1, service_s=180.0, arrivals=SAMPLED_ARRIVALS)


def test_recharge_point_waits_do_not_depend_on_the_sample() -> None:
    # Several places, each a full-scale place's queue: the sampled citizens see more paths.
    _check_invariant(count=600, positions=2, service_s=60.0, arrivals=4 * SAMPLED_ARRIVALS)


def test_todays_scaling_makes_window_waits_grow_with_the_sample() -> None:
    # The sampled arrivals alone at max(1, round(11 x sample)) windows: one window carrying
    # 11 x sample of the load, so the wait grows with the sample and is far from full scale.
    low = _interval(11, 1, 180.0, SAMPLES[0], fix=False)
    high = _interval(11, 1, 180.0, SAMPLES[-1], fix=False)
    full_scale = erlang_c_wait_s(RHO / 180.0, 180.0, 1)
    assert not _overlap(low, high)
    assert high[1] < 0.2 * full_scale
