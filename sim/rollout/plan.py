"""The plan's side of a rollout month: cards issued, outlets and terminals in place, sectors on.

Issuance is applications, then a production queue at the windows. Applications follow a Bass
diffusion: of the M persons eligible in the current phase, those who have not applied (M - A)
apply at the monthly rate p + q N/M (p: people who act on their own, q: people who follow
those who already carry the card, N of them). The service windows make at most windows x
cards per window per day x working days cards a month, first come first served; applications
beyond that wait in the backlog A - N for the next month, and the backlog's wait is Little's
law: backlog / the windows' daily output. So applied >= issued always, and a month is
limited either by the windows (a backlog remains) or by demand. Bulk batches (a city's civil
servants) apply and are issued at once, outside the window queue.

Recharge points, terminals and windows are planned linearly between the milestones; when the
scenario gives installation capacities (crews per month), what is in place follows the plan
only as fast as the crews install, so a milestone becomes a figure the plan can miss (capital
per period is not a limit yet). All functions here are pure.
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
    applied: int  # cumulative applications (A >= cardholders)
    backlog: int  # applications waiting at the windows at month end
    backlog_wait_days: float  # working days a new application waits (backlog / daily output)
    service_windows: int
    recharge_points: int
    terminals: int
    terminals_by_kind: dict[str, int]
    sectors: tuple[str, ...]
    recharge_points_planned: int = 0  # the milestones' count (what the crews are asked for)
    terminals_planned: int = 0


def installed(planned: int, before: int, per_month: int, factor: float) -> int:
    """What the crews have in place at month end: the plan's count, at most `per_month` x
    `factor` more than the month before (0 per month: no limit). Closing is not modelled."""
    if per_month == 0:
        return planned
    return min(planned, before + math.floor(per_month * factor))


def bass_demand(cardholders: int, eligible: int, p: float, q: float) -> int:
    """New cards wanted this month by the eligible persons without one."""
    if eligible <= cardholders:
        return 0
    return math.floor((p + q * cardholders / eligible) * (eligible - cardholders))


def bass_applications(applied: int, cardholders: int, eligible: int, p: float, q: float) -> int:
    """New applications this month from the eligible persons who have not applied; imitation
    follows the cards people carry (N), not the applications waiting."""
    if eligible <= applied:
        return 0
    return math.floor((p + q * cardholders / eligible) * (eligible - applied))


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
    holders = applied = a.initial_cardholders
    points = terminals = 0
    d = s.deployment
    for month in month_range(s.rollout.start_month, s.rollout.end_month):
        phase = next(p for p in phases if p.start_month <= month <= p.end_month)
        points_plan, terminals_plan, windows = deployed(s.milestone, s.rollout.start_month, month)
        points_plan = round(points_plan * d.recharge_points_factor)
        terminals_plan = round(terminals_plan * d.terminals_factor)
        f = d.install_capacity_factor
        points = installed(points_plan, points, d.install_recharge_points_per_month, f)
        terminals = installed(terminals_plan, terminals, d.install_terminals_per_month, f)
        windows = max(1, round(windows * d.service_windows_factor))
        per_day = math.floor(windows * a.cards_per_window_per_day)
        capacity = per_day * a.working_days_per_month
        eligible = phase.eligible_persons
        new = bass_applications(applied, holders, eligible, a.innovation_p, a.imitation_q)
        bulk = min(batches.get(month, 0), max(0, eligible - applied - new))
        queue = applied + new - holders  # applications at the windows this month
        served = min(queue, capacity)
        applied += new + bulk
        holders += served + bulk
        backlog = applied - holders
        assert backlog >= 0 and holders <= applied, (month, holders, applied)
        out.append(
            MonthPlan(
                month=month,
                phase=phase.name,
                cardholders=holders,
                issued=served + bulk,
                limited_by="windows" if queue > capacity else "demand",
                applied=applied,
                backlog=backlog,
                backlog_wait_days=backlog / per_day if per_day else math.inf,
                service_windows=windows,
                recharge_points=points,
                terminals=terminals,
                terminals_by_kind=terminal_kinds(s, terminals),
                sectors=phase.sectors,
                recharge_points_planned=points_plan,
                terminals_planned=terminals_plan,
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
