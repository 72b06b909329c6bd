"""Validation: the service point used for recharge points and windows behaves as M/M/c.

Poisson arrivals, exponential service, c positions, a queue long enough never to turn anyone
away: the mean wait over replications must match Erlang C within the 95% confidence interval.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.day.recharge import ServicePoint
from sim.placement.queueing import erlang_c_wait_s

ARRIVALS_PER_S = 1 / 30  # one citizen every 30 s
SERVICE_S = 80.0  # mean top-up time
POSITIONS = 3  # rho = 0.89
HORIZON_S = 400_000.0
WARMUP_S = 40_000.0
REPLICATIONS = 20
T_975_DF19 = 2.093


def _replication(seed: int) -> float:
    """One run of the service point; the mean wait of citizens arriving after the warm-up."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    point = ServicePoint(env, "kiosks", POSITIONS, queue_limit=1_000_000)
    waits: list[float] = []

    def citizen() -> Generator[simpy.Event, Any, None]:
        arrived = env.now

        def served(_position: int) -> None:
            if arrived >= WARMUP_S:
                waits.append(env.now - arrived)

        yield env.process(point.visit(lambda _p: float(rng.exponential(SERVICE_S)), served))

    def arrivals() -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(float(rng.exponential(1 / ARRIVALS_PER_S)))
            env.process(citizen())

    env.process(arrivals())
    env.run(until=HORIZON_S)
    assert point.stats.balked == 0
    return float(np.mean(waits))


def test_service_point_matches_erlang_c_within_the_95_percent_ci() -> None:
    means = np.array([_replication(seed) for seed in range(REPLICATIONS)])
    centre = float(means.mean())
    half_width = T_975_DF19 * float(means.std(ddof=1)) / math.sqrt(REPLICATIONS)
    expected = erlang_c_wait_s(ARRIVALS_PER_S, SERVICE_S, POSITIONS)
    print(f"Erlang C Wq={expected:.1f} s; simulated {centre:.1f} +/- {half_width:.1f} s")
    assert centre - half_width <= expected <= centre + half_width
    # The interval is informative, not so wide that any answer would pass.
    assert half_width < 0.15 * expected


def test_a_full_queue_turns_people_away() -> None:
    env = simpy.Environment()
    point = ServicePoint(env, "window", 1, queue_limit=2)
    done: list[bool] = []

    def citizen() -> Generator[simpy.Event, Any, None]:
        done.append((yield env.process(point.visit(lambda _p: 100.0, lambda _p: None))))

    for _ in range(5):
        env.process(citizen())
    env.run()
    assert sorted(done) == [False, False, True, True, True]
    assert point.stats.balked == 2 and point.stats.served == 3


def test_erlang_c_formula_known_value() -> None:
    # M/M/1: Wq = rho / (mu - lambda) = 0.5 / (1 - 0.5) * 1 s for lambda = 0.5, mu = 1.
    assert math.isclose(erlang_c_wait_s(0.5, 1.0, 1), 1.0)
    # M/M/2, a = 1 erlang: P(wait) = 1/3, Wq = (1/3) / (2 - 1) = 1/3 s.
    assert math.isclose(erlang_c_wait_s(1.0, 1.0, 2), 1 / 3)
