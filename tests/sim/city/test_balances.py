"""The steady-state day: opening balances from a warm-up of the top-up habit, so that over a
week the cardholders load what they spend."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from scenarios.schema import Scenario, load
from sim.city.balances import EVENTS_PER_DAY_MAX, WARMUP_DAYS, _fares, pay_days, warm_balances
from sim.city.graph import build_city
from sim.city.population import draw_columns
from sim.day import run_day
from sim.rng import stream

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


def _whole_chain(
    s: Scenario, rng: np.random.Generator, columns: dict[str, np.ndarray]
) -> tuple[np.ndarray, int]:
    """The oracle: the warm-up as it ran before shards computed only their rows, every
    citizen's chain on whole arrays."""
    p, f = s.population, s.fares
    n = len(columns["card_type"])
    threshold, amount = p.topup_threshold_fen, p.topup_amount_fen
    fare = _fares(s, columns["card_type"], columns["has_pass"])
    taxi = f.taxi_flag_fen + f.taxi_per_km_fen * max(0.0, f.taxi_trip_km_mean - f.taxi_flag_km)
    rates = np.stack([columns["trip_rate"], columns["taxi_rate"], columns["merchant_rate"]]).astype(
        np.float64
    )
    per_day = rates.sum(axis=0)
    cut_transit = rates[0] / np.maximum(per_day, 1e-12)
    cut_taxi = (rates[0] + rates[1]) / np.maximum(per_day, 1e-12)
    balance = rng.uniform(threshold, threshold + amount, n)
    loads = 0
    for _ in range(WARMUP_DAYS):
        total = np.minimum(rng.poisson(per_day), EVENTS_PER_DAY_MAX)
        for k in range(int(total.max(initial=0))):
            paying = total > k
            u = rng.random(n)
            shop = rng.exponential(p.merchant_spend_fen_mean, n)
            price = np.where(u < cut_transit, fare, np.where(u < cut_taxi, taxi, shop))
            short = paying & (price > balance)
            balance = np.where(paying & ~short, balance - price, balance)
            low = short | (paying & (balance < threshold))
            loads += int(low.sum())
            balance = np.where(low, balance + amount, balance)
    return balance, loads


@pytest.mark.parametrize("shards", [1, 2, 3])
def test_a_shards_rows_get_the_whole_chains_balances_to_the_bit(shards: int) -> None:
    s = load("scenarios/default.toml").replace(sample=0.0005, seed=5)  # ~1,000 citizens
    columns = draw_columns(s, build_city(s).district_share)
    whole, loads = _whole_chain(s, stream(s.run.seed, "balances"), columns)
    n = len(whole)
    for shard in range(shards):
        rows = np.arange(shard, n, shards)
        mine = warm_balances(s, stream(s.run.seed, "balances"), columns, rows)
        assert mine.tobytes() == whole[rows].tobytes()
    assert len(np.unique(whole)) > n // 2  # the chains ran: balances differ between citizens
    rng = stream(s.run.seed, "balances")
    opening = rng.uniform(
        s.population.topup_threshold_fen, s.population.topup_threshold_fen + s.population.topup_amount_fen, n
    )
    after, counted = pay_days(s, rng, columns, opening, WARMUP_DAYS)
    assert after.tobytes() == whole.tobytes() and counted == loads > n  # the loads, counted alike
