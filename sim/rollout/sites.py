"""Where a rollout's outlets go, the map to draw them on, and the money flows it settled.

Recharge points are placed on the city's residential walking grid by `sim.placement.deploy`: month
by month the planner opens the month's new points where they cover the most residents not yet
within `walk_m` (the greedy max-coverage plan), or by a baseline ("uniform" by district
population, "random") when the scenario asks for one, so `coverage_share` is the share of
residents within walking distance along the streets. Service windows sit at district
centres, shared out by population. Flows are the months' own money over any period: the
loading channels pay the reserve the loads, the reserve pays the accepting participants the
spending less fees and the operator the fees (less a third-party acquirer's share).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scenarios.rollout_schema import RolloutScenario
from sim.placement import CityMap, Site
from sim.placement import deploy as placement
from sim.rollout.plan import MonthPlan
from sim.rollout.result import Flow, MonthRow


@dataclass(frozen=True, slots=True)
class Layout:
    sites: tuple[Site, ...]
    coverage: dict[str, float]  # month -> share of residents within walking distance
    city: CityMap


def _windows(plans: Sequence[MonthPlan], district_share: np.ndarray) -> list[Site]:
    out: list[Site] = []
    held = [0] * len(district_share)
    for p in plans:
        now = placement.share_out(p.service_windows, district_share)
        out += [
            Site(f"district-{d}", "service_window", b - a, p.month)
            for d, (a, b) in enumerate(zip(held, now, strict=True))
            if b > a
        ]
        held = [max(a, b) for a, b in zip(held, now, strict=True)]
    return out


def lay_out(s: RolloutScenario, plans: Sequence[MonthPlan]) -> Layout:
    """Place every month's recharge points and windows; coverage month by month."""
    d = s.deployment
    residents = max(p.eligible_persons for p in s.phase)
    geo = placement.geography(s.day_scenario, residents=residents, walk_m=d.walk_m, area_km2=d.urban_area_km2)
    sites: list[Site] = []
    coverage: dict[str, float] = {}
    if d.placement == "greedy":
        planner = placement.Planner(geo, max_per_site=d.points_per_site_max)
        for p in plans:
            added: dict[int, int] = {}
            for cell in planner.add(max(0, p.recharge_points - planner.points)):
                added[cell] = added.get(cell, 0) + 1
            sites += [
                Site(placement.node_name(c), "recharge_point", n, p.month) for c, n in sorted(added.items())
            ]
            coverage[p.month] = placement.coverage(geo, planner.plan)
    else:
        held: dict[int, int] = {}
        for p in plans:
            now = placement.baseline(
                geo, p.recharge_points, d.placement, s.rollout.seed, max_per_site=d.points_per_site_max
            )
            for cell, n in sorted(now.items()):
                if n > held.get(cell, 0):
                    sites.append(
                        Site(placement.node_name(cell), "recharge_point", n - held.get(cell, 0), p.month)
                    )
                    held[cell] = n
            coverage[p.month] = placement.coverage(geo, held)
    sites += _windows(plans, geo.city.district_share)
    return Layout(tuple(sites), coverage, placement.city_map(geo))


def flows_of(rows: Sequence[MonthRow], gross_fees_fen: int, acquirer_fen: int) -> tuple[Flow, ...]:
    """Who paid whom over `rows` (any period: one month, a year, the run), from the months' money.

    Each month the load channels pay the reserve that month's `loads_fen`; the reserve pays the
    accepting participants (transport companies, merchants) the month's `card_spending_fen` less
    the gross fees, and the operator the gross fees, of which the operator passes the acquirer
    its share. So over any period the flows into the reserve are the loads, those out of it the
    spending, the reserve keeps loads - spending (the float's growth), and every position,
    the reserve's included, nets to zero. The month's T+1 positions only say *who* pays and
    receives (their shares of the month's amounts), not how much: a representative day's
    positions, scaled to a month, are not the month's loads and spending.
    `gross_fees_fen` and `acquirer_fen` are the run's totals; only their ratio is used here.
    """
    share = acquirer_fen / gross_fees_fen if gross_fees_fen else 0.0
    assert 0.0 <= share < 1.0, (acquirer_fen, gross_fees_fen)
    totals: dict[tuple[str, str], int] = {}

    def pay(payer: str, payee: str, amount: int) -> None:
        if amount < 0:
            payer, payee, amount = payee, payer, -amount
        if amount:
            totals[(payer, payee)] = totals.get((payer, payee), 0) + amount

    for row in rows:
        positions = row.settlement_fen_by_participant
        payers = {k: -v for k, v in positions.items() if v < 0 and k != OPERATOR}
        payees = {k: v for k, v in positions.items() if v > 0 and k != OPERATOR}
        acquirer = round(row.fees_fen * share / (1.0 - share))
        gross = row.fees_fen + acquirer
        for payer, amount in _shares(row.loads_fen, payers or {UNNAMED_LOADS: 1}).items():
            pay(payer, RESERVE, amount)
        for payee, amount in _shares(row.card_spending_fen - gross, payees or {UNNAMED_SPENDING: 1}).items():
            pay(RESERVE, payee, amount)
        pay(RESERVE, OPERATOR, gross)
        pay(OPERATOR, ACQUIRER, acquirer)
    return tuple(Flow(a, b, v) for (a, b), v in sorted(totals.items()))


RESERVE, OPERATOR, ACQUIRER = "reserve", "operator", "acquirer"
UNNAMED_LOADS, UNNAMED_SPENDING = "load channels", "accepting participants"  # no position named one


def _shares(total: int, weights: dict[str, int]) -> dict[str, int]:
    """`total` split in proportion to `weights`, in whole fen that add up to `total` exactly
    (largest remainders get the odd fen)."""
    weight = sum(weights.values())
    exact = {k: total * w / weight for k, w in weights.items()}
    out = {k: int(v // 1) for k, v in exact.items()}
    rest = total - sum(out.values())
    for k in sorted(exact, key=lambda k: exact[k] - out[k], reverse=True)[:rest]:
        out[k] += 1
    return out
