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
  empties more purses), and arrive `service.walk_to_recharge_s` later. The sectors' time-of-day
  profiles are drawn PROFILE_DRAWS times from a fixed stream and binned by BIN_S.
Limits: it is the expected demand of a steady-state day, not this day's realised one (a day far
from the steady state, e.g. every purse empty at dawn, queues more than this says); the trips
of citizens turned away by a long queue come back through the queue itself (`Background`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenarios.schema import Scenario
from sim.city.demand import TapKind, draw_times
from sim.city.steady import habit
from sim.rng import stream

DAY_S = 24 * 3600
BIN_S = 900.0  # the arrival rate is constant over a quarter of an hour
PROFILE_DRAWS = 200_000  # a bin's density to ~2% at the busiest quarter-hours


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


def spend_weights(s: Scenario) -> dict[TapKind, float]:
    """Each sector's share of a cardholder's spending by its mean price (the warm-up's
    prices: the bus fare at the e-purse rate, a mean-length taxi ride, the mean purchase)."""
    p, f = s.population, s.fares
    taxi = f.taxi_flag_fen + f.taxi_per_km_fen * max(0.0, f.taxi_trip_km_mean - f.taxi_flag_km)
    spend = {
        TapKind.BUS: p.transit_trips_per_day * f.bus_fare_fen * f.epurse_percent / 100,
        TapKind.TAXI: p.taxi_trips_per_day * taxi,
        TapKind.RETAIL: p.merchant_purchases_per_day * p.merchant_spend_fen_mean,
    }
    total = sum(spend.values())
    if total <= 0:
        return {TapKind.BUS: 1.0}
    return {k: v / total for k, v in spend.items()}


def arrival_density(s: Scenario) -> np.ndarray:
    """The share of a day's recharge arrivals in each BIN_S bin (sums to 1 over the day, less
    the trips that would arrive after midnight): each sector's profile (`profile_of`, transit's
    for bus and metro alike) weighted by what it spends, shifted by the walk."""
    rng = stream(0, "recharge/profile")
    bins = int(DAY_S / BIN_S)
    density = np.zeros(bins)
    for kind, weight in spend_weights(s).items():
        t_s = draw_times(rng, PROFILE_DRAWS, s, kind) + s.service.walk_to_recharge_s
        hist, _ = np.histogram(t_s, bins=bins, range=(0.0, DAY_S))
        density += weight * hist / PROFILE_DRAWS
    return density
