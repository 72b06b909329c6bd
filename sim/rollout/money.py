"""The operator's money in a rollout month: investment, running costs, revenue and cash.

Investment: the platform spread evenly over its first months, each recharge point, terminal
and window when it opens, and one-off spends (publicity). Terminals a third-party acquirer
deploys ("whoever acquires invests") cost the operator nothing, and the acquirer keeps its
share of the fees they earn ("whoever invests benefits"). Revenue: the clearing fees the
twin's T+1 settlement charged, interest on the float (the e-purse balances the operator holds
in its reserve account), card sales and any assumed value-added service revenue. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from scenarios.rollout_schema import RolloutScenario
from sim.rollout.plan import MonthPlan

BP_PER_UNIT = 10_000
MONTHS_PER_YEAR = 12


@dataclass(frozen=True, slots=True)
class MonthMoney:
    investment_fen: int
    opex_fen: int
    fees_fen: int
    float_income_fen: int
    card_sales_fen: int
    service_revenue_fen: int

    @property
    def revenue_fen(self) -> int:
        return self.fees_fen + self.float_income_fen + self.card_sales_fen + self.service_revenue_fen


def month_money(
    s: RolloutScenario,
    index: int,
    plan: MonthPlan,
    before: MonthPlan | None,
    gross_fees_fen: int,
    float_fen: int,
    spends_fen: int,
) -> MonthMoney:
    """Money of month number `index` (0 = start_month); `before` is the previous month's plan."""
    f = s.finance
    own = 1 - f.acquirer_terminal_share
    opened = (
        plan.recharge_points - (before.recharge_points if before else 0),
        plan.terminals - (before.terminals if before else 0),
        plan.service_windows - (before.service_windows if before else 0),
    )
    platform = f.platform_fen // f.platform_months if index < f.platform_months else 0
    if index == f.platform_months - 1:
        platform += f.platform_fen % f.platform_months  # the remainder, so the total is exact
    investment = (
        platform
        + max(0, opened[0]) * f.recharge_point_fen
        + round(max(0, opened[1]) * own * f.terminal_fen)
        + max(0, opened[2]) * f.service_window_fen
        + spends_fen
    )
    opex = (
        f.platform_opex_fen_per_month
        + plan.recharge_points * f.recharge_point_opex_fen_per_month
        + round(plan.terminals * own * f.terminal_opex_fen_per_month)
        + plan.service_windows * f.service_window_opex_fen_per_month
        + plan.issued * f.card_cost_fen
    )
    acquirer_cut = round(gross_fees_fen * f.acquirer_terminal_share * f.acquirer_fee_share)
    return MonthMoney(
        investment_fen=investment,
        opex_fen=opex,
        fees_fen=gross_fees_fen - acquirer_cut,
        float_income_fen=round(float_fen * f.float_rate_bp / BP_PER_UNIT / MONTHS_PER_YEAR),
        card_sales_fen=plan.issued * f.card_price_fen,
        service_revenue_fen=plan.cardholders * f.service_revenue_fen_per_cardholder_per_month,
    )
