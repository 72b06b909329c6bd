"""The plan's spending and float per cardholder set beside the twin's prediction of them.

The framework's `spend_fen_per_cardholder_per_month` and `balance_fen_per_cardholder` are
plan inputs (a [PLAN] spending target over cardholders; an assumed purse). The twin predicts
both for the day scenario the framework names (`[spending] twin_day`): what its cardholders pay
in the steady state of their top-up habit, and what their purses hold on average
(`sim.city.steady`). The report shows input, prediction and gap, the float and fees the gap
moves, and the `--set` that plans with the twin's figures instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scenarios.framework_schema import FrameworkScenario
from scenarios.schema import load
from sim.city.steady import Habit, habit
from sim.operator.engine import FrameworkRun

DAYS_PER_MONTH = 365 / 12


@dataclass(frozen=True, slots=True)
class TwinCheck:
    day: str  # the day scenario's source
    spend_input_fen_per_month: int
    spend_fen_per_month: int  # predicted: the twin's cardholders pay this
    listed_fen_per_month: int  # the day scenario's own rates at list prices (what its inputs say)
    balance_input_fen: int
    balance_fen: int  # predicted: a purse's mean in the twin's steady state

    @property
    def spend_gap_share(self) -> float:
        return (
            self.spend_fen_per_month / self.spend_input_fen_per_month - 1
            if self.spend_input_fen_per_month
            else 0.0
        )

    @property
    def balance_gap_share(self) -> float:
        return self.balance_fen / self.balance_input_fen - 1 if self.balance_input_fen else 0.0


def twin_check(s: FrameworkScenario) -> TwinCheck | None:
    if s.twin_day is None:
        return None
    h: Habit = habit(load(s.twin_day))
    try:
        shown = str(s.twin_day.relative_to(Path.cwd()))
    except ValueError:
        shown = str(s.twin_day)
    return TwinCheck(
        shown,
        s.i("spending.spend_fen_per_cardholder_per_month"),
        round(h.spend_fen * DAYS_PER_MONTH),
        round(h.input_spend_fen * DAYS_PER_MONTH),
        s.i("spending.balance_fen_per_cardholder"),
        round(h.balance_fen_mean),
    )


def twin_lines(s: FrameworkScenario, run: FrameworkRun) -> list[str]:
    c = twin_check(s)
    if c is None:
        return []
    last = run.months[-1]
    float_twin = last.cardholders * (c.balance_fen + s.i("spending.deposit_fen"))
    fees = sum(r.revenue_fen["fees"] for r in run.months)
    return [
        f"spending and float per cardholder: plan inputs against the twin's prediction ({c.day}, "
        "steady-state top-up habit):",
        f"  spending a month: input CNY {c.spend_input_fen_per_month / 100:.2f}, predicted CNY "
        f"{c.spend_fen_per_month / 100:.2f} ({c.spend_gap_share:+.1%}); the day's own rates at list prices "
        f"say CNY {c.listed_fen_per_month / 100:.2f} (concessions and refused purchases make the difference)",
        f"  purse balance: input CNY {c.balance_input_fen / 100:.2f}, "
        f"predicted CNY {c.balance_fen / 100:.2f} ({c.balance_gap_share:+.1%}): "
        f"the float at the end, CNY {last.float_fen / 1e8:,.1f}M, would be "
        f"CNY {float_twin / 1e8:,.1f}M; fees over the run, CNY {fees / 1e8:,.1f}M, would be "
        f"CNY {fees * (1 + c.spend_gap_share) / 1e8:,.1f}M",
        f"  to plan with the twin's figures: --set spending.spend_fen_per_cardholder_per_month="
        f"{c.spend_fen_per_month} --set spending.balance_fen_per_cardholder={c.balance_fen}",
    ]
