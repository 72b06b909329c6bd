"""Where recharge points go: walking coverage on the city's residential grid, and plans.

The planner sees the city as residential cells on a street grid (`sim.city.add_walk_grid`):
walking distance is the shortest path along the grid's street segments (Manhattan walking on
city blocks), never a straight line, and every cell is a candidate site. A resident is
*covered* when some recharge point lies within `walk_m` of their cell; coverage is the
covered share of residents.

`greedy` places points one at a time, each where it serves the most residents not yet served
(lazy greedy over the reach sets: the classic max-coverage greedy, within 1 - 1/e of the best
plan of as many sites when capacity is off). A capacity bounds what one point may take on:
each point claims at most `capacity_residents` of the unserved residents within walking
distance, nearest first, and a site holds at most `max_per_site` points. Among equal gains
the point that adds the most newly covered residents wins, then the lowest cell number, so a
plan is deterministic. Once every resident is served, further points go where residents per
point (nearest-site assignment) are highest, to shorten queues. A `Planner` keeps its state,
so a rollout that opens points month by month (`deploy`) places exactly what one greedy run
of the final count would.

Baselines to compare with: "uniform" shares points out among districts by population and
puts them in random cells of each district; "random" scatters them over the whole city.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from model.errors import CardTwinError
from scenarios.schema import Scenario
from sim.city import URBAN_AREA_KM2, WALK_CELL_M, City, WalkGrid, add_walk_grid, build_city
from sim.rng import stream
from sim.rollout_result import CityMap, Site

WALK_M_DEFAULT = 800.0  # ASSUMPTION: ten minutes' walk (the rollout schema's default)
MAX_PER_SITE_DEFAULT = 4  # ASSUMPTION: a kiosk row at a bank branch or a large station
POINTS_MAX = 100_000  # more recharge points than any plan in the seeds by far
REACH_CHUNK = 256  # candidate rows per Dijkstra call: bounds the dense block to chunk x cells
BASELINES = ("uniform", "random")

Plan = dict[int, int]  # cell -> recharge points at that cell


class PlacementError(CardTwinError):
    """A deployment plan that cannot be made or read as asked."""


@dataclass(frozen=True, slots=True)
class Geography:
    """The planner's view of a city: cells, residents, the street grid and walking reach."""

    city: City
    grid: WalkGrid
    residents: np.ndarray  # whole-city residents per cell
    walk_m: float
    streets: csr_matrix  # cell adjacency weighted by metres
    reach_ptr: np.ndarray  # CSR of the reach sets: row c lists cells within walk_m of c,
    reach_cell: np.ndarray  # nearest first
    reach_m: np.ndarray

    @property
    def cells(self) -> int:
        return self.grid.cells

    def reach(self, cell: int) -> np.ndarray:
        return self.reach_cell[self.reach_ptr[cell] : self.reach_ptr[cell + 1]]


def node_name(cell: int) -> str:
    return f"cell-{cell}"


def cell_of(name: str) -> int:
    head, _, tail = name.partition("-")
    if head != "cell" or not tail.isdigit():
        raise PlacementError(f"site {name!r}: not a cell name (cell-N)")
    return int(tail)


