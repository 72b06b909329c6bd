"""The planner's geography: residential cells, walking reach along the streets, nearest sites.

Built on the city's residential grid (`sim.city.graph.add_walk_grid`). Walking distance is the
shortest path along the grid's street segments (Manhattan walking on city blocks), never a
straight line: every cell lies on the street grid, so no fallback is needed. Shortest paths
come from scipy's compiled Dijkstra (a city of 400 km2 has ~6,400 cells and the reach sets of
all of them are needed at once); the same cells are nodes of the networkx city graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix  # type: ignore[import-untyped]  # no stubs here: the matrix is Any
from scipy.sparse.csgraph import dijkstra  # type: ignore[import-untyped]  # its results typed where read

from model.errors import CardTwinError
from scenarios.schema import Scenario
from sim.city import URBAN_AREA_KM2, WALK_CELL_M, City, WalkGrid, add_walk_grid, build_city

WALK_M_DEFAULT = 800.0  # ASSUMPTION: ten minutes' walk (the rollout schema's default)
REACH_CHUNK = 256  # candidate rows per Dijkstra call: bounds the dense block to chunk x cells

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
        d: np.ndarray = dijkstra(streets, directed=False, indices=idx, limit=walk_m * (1 + 1e-9))
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
    dist: np.ndarray
    source: np.ndarray
    dist, _, source = dijkstra(
        geo.streets, directed=False, indices=sites, min_only=True, return_predecessors=True
    )
    return source.astype(np.int64), dist


def owners(geo: Geography, plan: Mapping[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's recharge site and the walk to it in metres: the nearest site, ties to the
    lower cell number within walking distance (as the greedy planner assigns them)."""
    source, dist = nearest_sites(geo, plan)
    sites = np.array(sorted(plan), dtype=np.int64)
    lo, hi = geo.reach_ptr[sites], geo.reach_ptr[sites + 1]
    rows = (
        np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])
        if len(sites)
        else np.zeros(0, np.int64)
    )
    site = np.repeat(sites, hi - lo)
    cell, metres = geo.reach_cell[rows], geo.reach_m[rows]
    order = np.lexsort((site, metres, cell))
    first = order[np.r_[True, cell[order][1:] != cell[order][:-1]]] if len(order) else order
    source[cell[first]] = site[first]
    dist[cell[first]] = metres[first]
    return source, dist


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


def share_out(total: int, shares: np.ndarray) -> list[int]:
    """`total` split by `shares` in whole units (largest remainder), summing to `total`."""
    raw = shares * total
    base = np.floor(raw).astype(np.int64)
    for i in np.argsort(-(raw - base), kind="stable")[: total - int(base.sum())]:
        base[i] += 1
    return [int(x) for x in base]
