"""Spending per cardholder-day: the scenario's inputs are payments tried; the habit's chain
predicts what is paid; a real day measures it, and the report sets the three side by side."""

from __future__ import annotations

import dataclasses
import math

import pytest

from scenarios.schema import load
from sim.city.steady import habit
from sim.day.shards import run_day
from sim.day.spending import SPENDING_COLUMNS, measured, spending_line, spending_table

DEFAULT = load()


def test_the_inputs_at_list_prices_are_the_scenarios_arithmetic() -> None:
    h = habit(DEFAULT)
    # bus CNY 2 at 91%, 95% without a pass; taxi CNY 10 flag + 2 km at CNY 2; CNY 30 purchases
    assert h.kind("transit").input_fen == pytest.approx(1.3 * 0.95 * 182)
    assert h.kind("taxi").input_fen == pytest.approx(0.014 * 1400)
    assert h.kind("retail").input_fen == pytest.approx(0.05 * 3000)
    assert h.input_spend_fen == pytest.approx(394.37)


def test_the_habit_pays_less_than_the_inputs_because_purses_are_small() -> None:
    h = habit(DEFAULT)
    shop, transit = h.kind("retail"), h.kind("transit")
    # Tried as the scenario says (a Poisson count over 100,000 cardholder-days: within 3 sd).
    assert shop.attempts_per_day == pytest.approx(0.05, abs=3 * math.sqrt(0.05 / 100_000))
    # A fare never exceeds a purse the habit keeps above CNY 5: no transit payment is refused.
    assert transit.refused_per_day == 0.0 and transit.paid_per_day == transit.attempts_per_day
    # Concessions (students and the elderly at half fare) take transit below its list price.
    assert transit.paid_fen == pytest.approx(207.36, abs=0.5)
    # A third of the CNY 30 purchases meet a purse of less, and the big ones go: two thirds of
    # the purchases pay a third of their input money.
    assert shop.paid_per_day / shop.attempts_per_day == pytest.approx(0.661, abs=0.01)
    assert shop.paid_fen == pytest.approx(52.2, abs=0.5)
    assert h.spend_fen == pytest.approx(276.4, abs=1.0)
    assert h.refused_per_day == pytest.approx(0.0186, abs=0.0005)
    # The steady state: the day's loads (CNY 50 each) pay for its spending, within 1%.
    topup = DEFAULT.population.topup_amount_fen
    assert h.topups_per_cardholder_day * topup == pytest.approx(h.spend_fen, rel=0.01)
    # The float per cardholder: a purse between the threshold and threshold + top-up.
    assert 500 < h.balance_fen_mean < 5500 and h.balance_fen_mean == pytest.approx(3859, abs=5)


def test_a_bigger_purse_realises_the_inputs() -> None:
    # Top-ups of CNY 500 and a CNY 100 threshold: few purchases meet a purse smaller than them.
    population = dataclasses.replace(DEFAULT.population, topup_amount_fen=50_000, topup_threshold_fen=10_000)
    big = DEFAULT.replace(population=population)
    shop = habit(big).kind("retail")
    assert shop.paid_per_day / shop.attempts_per_day > 0.99
    assert shop.paid_fen == pytest.approx(shop.input_fen, rel=0.05)


@pytest.fixture(scope="module")
def day():  # type: ignore[no-untyped-def]
    return run_day(DEFAULT.replace(clearing="inbox"))  # 10,050 citizens, sample 0.005


def test_the_day_measures_what_the_habit_predicts(day) -> None:  # type: ignore[no-untyped-def]
    h = habit(DEFAULT)
    got = measured(day)
    n = day.citizens
    shop_tried, shop_paid, shop_fen = got["retail"]
    assert shop_paid is not None
    # Tried as the input says, within 3.5 sd of a Poisson count over the day's citizens.
    assert shop_tried == pytest.approx(0.05, abs=3.5 * math.sqrt(0.05 / n))
    # Paid as the habit predicts: the share paid, and the money, within the day's noise.
    predicted = h.kind("retail")
    assert shop_paid / shop_tried == pytest.approx(
        predicted.paid_per_day / predicted.attempts_per_day, abs=0.05
    )
    assert shop_fen == pytest.approx(predicted.paid_fen, rel=0.15)
    # All spending within 5% (transfers, metro fares by distance and drawn taxi rides are the
    # twin's, not the chain's), and 27% under the inputs at list prices.
    total = sum(fen for _t, _p, fen in got.values())
    assert total == pytest.approx(h.spend_fen, rel=0.05)
    assert total / h.input_spend_fen == pytest.approx(0.73, abs=0.03)
    # The refusals the day counts: the habit's rate within the day's noise.
    refused = day.metrics.rejected["insufficient_balance"] / n
    assert refused == pytest.approx(h.refused_per_day, abs=4 * math.sqrt(h.refused_per_day / n))


def test_the_report_sets_input_prediction_and_measure_side_by_side(day) -> None:  # type: ignore[no-untyped-def]
    columns, rows = spending_table(day)
    assert columns == SPENDING_COLUMNS
    by_kind = {r[0]: dict(zip(columns, r, strict=True)) for r in rows}
    assert list(by_kind) == ["transit", "taxi", "retail", "all"]
    shop = by_kind["retail"]
    tried, paid, _fen = measured(day)["retail"]
    assert shop["input_per_day"] == 0.05 and shop["input_fen_per_day"] == 150.0
    assert shop["measured_tried_per_day"] == round(tried, 5) and shop["measured_paid_per_day"] == round(
        paid or 0, 5
    )
    assert shop["measured_not_paid_per_day"] == round(tried - (paid or 0), 5)
    assert shop["predicted_paid_fen_per_day"] == round(habit(DEFAULT).kind("retail").paid_fen, 5)
    assert by_kind["transit"]["measured_paid_per_day"] is None  # boardings, not payments
    everything = by_kind["all"]
    assert everything["input_fen_per_day"] == 394.37
    assert everything["measured_paid_fen_per_day"] == pytest.approx(
        sum(by_kind[k]["measured_paid_fen_per_day"] for k in ("transit", "taxi", "retail")), abs=1e-4
    )
    line = spending_line(day)
    assert "input CNY 3.94" in line and "predicted CNY 2.76" in line and "shop purchases tried 0.050" in line
