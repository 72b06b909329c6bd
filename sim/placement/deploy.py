"""Where recharge points go: walking coverage on the city's residential grid, and plans.

The planner sees the city as residential cells on a street grid (`sim.city.graph.add_walk_grid`,
`sim.placement.geo`): walking distance runs along the streets, every cell is a candidate site,
and a resident is *covered* when a recharge point lies within `walk_m` of their cell.
Coverage is the covered share of residents.

`greedy` places points one at a time where they serve the most residents (`sim.placement.coverage`:
the max-coverage greedy, with a capacity per point and a limit of points per site), starting
from the sites already open; `deploy` does it month by month as a rollout opens points, and
places exactly what one greedy run of the final count would. The baselines to compare with:
"uniform" shares points out among districts by population and puts them in random cells of
each district (a plan by district quotas); "random" scatters them over the city. Queues at a
plan's points are in `sim.placement.waits`. Results are the rollout contract's `Site` and
`CityMap` (`sim.rollout.result`); a cell is the node "cell-N".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sim.placement.coverage import MAX_PER_SITE_DEFAULT, POINTS_MAX, Planner
from sim.placement.geo import (
    WALK_M_DEFAULT,
    Geography,
    PlacementError,
    Plan,
    cell_of,
    check_plan,
    coverage,
    geography,
    nearest_sites,
    node_name,
    share_out,
)
from sim.placement.sites import CityMap, Site
from sim.rng import stream

BASELINES = ("uniform", "random")

__all__ = [
    "BASELINES",
    "MAX_PER_SITE_DEFAULT",
    "POINTS_MAX",
    "WALK_M_DEFAULT",
    "Geography",
    "PlacementError",
    "Plan",
    "Planner",
    "baseline",
    "cell_of",
    "check_plan",
    "city_map",
    "coverage",
    "deploy",
    "geography",
    "greedy",
    "nearest_sites",
    "node_name",
    "plan_of",
    "share_out",
    "sites_of",
]


def greedy(
    geo: Geography,
    k: int,
    *,
    capacity_residents: float | None = None,
    max_per_site: int = MAX_PER_SITE_DEFAULT,
    existing: Mapping[int, int] | None = None,
) -> Plan:
    """`existing` plus `k` points placed greedily (see the module docstring)."""
    planner = Planner(
        geo, capacity_residents=capacity_residents, max_per_site=max_per_site, existing=existing
    )
    planner.add(k)
    return dict(planner.plan)


def deploy(
    geo: Geography,
    counts: Sequence[tuple[str, int]],
    *,
    capacity_residents: float | None = None,
    max_per_site: int = MAX_PER_SITE_DEFAULT,
    kind: str = "recharge_point",
) -> tuple[Site, ...]:
    """Sites opened month by month: `counts` is (month, points in service at its end), months in
    order. A count that falls closes nothing (points stay); each opening is one Site row."""
    planner = Planner(geo, capacity_residents=capacity_residents, max_per_site=max_per_site)
    out: list[Site] = []
    previous = ""
    for month, count in counts:
        if month <= previous:
            raise PlacementError(f"deploy: month {month!r} does not follow {previous!r}")
        previous = month
        added: dict[int, int] = {}
        for cell in planner.add(max(0, count - planner.points)):
            added[cell] = added.get(cell, 0) + 1
        out.extend(Site(node_name(c), kind, n, month) for c, n in sorted(added.items()))
    return tuple(out)


def baseline(
    geo: Geography, k: int, how: str, seed: int, *, max_per_site: int = MAX_PER_SITE_DEFAULT
) -> Plan:
    """A plan without optimisation: "uniform" (districts by population, random cells in each)
    or "random" (random cells over the city). Cells are drawn without replacement, so a site
    holds one point until every cell has one."""
    if how not in BASELINES:
        raise PlacementError(f"baseline {how!r}: unknown (allowed: {', '.join(BASELINES)})")
    if not 0 <= k <= min(POINTS_MAX, geo.cells * max_per_site):
        raise PlacementError(f"recharge points: {k!r} out of range (allowed: 0..{geo.cells * max_per_site})")
    rng = stream(seed, f"placement/{how}")
    district = geo.grid.district.astype(np.int64)
    groups = (
        [np.flatnonzero(district == d) for d in range(geo.city.districts)]
        if how == "uniform"
        else [np.arange(geo.cells)]
    )
    shares = np.array([geo.residents[g].sum() for g in groups])
    plan: Plan = {}
    for cells, n in zip(groups, share_out(k, shares / shares.sum()), strict=True):
        rounds = [rng.permutation(cells) for _ in range(-(-n // len(cells)))]
        for cell in np.concatenate(rounds)[:n] if rounds else []:
            plan[int(cell)] = plan.get(int(cell), 0) + 1
    return plan


def sites_of(plan: Mapping[int, int], month: str, kind: str = "recharge_point") -> tuple[Site, ...]:
    return tuple(Site(node_name(c), kind, n, month) for c, n in sorted(plan.items()))


def plan_of(sites: Sequence[Site], kind: str = "recharge_point") -> Plan:
    """The points in place after every opening of `kind` in `sites`."""
    plan: Plan = {}
    for site in sites:
        if site.kind == kind:
            cell = cell_of(site.node)
            plan[cell] = plan.get(cell, 0) + site.count
    return plan


def city_map(geo: Geography) -> CityMap:
    """The residential grid to draw: cells and district centres, streets, residents per cell."""
    g = geo.grid
    positions = {node_name(c): (float(x), float(y)) for c, (x, y) in enumerate(g.xy_km)}
    positions.update({f"district-{d}": (float(x), float(y)) for d, (x, y) in enumerate(g.district_xy_km)})
    edges = tuple((node_name(int(a)), node_name(int(b)), "walk") for a, b in g.edges)
    n = geo.city.districts
    ring = tuple((f"district-{d}", f"district-{(d + 1) % n}", "bus") for d in range(n) if n > 1)
    people = share_out(round(float(geo.residents.sum())), g.share)
    residents = {node_name(c): n for c, n in enumerate(people)}
    return CityMap(positions, edges + ring, residents)
