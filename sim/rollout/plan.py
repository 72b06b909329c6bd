"""The plan's side of a rollout month: cards issued, outlets and terminals in place, sectors on.

Issuance is applications, then a production queue at the windows. Applications follow a
generalised Bass diffusion (`sim.rollout.adoption`): the eligible persons of the current phase
who have not applied apply at a hazard that grows with those who carry the card, with
acceptance (terminals in place against the city's fleet) and with publicity. The service
windows make at most windows x cards per window per day x working days cards a month, first
come first served; applications beyond that wait in the backlog A - N for the next month, and
the backlog's wait is Little's law: backlog / the windows' daily output. So applied >= issued
always, and a month is limited either by the windows (a backlog remains) or by demand. Bulk
batches (a city's civil servants) apply and are issued at once, outside the window queue.

Recharge points, terminals and windows are planned linearly between the milestones; what is in
place follows the plan only as fast as the installation crews and the year's capital allow
(`sim.rollout.install`), so a milestone becomes a figure the plan can miss. All functions here
are pure.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from scenarios.months import month_range
from scenarios.rollout_schema import SECTORS, Milestone, RolloutScenario
from sim.rollout.adoption import acceptance_share, applications, fleet_of, hazard, publicity_stock
from sim.rollout.install import LIMIT_PLAN, install_month


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
    recharge_points_limited_by: str = LIMIT_PLAN  # what held them back this month: plan, crews, capital
    terminals_limited_by: str = LIMIT_PLAN
    acceptance_share: float = 1.0  # terminals in place / the city's fleet (at most 1)
    publicity_fen: float = 0.0  # the publicity stock working this month
    capital_spent_fen: int = 0  # the operator's capital spent on points and own terminals this month


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


def _publicity_by_month(s: RolloutScenario) -> dict[str, int]:
    out: dict[str, int] = {}
    for sp in s.spend:
        if sp.what.strip().lower().startswith("publicity"):
            out[sp.month] = out.get(sp.month, 0) + sp.amount_fen
    return out


def plan_months(s: RolloutScenario) -> list[MonthPlan]:
    """Every month of the span, in order."""
    a, d = s.adoption, s.deployment
    batches: dict[str, int] = {}
    for b in s.batch:
        batches[b.month] = batches.get(b.month, 0) + b.cards
    publicity = _publicity_by_month(s)
    phases = sorted(s.phase, key=lambda p: p.start_month)
    fleet = fleet_of(s)
    out = []
    holders = applied = a.initial_cardholders
    points = terminals = 0
    stock = 0.0
    capital_left: int | None = None
    for month in month_range(s.rollout.start_month, s.rollout.end_month):
        phase = next(p for p in phases if p.start_month <= month <= p.end_month)
        points_plan, terminals_plan, windows = deployed(s.milestone, s.rollout.start_month, month)
        points_plan = round(points_plan * d.recharge_points_factor)
        terminals_plan = round(terminals_plan * d.terminals_factor)
        if s.finance.capital_fen_per_year and (capital_left is None or month.endswith("-01")):
            capital_left = s.finance.capital_fen_per_year  # a new calendar year's capital
        put = install_month(s, (points_plan, terminals_plan), (points, terminals), capital_left)
        points, terminals = put.recharge_points, put.terminals
        if capital_left is not None:
            capital_left -= put.capital_spent_fen
        windows = max(1, round(windows * d.service_windows_factor))
        per_day = math.floor(windows * a.cards_per_window_per_day)
        capacity = per_day * a.working_days_per_month
        eligible = phase.eligible_persons
        stock = publicity_stock(stock, publicity.get(month, 0), a.publicity_kept_per_month)
        acceptance = acceptance_share(terminals, fleet)
        new = applications(applied, eligible, hazard(a, holders, eligible, acceptance, stock))
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
                recharge_points_limited_by=put.recharge_points_limited_by,
                terminals_limited_by=put.terminals_limited_by,
                acceptance_share=acceptance,
                publicity_fen=stock,
                capital_spent_fen=put.capital_spent_fen,
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
