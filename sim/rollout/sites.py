"""Where a rollout's outlets go, the map to draw them on, and the money flows it settled.

Recharge points are placed on the city's residential walking grid by `sim.placement.deploy`: month
by month the planner opens the month's new points where they cover the most residents not yet
within `walk_m` (the greedy max-coverage plan), or by a baseline ("uniform" by district
population, "random") when the scenario asks for one, so `coverage_share` is the share of
residents within walking distance along the streets. Service windows sit at district
centres, shared out by population. Flows are the T+1 positions summed over the rollout: the
reserve pays merchants' and operators' banks, the loading banks pay the reserve, the fees
stay with the operator (less a third-party acquirer's share).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scenarios.rollout_schema import RolloutScenario
from sim.placement import CityMap, Site
from sim.placement import deploy as placement
from sim.rollout.plan import MonthPlan
from sim.rollout.result import Flow


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


def flows_of(positions: dict[str, int], gross_fees_fen: int, acquirer_fen: int) -> tuple[Flow, ...]:
    out = []
    for participant, amount in sorted(positions.items()):
        if amount > 0:
            out.append(Flow("reserve", participant, amount))
        elif amount < 0:
            out.append(Flow(participant, "reserve", -amount))
    if gross_fees_fen:
        out.append(Flow("reserve", "operator", gross_fees_fen))
    if acquirer_fen:
        out.append(Flow("operator", "acquirer", acquirer_fen))
    return tuple(out)
