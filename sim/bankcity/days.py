"""A bank-card city's day as the rollout engine reads one (`sim.rollout.engine.Represent`), so
the e-purse rollout's months, money, targets, flows and the dashboard run a bank-card plan on
the bank card world: each representative month runs `sim.bankcity.day.run_day` and its tallies
become per-cardholder figures.

Read as the engine's: taps by the plan's sectors; purchases (every payment); the fees the plan's
operator shares with the acquirer (the third-party acquirer's and its partner's, the plan's
`acquirer_fee_share` of "those terminals' fees"); the float (EC money on the cards at the day's
end); the T+1 positions by party (`issuer:ICBC`, `switch`, `acquirer:third-party`, ...;
+ receives); the waits at the load points. The day simulates `sample` x the month's cardholders,
at least 10 and at most the city's own `run.cardholders_simulated` (a bank card payment runs
RSA and 3DES: a dashboard run stays within a few seconds a day).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from scenarios.bank_schema import BankCity
from scenarios.rollout_schema import RolloutScenario
from sim.bankcity.day import run_day
from sim.bankcity.rollout import acceptance_of
from sim.rollout.days import DayFigures
from sim.rollout.plan import MonthPlan


@dataclass(frozen=True, slots=True)
class BankDays:
    """The representative day of a bank-card city's rollout month (picklable: a sweep's worker
    may run it)."""

    city: BankCity

    def __call__(self, s: RolloutScenario, plan: MonthPlan, sample: float, seed: int) -> DayFigures:
        del s  # the plan is the city's own (`BankCity.plan_scenario`)
        c = self.city
        holders = min(c.run.cardholders_simulated, max(10, round(sample * plan.cardholders)))
        city = dataclasses.replace(c, run=dataclasses.replace(c.run, cardholders_simulated=holders))
        day = run_day(city, plan.month, plan.sectors, acceptance_of(city, plan), seed)
        if day.violations:
            raise AssertionError(f"bank-card day {plan.month} seed {seed}: {day.violations[0]}")
        n = day.holders
        shared = (f"acquirer:{c.acquirer.name}", f"partner:{c.acquirer.partner}")
        return DayFigures(
            month=plan.month,
            citizens=n,
            taps_per_holder={sector: count / n for sector, count in sorted(day.tx_by_sector.items())},
            purchases_fen_per_holder=sum(day.fen_by_channel.values()) / n,
            fees_fen_per_holder=sum(day.fees_fen.get(p, 0) for p in shared) / n,
            float_fen_per_holder=day.ec_float_fen / n,
            positions_fen_per_holder={p: -v / n for p, v in sorted(day.settlement_fen.items()) if v},
            recharge_wait_s_mean=day.wait_s_mean_by_till.get("load", 0.0),
            recharge_wait_s_p95=day.wait_s_p95_by_till.get("load", 0.0),
            window_wait_s_mean=0.0,
            wall_s=day.wall_s,
        )