def geography(
    scenario: Scenario,
    *,
    residents: int | None = None,
    walk_m: float = WALK_M_DEFAULT,
    area_km2: float = URBAN_AREA_KM2,
    cell_m: float = WALK_CELL_M,
) -> Geography:
    """The scenario's city with its residential grid; `residents` defaults to its cardholders."""
    if not 0 < walk_m <= 20_000:
        raise PlacementError(f"walk_m: {walk_m!r} out of range (allowed: 0 < walk_m <= 20000)")
    if not 1 <= area_km2 <= 20_000:
        raise PlacementError(f"area_km2: {area_km2!r} out of range (allowed: 1..20000)")
    if not 20 <= cell_m <= 5_000:
        raise PlacementError(f"cell_m: {cell_m!r} out of range (allowed: 20..5000)")
    total = scenario.population.cardholders if residents is None else residents
    if total < 1:
        raise PlacementError(f"residents: {total!r} out of range (allowed: >= 1)")
    city = build_city(scenario)
    try:
        grid = add_walk_grid(city, scenario.run.seed, area_km2, cell_m)
    except ValueError as exc:
        raise PlacementError(f"{scenario.source}: walk grid: {exc}") from None
    n = grid.cells
    a, b = grid.edges[:, 0], grid.edges[:, 1]
    weights = np.full(len(a), cell_m)
    streets = csr_matrix((np.r_[weights, weights], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    ptr, cells, metres = _reach_sets(streets, walk_m)
    return Geography(city, grid, grid.share * total, walk_m, streets, ptr, cells, metres)


def _reach_sets(streets: csr_matrix, walk_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every cell, the cells within `walk_m` along the streets, nearest first (CSR rows)."""
    n = streets.shape[0]
    rows, cols, dists = [], [], []
    for lo in range(0, n, REACH_CHUNK):
        idx = np.arange(lo, min(n, lo + REACH_CHUNK))
        d = dijkstra(streets, directed=False, indices=idx, limit=walk_m * (1 + 1e-9))
        r, c = np.nonzero(np.isfinite(d))
        rows.append(r + lo)
        cols.append(c)
        dists.append(d[r, c])
    row, col, dist = np.concatenate(rows), np.concatenate(cols), np.concatenate(dists)
    order = np.lexsort((col, dist, row))
    ptr = np.searchsorted(row[order], np.arange(n + 1))
    return ptr, col[order].astype(np.int64), dist[order]


def nearest_sites(geo: Geography, plan: Mapping[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's nearest site (walking along the streets) and the distance in metres.
    Residents top up at their nearest point, covered or not."""
    if not plan:
        return np.full(geo.cells, -1, np.int64), np.full(geo.cells, np.inf)
    sites = np.array(sorted(plan), dtype=np.int64)
    dist, _, source = dijkstra(
        geo.streets, directed=False, indices=sites, min_only=True, return_predecessors=True
    )
    return source.astype(np.int64), dist


def coverage(geo: Geography, plan: Mapping[int, int]) -> float:
    """Share of residents within `walk_m` of a recharge point."""
    covered = np.zeros(geo.cells, bool)
    for cell in plan:
        covered[geo.reach(cell)] = True
    return float(geo.residents[covered].sum() / geo.residents.sum())


def check_plan(geo: Geography, plan: Mapping[int, int], where: str = "plan") -> None:
    for cell, count in plan.items():
        if not 0 <= cell < geo.cells:
            raise PlacementError(f"{where}: cell {cell} is not on the grid (0..{geo.cells - 1})")
        if count < 1:
            raise PlacementError(f"{where}: cell {cell}: {count} points (allowed: >= 1)")


class Planner:
    """Greedy placement state: what is open, who is served, who is covered."""

    def __init__(
        self,
        geo: Geography,
        *,
        capacity_residents: float | None = None,
        max_per_site: int = MAX_PER_SITE_DEFAULT,
        existing: Mapping[int, int] | None = None,
    ) -> None:
        if capacity_residents is not None and not capacity_residents > 0:
            raise PlacementError(f"capacity_residents: {capacity_residents!r} out of range (allowed: > 0)")
        if not 1 <= max_per_site <= 1000:
            raise PlacementError(f"max_per_site: {max_per_site!r} out of range (allowed: 1..1000)")
        self.geo = geo
        self.capacity = capacity_residents
        self.max_per_site = max_per_site
        self.plan: Plan = {}
        self.unserved = geo.residents.astype(np.float64).copy()
        self.uncovered = geo.residents.astype(np.float64).copy()
        self._load: np.ndarray | None = None  # residents per site, nearest-site assignment
        self._heap = [(-g, -c, cell, 0) for cell, (g, c) in enumerate(zip(*self._all_gains(), strict=True))]
        heapq.heapify(self._heap)
        self._step = 0
        for cell, count in sorted((existing or {}).items()):
            check_plan(geo, {cell: count}, "existing sites")
            for _ in range(count):
                self._open(cell)

    @property
    def points(self) -> int:
        return sum(self.plan.values())

    def _all_gains(self) -> tuple[np.ndarray, np.ndarray]:
        geo = self.geo
        rows = np.repeat(np.arange(geo.cells), np.diff(geo.reach_ptr))
        reach = csr_matrix((np.ones(len(rows)), (rows, geo.reach_cell)), shape=(geo.cells, geo.cells))
        served = reach @ self.unserved
        if self.capacity is not None:
            served = np.minimum(served, self.capacity)
        return served, reach @ self.uncovered

    def _gain(self, cell: int) -> tuple[float, float]:
        reach = self.geo.reach(cell)
        served = float(self.unserved[reach].sum())
        if self.capacity is not None:
            served = min(served, self.capacity)
        return served, float(self.uncovered[reach].sum())

    def _open(self, cell: int) -> None:
        """One more point at `cell`: it claims unserved residents nearest first, up to capacity."""
        count = self.plan.get(cell, 0)
        if count >= self.max_per_site:
            raise PlacementError(f"cell {cell}: more than {self.max_per_site} points at one site")
        self.plan[cell] = count + 1
        if count == 0:
            self._load = None  # a new site changes who is nearest to what
        reach = self.geo.reach(cell)
        want = self.unserved[reach]
        if self.capacity is None:
            self.unserved[reach] = 0.0
        else:
            before = np.cumsum(want) - want
            self.unserved[reach] = want - np.clip(self.capacity - before, 0.0, want)
        self.uncovered[reach] = 0.0
        self._step += 1

    def add(self, k: int) -> list[int]:
        """Open `k` more points; the cells they went to, in order."""
        if not 0 <= k <= POINTS_MAX:
            raise PlacementError(f"recharge points: {k!r} out of range (allowed: 0..{POINTS_MAX})")
        room = self.geo.cells * self.max_per_site - self.points
        if k > room:
            raise PlacementError(
                f"recharge points: {k} more do not fit "
                f"({self.geo.cells} cells x {self.max_per_site} per site, {self.points} open)"
            )
        return [self._add_one() for _ in range(k)]

    def _add_one(self) -> int:
        while self._heap:
            served, covered, cell, step = self._heap[0]
            if self.plan.get(cell, 0) >= self.max_per_site:
                heapq.heappop(self._heap)
                continue
            if step != self._step:
                g, c = self._gain(cell)
                heapq.heapreplace(self._heap, (-g, -c, cell, self._step))
                continue
            if served == 0 and covered == 0:
                break  # everyone is served: shorten queues instead
            self._open(cell)
            g, c = self._gain(cell)
            heapq.heapreplace(self._heap, (-g, -c, cell, self._step))
            return cell
        cell = self._busiest_site()
        self._open(cell)
        return cell

    def _busiest_site(self) -> int:
        """The site with the most residents per point among those with room (a new site at the
        most populous unopened cell when every site is full)."""
        geo = self.geo
        if self._load is None:
            source, _ = nearest_sites(geo, self.plan)
            self._load = np.bincount(source, weights=geo.residents, minlength=geo.cells)
        count = np.zeros(geo.cells)
        for cell, n in self.plan.items():
            count[cell] = n
        room = (count > 0) & (count < self.max_per_site)
        if room.any():
            per_point = np.where(room, self._load / np.maximum(count, 1), -1.0)
            return int(np.argmax(per_point))
        return int(np.argmax(np.where(count == 0, geo.residents, -1.0)))


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


def share_out(total: int, shares: np.ndarray) -> list[int]:
    """`total` split by `shares` in whole units (largest remainder), summing to `total`."""
    raw = shares * total
    base = np.floor(raw).astype(np.int64)
    for i in np.argsort(-(raw - base), kind="stable")[: total - int(base.sum())]:
        base[i] += 1
    return [int(x) for x in base]


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
