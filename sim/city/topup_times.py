"""When the top-ups come: the density in time of a day's recharge arrivals, the same for the
twin's full-scale queues (`sim.day.recharge_demand`) and the planner's (`sim.placement.waits`).

A top-up trip starts at the payment that leaves the balance low, so the trips start as
payments do, weighted by what each sector spends (a sector that spends more empties more
purses), and arrive `service.walk_to_recharge_s` later. The sectors' time-of-day profiles are
drawn PROFILE_DRAWS times from a fixed stream and binned by BIN_S, so the density is a property
of the scenario.
"""

from __future__ import annotations

import numpy as np

from scenarios.schema import Scenario
from sim.city.demand import TapKind, draw_times
from sim.rng import stream

DAY_S = 24 * 3600
BIN_S = 900.0  # the arrival rate is constant over a quarter of an hour
PROFILE_DRAWS = 200_000  # a bin's density to ~2% at the busiest quarter-hours


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
