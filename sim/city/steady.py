"""What a scenario's cardholders do in the steady state of their top-up habit, predicted
before any day runs: top-ups, payments tried, paid and refused, spending and balances.

The scenario's rates (`transit_trips_per_day`, `taxi_trips_per_day`,
`merchant_purchases_per_day`) and its mean purchase are what cardholders TRY to pay by card.
What the day realises is less: a payment larger than the balance is refused (its owner pays
cash and goes to load, `sim.day.twin`), and a CNY 30 purchase often meets a purse that the
habit keeps between CNY 5 and CNY 55. The figures here are the habit's own chain
(`sim.city.balances.pay_days`, the warm-up the twin opens with) run on a fixed reference
population after its warm-up, so they are a property of the scenario: the same whatever the
sample, the shards or the run's seed. The twin's queues take their top-up rate from here
(`sim.day.recharge_demand`), the planner (`cardtwin plan`) its demand, the operating framework
its spending and float per cardholder; the day's report sets its measured figures beside them.

Limits: the chain pays mean fares (the e-purse bus fare with concessions, the base metro fare,
a mean-length taxi ride); the twin charges transfers at a discount, metro fares by distance and
taxi rides by drawn distances, and a refused metro exit or bus boarding is retried after the
top-up. `tests/sim/city/test_steady.py` holds the chain to a measured day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenarios.schema import Scenario
from sim.city.balances import HABIT_KINDS, HabitTally, pay_days
from sim.city.population import draw_columns, opening_balances
from sim.rng import stream

REFERENCE_CITIZENS = 20_000  # the top-up rate to ~1% (about 5,500 loads counted)
REFERENCE_DAYS = 5
CACHE_MAX = 16


@dataclass(frozen=True, slots=True)
class KindFigures:
    """One payment kind's figures, per cardholder-day."""

    kind: str
    input_per_day: float  # the scenario's rate
    input_fen: float  # the scenario's rate at list prices (no concession, nothing refused)
    attempts_per_day: float  # tried, at the cardholders' own fares
    paid_per_day: float
    refused_per_day: float
    attempted_fen: float
    paid_fen: float


@dataclass(frozen=True, slots=True)
class Habit:
    """The steady-state habit of one scenario, per cardholder-day unless named otherwise."""

    topups_per_cardholder_day: float
    balance_fen_mean: float  # what a card holds on average: the float per cardholder
    kinds: tuple[KindFigures, ...]

    @property
    def input_spend_fen(self) -> float:
        return sum(k.input_fen for k in self.kinds)

    @property
    def spend_fen(self) -> float:
        """Spending realised (paid) per cardholder-day."""
        return sum(k.paid_fen for k in self.kinds)

    @property
    def refused_per_day(self) -> float:
        return sum(k.refused_per_day for k in self.kinds)

    def kind(self, name: str) -> KindFigures:
        return next(k for k in self.kinds if k.kind == name)


def list_prices_fen(s: Scenario) -> dict[str, float]:
    """Each kind's price before concessions: the bus fare at the e-purse rate, a mean-length
    taxi ride, the mean purchase."""
    p, f = s.population, s.fares
    return {
        "transit": f.bus_fare_fen * f.epurse_percent / 100 * (1 - p.monthly_pass_share),
        "taxi": f.taxi_flag_fen + f.taxi_per_km_fen * max(0.0, f.taxi_trip_km_mean - f.taxi_flag_km),
        "retail": float(p.merchant_spend_fen_mean),
    }


def input_rates(s: Scenario) -> dict[str, float]:
    p = s.population
    return {
        "transit": p.transit_trips_per_day,
        "taxi": p.taxi_trips_per_day,
        "retail": p.merchant_purchases_per_day,
    }


def habit(s: Scenario) -> Habit:
    """The scenario's steady-state habit (cached: every shard and every day asks the same)."""
    # The sections that set it are the key (a Scenario holds lists and is not hashable).
    key = (s.population, s.fares, s.city.districts)
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) >= CACHE_MAX:
            _CACHE.clear()
        found = _CACHE[key] = _habit(s)
    return found


_CACHE: dict[tuple[object, ...], Habit] = {}


def _habit(s: Scenario) -> Habit:
    rates, prices = input_rates(s), list_prices_fen(s)
    tally = HabitTally()
    if s.population.topup_amount_fen <= 0:
        # Without a top-up habit there is no steady state: only the inputs stand.
        return Habit(0.0, 0.0, tuple(_kind(k, rates, prices, tally, 1) for k in HABIT_KINDS))
    # The habit per cardholder does not depend on the city's size: a city of the reference's
    # size, all of it drawn, stands for any.
    reference = s.replace(cardholders=REFERENCE_CITIZENS, sample=1.0, seed=0, shards=1)
    columns = draw_columns(reference, np.full(s.city.districts, 1.0 / s.city.districts))
    opening = opening_balances(reference, columns, np.arange(len(columns["home"]))).astype(np.float64)
    after, loads = pay_days(
        reference, stream(0, "recharge/reference"), columns, opening, REFERENCE_DAYS, tally=tally
    )
    holder_days = len(opening) * REFERENCE_DAYS
    return Habit(
        loads / holder_days,
        float(after.mean()),
        tuple(_kind(k, rates, prices, tally, holder_days) for k in HABIT_KINDS),
    )


def _kind(
    name: str, rates: dict[str, float], prices: dict[str, float], t: HabitTally, days: int
) -> KindFigures:
    i = HABIT_KINDS.index(name)
    return KindFigures(
        name,
        rates[name],
        rates[name] * prices[name],
        float(t.attempts[i]) / days,
        float(t.attempts[i] - t.refused[i]) / days,
        float(t.refused[i]) / days,
        float(t.attempted_fen[i]) / days,
        float(t.paid_fen[i]) / days,
    )
