"""The full-scale demand at one recharge point or service window, known before the day runs.

A sampled day's queues carry the whole city's customers (`sim.day.recharge.Background`); their
arrival rate at one place is taken from the scenario, never from the sampled arrivals (a
window sees a few sampled citizens a day, far too few to estimate a rate from):

    rate(t) = cardholders x topups per cardholder-day x share of the kind / full-scale places
              x density of recharge arrivals at t

- Top-ups per cardholder-day come from the top-up habit the twin runs, in its steady state
  (`sim.city.steady.habit`: the warm-up's own chain over a fixed reference population, counting
  its loads; a payment refused for want of balance sends its owner to load too, as in the
  twin), so the rate is a property of the scenario: the same whatever the sample, the shards or
  the run's seed.
- The share of the kind is the population's window share (windows) or the rest (points); the
  full-scale places are the scenario's counts (`city.recharge_points`, `city.service_windows`).
- The density in time: a top-up trip starts at the payment that leaves the balance low, so the
  trips start as payments do, weighted by what each sector spends (a sector that spends more
  empties more purses), and arrive `service.walk_to_recharge_s` later
  (`sim.city.topup_times`, which the planner's queues read too).
Limits: it is the expected demand of a steady-state day, not this day's realised one (a day far
from the steady state, e.g. every purse empty at dawn, queues more than this says); the trips
of citizens turned away by a long queue come back through the queue itself (`Background`).
"""

from __future__ import annotations

from dataclasses import dataclass

from scenarios.schema import Scenario
from sim.city.steady import habit
from sim.city.topup_times import BIN_S, arrival_density


@dataclass(frozen=True, slots=True)
class PlaceDemand:
    """The full-scale arrivals at one place of a kind: a rate per BIN_S bin of the day."""

    rate_per_s: tuple[float, ...]
    bin_s: float = BIN_S

    @property
    def per_day(self) -> float:
        return sum(self.rate_per_s) * self.bin_s


@dataclass(frozen=True, slots=True)
class RechargeDemand:
    topups_per_cardholder_day: float
    kiosk: PlaceDemand  # one recharge point (all its kiosks)
    window: PlaceDemand  # one service window


def recharge_demand(s: Scenario) -> RechargeDemand:
    """The full-scale arrivals at one recharge point and at one window (cached: every shard
    and every day of a scenario asks the same)."""
    c = s.city
    # The sections that set it are the key (a Scenario holds lists and is not hashable).
    key = (
        s.population,
        s.fares,
        repr(s.demand),
        s.service,
        c.recharge_points,
        c.service_windows,
        c.districts,
    )
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) >= CACHE_MAX:
            _CACHE.clear()
        found = _CACHE[key] = _demand(s)
    return found


CACHE_MAX = 16
_CACHE: dict[tuple[object, ...], RechargeDemand] = {}


def _demand(s: Scenario) -> RechargeDemand:
    rate = topups_per_cardholder_day(s)
    density = arrival_density(s)
    city = s.population.cardholders * rate
    window_share = s.population.window_share

    def place(share: float, count: int) -> PlaceDemand:
        per_place = city * share / max(1, count)
        return PlaceDemand(tuple(float(x) for x in per_place * density / BIN_S))

    return RechargeDemand(
        rate, place(1 - window_share, s.city.recharge_points), place(window_share, s.city.service_windows)
    )


def topups_per_cardholder_day(s: Scenario) -> float:
    """The steady-state habit's loads per cardholder-day (`sim.city.steady`)."""
    return habit(s).topups_per_cardholder_day
