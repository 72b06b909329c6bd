"""The steady-state day: opening balances from a warm-up of the top-up habit, so that over a
week the cardholders load what they spend."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from scenarios.schema import load
from sim.city.balances import warm_balances
from sim.day import run_day

WEEK_SAMPLE = 0.001  # ~2,000 citizens: about 1,000 top-ups of CNY 50 a week, a 3% Poisson spread


def test_a_weeks_loads_equal_its_spending_within_five_percent() -> None:
    s = load("scenarios/default.toml")
    loads = purchases = 0
    for seed in range(1, 8):  # seven days, each opening in the steady state
        closing = run_day(s.replace(seed=seed, sample=WEEK_SAMPLE, shards=1)).closing()
        loads += closing.loads_fen
        purchases += closing.purchases_fen
    assert purchases > 3_000_000  # ~CNY 5,000 a day of spending by the sample
    assert loads == pytest.approx(purchases, rel=0.05)  # a gamma of mean CNY 30 gave 1.98x


def test_without_a_top_up_habit_the_scenarios_mean_balance_stands_in() -> None:
    s = load("scenarios/default.toml")
    s = dataclasses.replace(s, population=dataclasses.replace(s.population, topup_amount_fen=0))
    n = 20_000
    cols = {
        "card_type": np.ones(n, np.int8),
        "has_pass": np.zeros(n, bool),
        "trip_rate": np.full(n, 1.3),
        "taxi_rate": np.zeros(n),
        "merchant_rate": np.zeros(n),
    }
    out = warm_balances(s, np.random.default_rng(1), cols)
    assert out.mean() == pytest.approx(s.population.initial_balance_fen_mean, rel=0.03)


def test_the_warm_up_keeps_balances_in_the_habits_range() -> None:
    s = load("scenarios/default.toml")
    p = s.population
    n = 20_000
    cols = {
        "card_type": np.ones(n, np.int8),
        "has_pass": np.zeros(n, bool),
        "trip_rate": np.full(n, 1.3),
        "taxi_rate": np.zeros(n),
        "merchant_rate": np.zeros(n),
    }
    out = warm_balances(s, np.random.default_rng(1), cols)
    # bus-only spenders: a fare (CNY 1.82) is below the threshold, so no payment is refused and a
    # balance that falls under it is loaded at once
    assert out.min() >= p.topup_threshold_fen and out.max() <= p.topup_threshold_fen + p.topup_amount_fen
    # small fares against a CNY 50 load: the sawtooth's stationary law, uniform over one tooth
    assert out.mean() == pytest.approx(p.topup_threshold_fen + p.topup_amount_fen / 2, rel=0.03)
