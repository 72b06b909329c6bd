"""Adoption that responds to acceptance and publicity; deployment that crews and capital hold back."""

from __future__ import annotations

import dataclasses

import pytest

from scenarios.rollout_loader import load_rollout
from scenarios.rollout_schema import Adoption, Spend
from sim.rollout.adoption import acceptance_share, applications, fleet_of, hazard, publicity_stock
from sim.rollout.install import LIMIT_CAPITAL, LIMIT_CREWS, LIMIT_PLAN, affordable, by_crews
from sim.rollout.plan import bass_applications, plan_months
from sim.rollout.targets import miss_reason


def test_hazard_is_plain_bass_without_acceptance_or_publicity() -> None:
    a = Adoption(innovation_p=0.02, imitation_q=0.12, acceptance_weight=0.0)
    h = hazard(a, 50_000, 1_000_000, acceptance=0.1, publicity_fen=1e9)  # k = 0: publicity ignored
    assert h == pytest.approx(0.02 + 0.12 * 0.05)
    assert applications(100_000, 1_000_000, h) == bass_applications(100_000, 50_000, 1_000_000, 0.02, 0.12)


def test_hazard_scales_with_acceptance_and_publicity() -> None:
    a = Adoption(innovation_p=0.02, imitation_q=0.12, acceptance_weight=0.5)
    full = hazard(a, 0, 1_000_000, acceptance=1.0, publicity_fen=0.0)
    none = hazard(a, 0, 1_000_000, acceptance=0.0, publicity_fen=0.0)
    assert full == pytest.approx(0.02) and none == pytest.approx(0.01)  # x = (1 - w) + w a
    pub = dataclasses.replace(a, publicity_p_per_cny_per_person=0.01)
    # CNY 1,000,000 of stock over 1M eligible persons: CNY 1 each, +0.01 innovation
    assert hazard(pub, 0, 1_000_000, 1.0, 100_000_000) == pytest.approx(0.03)
    assert publicity_stock(1000.0, 500, 0.7) == pytest.approx(1200.0)
    assert hazard(a, 0, 0, 1.0, 0.0) == 0.0 and applications(10, 10, 0.5) == 0


def test_acceptance_is_terminals_over_the_day_citys_fleet() -> None:
    s = load_rollout("hangzhou-2004-2009")
    assert fleet_of(s) == 5_000 + 8_364 + 0 + 900  # buses, taxis, no metro, merchants
    assert acceptance_share(10_500, fleet_of(s)) == pytest.approx(10_500 / 14_264)
    assert acceptance_share(20_000, 14_264) == 1.0 and acceptance_share(5, 0) == 1.0
    last = plan_months(s)[-1]
    assert last.acceptance_share == pytest.approx(10_500 / 14_264)


def test_fewer_terminals_slow_adoption_only_when_acceptance_counts() -> None:
    base = {"deployment.terminals_factor": 0.3}
    for w, slower in ((0.0, False), (0.8, True)):
        full = plan_months(load_rollout("one-card-plan-2005-2010", {"adoption.acceptance_weight": w}))
        thin = plan_months(load_rollout("one-card-plan-2005-2010", {**base, "adoption.acceptance_weight": w}))
        at = {p.month: p for p in full}["2007-12"].applied
        at_thin = {p.month: p for p in thin}["2007-12"].applied
        assert (at_thin < at * 0.95) is slower, (w, at, at_thin)


def test_publicity_spending_brings_applications_forward() -> None:
    s = load_rollout("one-card-plan-2005-2010", {"adoption.publicity_p_per_cny_per_person": 0.05})
    spend = Spend(month="2005-03", amount_fen=5_000_000_000, what="publicity campaign")  # CNY 50M
    with_spend = dataclasses.replace(s, spend=(*s.spend, spend))
    before = {p.month: p for p in plan_months(s)}
    after = {p.month: p for p in plan_months(with_spend)}
    assert after["2005-02"].applied == before["2005-02"].applied  # nothing before the campaign
    assert after["2005-06"].applied > before["2005-06"].applied * 1.2
    assert after["2005-03"].publicity_fen == 5_000_000_000
    assert after["2005-04"].publicity_fen == pytest.approx(
        5_000_000_000 * s.adoption.publicity_kept_per_month
    )


def test_crews_and_capital_limits() -> None:
    assert by_crews(100, 10, 0, 1.0) == (100, LIMIT_PLAN)
    assert by_crews(100, 10, 40, 1.0) == (50, LIMIT_CREWS)
    assert by_crews(30, 10, 40, 1.0) == (30, LIMIT_PLAN)
    assert affordable(10, 300.0, 1_000) == 3
    assert affordable(10, 333.4, 1_000) == 2  # a third would cost 1,000.2 fen
    assert affordable(10, 300.0, 0) == 0
    assert affordable(10, 0.0, 0) == 10


def test_a_small_capital_misses_the_deployment_targets_and_says_why() -> None:
    capital = 2_000_000_000  # CNY 20M a year
    s = load_rollout("one-card-plan-2005-2010", {"finance.capital_fen_per_year": capital})
    plans = plan_months(s)
    for year in sorted({p.month[:4] for p in plans}):
        spent = sum(p.capital_spent_fen for p in plans if p.month.startswith(year))
        assert 0 < spent <= capital, (year, spent)
    by = {p.month: p for p in plans}
    assert (
        by["2006-12"].recharge_points_limited_by == LIMIT_CAPITAL
        or by["2006-12"].terminals_limited_by == LIMIT_CAPITAL
    )
    target = next(t for t in s.target if t.kpi == "terminals" and t.due_month == "2006-12")
    actual = by["2006-12"].terminals
    assert actual < 6_000
    why = miss_reason(s, target, actual)
    assert why.startswith(
        "capital: the operator's CNY 20.0M a year for outlets and terminals was spent in 2006"
    )
    assert f"{6_000 - actual:,} of the plan's 6,000 terminals by 2006-12 are not in place" in why


def test_acquirer_funded_terminals_take_no_operator_capital() -> None:
    overrides = {"finance.capital_fen_per_year": 2_000_000_000, "finance.acquirer_terminal_share": 1.0}
    by = {p.month: p for p in plan_months(load_rollout("one-card-plan-2005-2010", overrides))}
    assert by["2006-12"].terminals_limited_by != LIMIT_CAPITAL
    assert by["2006-12"].terminals == 6_000
