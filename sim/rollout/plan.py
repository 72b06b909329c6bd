"""The plan's side of a rollout month: cards issued, outlets and terminals in place, sectors on.

Issuance follows a Bass diffusion: of the M persons eligible in the current phase, those
without a card want one at the monthly rate p + q N/M (p: people who act on their own,
q: people who follow those who already carry the card). The service windows can make only
windows x cards per window per day x working days cards a month; demand above that waits
(it stays in M - N for the next month), so a month is limited either by the windows or by
demand. Bulk batches (a city's civil servants) bypass the windows. Recharge points, terminals
and windows grow linearly between the plan's milestones. All functions here are pure.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from scenarios.months import month_range
from scenarios.rollout_schema import SECTORS, Milestone, RolloutScenario


@dataclass(frozen=True, slots=True)
class MonthPlan:
    """The plan's state at the end of one month (before any twin day is run)."""

    month: str
    phase: str
    cardholders: int
    issued: int
    limited_by: str
    service_windows: int
    recharge_points: int
    terminals: int
    terminals_by_kind: dict[str, int]
    sectors: tuple[str, ...]


def bass_demand(cardholders: int, eligible: int, p: float, q: float) -> int:
    """New cards wanted this month by the eligible persons without one."""
    if eligible <= cardholders:
        return 0
    return math.floor((p + q * cardholders / eligible) * (eligible - cardholders))


def _month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:]) - 1


def deployed(milestones: tuple[Milestone, ...], start_month: str, month: str) -> tuple[int, int, int]:
    """(recharge points, terminals, windows) in place at the end of `month`, linear between
    milestones, from zero in the month before the start (windows from the first milestone's)."""
    first = milestones[0]
    points: list[tuple[int, tuple[int, int, int]]] = [
        (_month_index(start_month) - 1, (0, 0, first.service_windows))
    ]
    points += [
        (_month_index(m.month), (m.recharge_points, m.terminals, m.service_windows)) for m in milestones
    ]
    points.sort(key=lambda x: x[0])
    at = _month_index(month)
    if at <= points[0][0]:
        return points[0][1]
    for (i0, v0), (i1, v1) in itertools.pairwise(points):
        if i0 <= at <= i1:
            f = (at - i0) / (i1 - i0) if i1 > i0 else 1.0
            r, t, w = (round(a + (b - a) * f) for a, b in zip(v0, v1, strict=True))
            return r, t, w
    return points[-1][1]


def terminal_kinds(s: RolloutScenario, terminals: int) -> dict[str, int]:
    d = s.deployment
    return {
        "bus": round(terminals * d.bus_share),
        "taxi": round(terminals * d.taxi_share),
        "gate": round(terminals * d.gate_share),
        "pos": round(terminals * d.pos_share),
    }


def plan_months(s: RolloutScenario) -> list[MonthPlan]:
    """Every month of the span, in order."""
    a = s.adoption
    batches: dict[str, int] = {}
    for b in s.batch:
        batches[b.month] = batches.get(b.month, 0) + b.cards
    phases = sorted(s.phase, key=lambda p: p.start_month)
    out = []
    holders = a.initial_cardholders
    for month in month_range(s.rollout.start_month, s.rollout.end_month):
        phase = next(p for p in phases if p.start_month <= month <= p.end_month)
        points, terminals, windows = deployed(s.milestone, s.rollout.start_month, month)
        d = s.deployment
        points, terminals = round(points * d.recharge_points_factor), round(terminals * d.terminals_factor)
        windows = max(1, round(windows * d.service_windows_factor))
        capacity = windows * a.cards_per_window_per_day * a.working_days_per_month
        wanted = bass_demand(holders, phase.eligible_persons, a.innovation_p, a.imitation_q)
        bulk = min(batches.get(month, 0), max(0, phase.eligible_persons - holders - min(wanted, capacity)))
        issued = min(wanted, capacity) + bulk
        holders += issued
        out.append(
            MonthPlan(
                month=month,
                phase=phase.name,
                cardholders=holders,
                issued=issued,
                limited_by="windows" if wanted > capacity else "demand",
                service_windows=windows,
                recharge_points=points,
                terminals=terminals,
                terminals_by_kind=terminal_kinds(s, terminals),
                sectors=phase.sectors,
            )
        )
    return out


def twin_sector_shares(s: RolloutScenario, sectors: tuple[str, ...]) -> dict[str, float]:
    """Share of each twin tap kind's full demand switched on: a kind's sectors share its demand
    equally (ASSUMPTION: the seeds give no split), counting the sectors the scenario ever uses."""
    used = {x for p in s.phase for x in p.sectors}
    out = {}
    for kind in ("bus", "metro", "taxi", "retail"):
        all_of_kind = [x for x in used if SECTORS[x] == kind]
        on = [x for x in sectors if SECTORS[x] == kind]
        out[kind] = len(on) / len(all_of_kind) if all_of_kind else 0.0
    return out
