"""Deployment as a process that can fail: crews and capital between the plan and what is in place.

The milestones say how many recharge points and terminals the plan wants by each month. What is
in place at a month's end is that, at most:

- what the installation crews can open in a month (`install_*_per_month`, 0: no limit), and
- what the operator's capital for the calendar year still pays for (`capital_fen_per_year`,
  0: no limit), at the scenario's unit costs. Recharge points are paid first (a card without
  top-up places is unusable), then the operator's own terminals. Terminals a third-party
  acquirer deploys ("whoever acquires invests", `acquirer_terminal_share`) are paid by it and
  take none of the operator's capital.

Each count says what held it back this month: "plan" (the milestones themselves), "crews" or
"capital". Closing is not modelled. Pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scenarios.rollout_schema import RolloutScenario

LIMIT_PLAN = "plan"
LIMIT_CREWS = "crews"
LIMIT_CAPITAL = "capital"


@dataclass(frozen=True, slots=True)
class Installed:
    recharge_points: int
    terminals: int
    recharge_points_limited_by: str
    terminals_limited_by: str
    capital_spent_fen: int  # the operator's capital spent this month on points and own terminals


def by_crews(planned: int, before: int, per_month: int, factor: float) -> tuple[int, str]:
    """What the crews have in place at month end: the plan's count, at most `per_month` x
    `factor` more than the month before (0 per month: no limit)."""
    if per_month == 0 or planned <= before + math.floor(per_month * factor):
        return max(before, planned), LIMIT_PLAN
    return before + math.floor(per_month * factor), LIMIT_CREWS


def affordable(wanted: int, unit_fen: float, left_fen: int) -> int:
    """How many of `wanted` units at `unit_fen` each `left_fen` pays for (costs rounded to the fen)."""
    if unit_fen <= 0:
        return wanted
    # n x unit <= left, and left is whole fen, so the rounded cost stays within it too
    return max(0, min(wanted, math.floor(left_fen / unit_fen)))


def install_month(
    s: RolloutScenario,
    planned: tuple[int, int],
    before: tuple[int, int],
    capital_left_fen: int | None,
) -> Installed:
    """Recharge points and terminals in place at this month's end. `planned` and `before` are
    (points, terminals) the plan wants and those in place a month ago; `capital_left_fen` is
    what the year's capital still holds (None: no capital limit)."""
    d, f = s.deployment, s.finance
    factor = d.install_capacity_factor
    points, points_by = by_crews(planned[0], before[0], d.install_recharge_points_per_month, factor)
    terminals, terminals_by = by_crews(planned[1], before[1], d.install_terminals_per_month, factor)
    own_unit_fen = f.terminal_fen * (1 - f.acquirer_terminal_share)
    if capital_left_fen is None:
        spent = (points - before[0]) * f.recharge_point_fen + round((terminals - before[1]) * own_unit_fen)
        return Installed(points, terminals, points_by, terminals_by, spent)
    new_points = affordable(points - before[0], f.recharge_point_fen, capital_left_fen)
    if new_points < points - before[0]:
        points, points_by = before[0] + new_points, LIMIT_CAPITAL
    left = capital_left_fen - new_points * f.recharge_point_fen
    new_terminals = affordable(terminals - before[1], own_unit_fen, left)
    if new_terminals < terminals - before[1]:
        terminals, terminals_by = before[1] + new_terminals, LIMIT_CAPITAL
    spent = new_points * f.recharge_point_fen + round(new_terminals * own_unit_fen)
    assert 0 <= spent <= capital_left_fen, (spent, capital_left_fen)
    return Installed(points, terminals, points_by, terminals_by, spent)
