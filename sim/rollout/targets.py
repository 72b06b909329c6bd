"""Targets against a rollout: which figures are plan inputs, which are predictions, and verdicts.

A target's figure is a *plan input* when the scenario sets it rather than the model computing
it: recharge points and terminals that follow the milestones month by month (no installation
capacity given, so no process of their own could fall short), and a cardholder target the plan's bulk batches
already reach by its due month is the batches restated. Such a target is reported as
"plan input" with the plan's figure and never as met: a verdict that restates an input is not
a verdict. Every other target is a prediction: "met" inside its range (low <= actual <= high),
"above range" over its top, "missed" under its low.
"""

from __future__ import annotations

import math

from scenarios.rollout_schema import RolloutScenario, TargetPlan
from sim.rollout.install import LIMIT_CAPITAL, LIMIT_PLAN
from sim.rollout.plan import plan_months
from sim.rollout.result import (
    KPI_MONEY_PER_YEAR,
    SOURCE_PLAN_INPUT,
    SOURCE_PREDICTION,
    MonthRow,
    Target,
    TargetCheck,
)
from sim.rollout.tables import money_text

VERDICT_MET = "met"
VERDICT_MISSED = "missed"
VERDICT_ABOVE = "above range"
VERDICT_PLAN_INPUT = "plan input"
VERDICTS = (VERDICT_MET, VERDICT_MISSED, VERDICT_ABOVE, VERDICT_PLAN_INPUT)
# KPIs the milestones set month by month (sim.rollout.plan.deployed interpolates them).
KPI_MILESTONE = ("recharge_points", "terminals")


def _crews(s: RolloutScenario, kpi: str) -> int:
    d = s.deployment
    return d.install_recharge_points_per_month if kpi == "recharge_points" else d.install_terminals_per_month


def plan_input_reason(s: RolloutScenario, t: TargetPlan) -> str:
    """Why target `t`'s figure is a plan input, or "" when the model predicts it."""
    if t.kpi in KPI_MILESTONE and _crews(s, t.kpi) == 0 and s.finance.capital_fen_per_year == 0:
        return (
            f"{t.kpi.replace('_', ' ')} follow the plan's milestones: no installation capacity or "
            "capital limit is given, so nothing can hold them back"
        )
    if t.kpi == "cardholders":
        batches = sum(b.cards for b in s.batch if b.month <= t.due_month)
        if batches >= t.low:
            return f"the plan's bulk batches alone issue {batches:,} cards by {t.due_month}"
    return ""


def verdict_of(actual: int, low: int, high: int | None) -> str:
    """A predicted figure against its range."""
    if actual < low:
        return VERDICT_MISSED
    if high is not None and actual > high:
        return VERDICT_ABOVE
    return VERDICT_MET


def miss_reason(s: RolloutScenario, t: TargetPlan, actual: int) -> str:
    """What held a missed deployment target back: the crews, the year's capital, or the plan's
    own milestones (the latest month to its due month in which one of them bound)."""
    if t.kpi not in KPI_MILESTONE:
        return ""
    plans = [p for p in plan_months(s) if p.month <= t.due_month]
    planned = getattr(plans[-1], f"{t.kpi}_planned")
    if planned <= actual:
        return f"the plan's own milestones reach only {planned:,} by {t.due_month}"
    what = t.kpi.replace("_", " ")
    bound = [p for p in plans if getattr(p, f"{t.kpi}_limited_by") != LIMIT_PLAN]
    short = f"{planned - actual:,} of the plan's {planned:,} {what} by {t.due_month} are not in place"
    if bound and getattr(bound[-1], f"{t.kpi}_limited_by") == LIMIT_CAPITAL:
        year = bound[-1].month[:4]
        return (
            f"capital: the operator's {money_text(s.finance.capital_fen_per_year)} a year for outlets and "
            f"terminals was spent in {year} (market unit costs, ASSUMPTION); {short}"
        )
    per_month = math.floor(_crews(s, t.kpi) * s.deployment.install_capacity_factor)
    return f"installation capacity: the crews install {per_month:,} {what} a month, {short}"


def _actual(t: TargetPlan, rows: list[MonthRow]) -> int:
    if t.kpi in KPI_MONEY_PER_YEAR:
        year = [r for r in rows if r.month[:4] == t.due_month[:4] and r.month <= t.due_month]
        return int(sum(getattr(r, t.kpi) for r in year))
    (row,) = (r for r in rows if r.month == t.due_month)
    return int(getattr(row, t.kpi))


def check_targets(s: RolloutScenario, rows: list[MonthRow]) -> list[TargetCheck]:
    """Every target due inside the rows' span, with its source and verdict (one run: no P(met))."""
    assert rows, "a rollout has at least one month"
    out = []
    for t in s.target:
        if t.due_month > rows[-1].month:
            continue  # due after the span (shortened by an override): the notes say so
        target = Target(t.kpi, t.due_month, t.low, t.high, t.source)
        actual = _actual(t, rows)
        reason = plan_input_reason(s, t)
        if reason:
            check = TargetCheck(
                target, actual, False, actual - t.low, SOURCE_PLAN_INPUT, VERDICT_PLAN_INPUT, why=reason
            )
        else:
            verdict = verdict_of(actual, t.low, t.high)
            why = miss_reason(s, t, actual) if verdict == VERDICT_MISSED else ""
            check = TargetCheck(
                target, actual, verdict == VERDICT_MET, actual - t.low, SOURCE_PREDICTION, verdict, why=why
            )
        out.append(check)
    return out
