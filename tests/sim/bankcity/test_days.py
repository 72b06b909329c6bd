"""A bank-card plan's rollout months (the engine the dashboard plays) run on the bank card world:
each representative month's figures are its bank-card day's tallies per cardholder (the
dashboard's run of Huaibei: tests/dashboard/test_bank_participants.py)."""

from __future__ import annotations

import dataclasses

from scenarios.bank_schema import load_bank_city
from sim.bankcity.day import run_day
from sim.bankcity.days import BankDays
from sim.bankcity.rollout import acceptance_of
from sim.rollout.plan import plan_months


def test_a_representative_month_is_its_bank_card_day_per_cardholder() -> None:
    city = load_bank_city("huaibei-2011-2014")
    plan = next(p for p in plan_months(city.plan_scenario) if p.month == "2014-06")
    sample = 20 / plan.cardholders  # 20 cardholders simulated
    figures = BankDays(city)(city.plan_scenario, plan, sample, 11)
    small = dataclasses.replace(city, run=dataclasses.replace(city.run, cardholders_simulated=20))
    day = run_day(small, plan.month, plan.sectors, acceptance_of(small, plan), 11)
    assert figures.citizens == 20 and day.violations == ()
    assert figures.taps_per_holder == {k: v / 20 for k, v in sorted(day.tx_by_sector.items())}
    assert figures.purchases_fen_per_holder == sum(day.fen_by_channel.values()) / 20
    assert figures.float_fen_per_holder == day.ec_float_fen / 20
    assert figures.positions_fen_per_holder["switch"] == -day.settlement_fen["switch"] / 20 > 0
    shared = day.fees_fen["acquirer:third-party"] + day.fees_fen["partner:city-card"]
    assert figures.fees_fen_per_holder == shared / 20
    assert sum(round(v * 20) for v in figures.positions_fen_per_holder.values()) == 0  # net to zero
