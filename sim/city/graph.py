"""The city graph: districts, bus routes, metro lines and stations, and the service points.

A networkx graph generated deterministically from the scenario's [city] section and its seed.
Nodes carry a `kind` (district, bus_route, station, recharge_point, window, merchant); a
district's population share drives where citizens live and work. The simulation reads it
through the small `City` facade, which precomputes the lookups a tap needs (routes by
district, station distances), so no tap searches the graph.

For deployment planning (`sim.placement.deploy`) a district is too coarse to say who can walk to a
recharge point, so `add_walk_grid` lays residential cells over the urban area on demand: a
square street grid (Manhattan walking) covering a disc, the districts as sectors of it in ring
order, residents per cell falling off from the centre. The twin day never calls it, so its
graph and its numbers stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx  # type: ignore[import-untyped]  # no stubs installed here: nx.Graph is Any
import numpy as np

from scenarios.schema import Scenario
from sim.rng import stream

DISTRICT_SHARE_SKEW = 0.35  # how unequal district populations are (0 = all equal)
URBAN_AREA_KM2 = 400.0  # ASSUMPTION: built-up area when a scenario names none (the rollout schema's default)
WALK_CELL_M = 250.0  # ASSUMPTION: one city block; walking distances are multiples of it
CENTRE_DECAY_RADII = 0.5  # ASSUMPTION: density falls by e every half city radius (Clark's law)
CELL_JITTER = 0.5  # ASSUMPTION: lognormal spread of cell densities around that trend
WALK_CELLS_MAX = 200_000  # a guard on area / cell size (a typo would build millions of nodes)


def scaled(count: int, sample: float) -> int:
    """A capacity scaled with the population sample, never below one."""
    return max(1, round(count * sample))


@dataclass(slots=True)
class City:
    graph: nx.Graph
    district_share: np.ndarray  # population share per district, sums to 1
    route_numbers: np.ndarray  # bus route number per route index
    routes_by_district: list[np.ndarray]  # route indices serving each district
    station_district: np.ndarray  # district per station index
    station_ids: np.ndarray  # the station ID a gate writes to the card, per station index
    metro_hops: dict[tuple[int, int], int] = field(default_factory=dict)
    recharge_district: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    window_district: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    merchant_district: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))

    @property
    def districts(self) -> int:
        return len(self.district_share)

    @property
    def stations(self) -> int:
        return len(self.station_ids)

    def stations_between(self, entry_station_id: int, exit_station_id: int) -> int:
        """Stations travelled on the metro network (shortest path), by the IDs on the card."""
        return self.metro_hops[(entry_station_id, exit_station_id)]


def build_city(scenario: Scenario) -> City:
    """Generate the city from the scenario. Counts of service points are scaled by the sample.

    One stream draws it all, in this order: district shares, bus routes, metro lines, then the
    recharge points, service windows and merchants; the graph's nodes are added in that order too.
    """
    c = scenario.city
    sample = scenario.run.sample
    rng = stream(scenario.run.seed, "city")
    g: nx.Graph = nx.Graph()
    share = _add_districts(g, rng, c.districts)
    route_numbers, by_district = _add_bus_routes(g, rng, share, c.bus_lines, scaled(c.bus_lines, sample))
    station_district, station_ids = _add_metro(g, rng, c.districts, c.metro_lines, c.stations_per_metro_line)
    city = City(
        graph=g,
        district_share=share,
        route_numbers=route_numbers,
        routes_by_district=[np.array(rs, dtype=np.int32) for rs in by_district],
        station_district=np.array(station_district, dtype=np.int16),
        station_ids=np.array(station_ids, dtype=np.int32),
        metro_hops=_metro_hops(g, station_ids),
    )
    city.recharge_district = _place(g, rng, share, "recharge_point", scaled(c.recharge_points, sample))
    city.window_district = _place(g, rng, share, "window", scaled(c.service_windows, sample))
    city.merchant_district = _place(g, rng, share, "merchant", scaled(c.merchants, sample))
    return city


def _add_districts(g: nx.Graph, rng: np.random.Generator, districts: int) -> np.ndarray:
    """The districts and their population shares (lognormal, normalised)."""
    raw = rng.lognormal(0.0, DISTRICT_SHARE_SKEW, districts)
    share: np.ndarray = raw / raw.sum()
    for d in range(districts):
        g.add_node(("district", d), kind="district", share=float(share[d]))
    # Districts in a ring: enough structure for routes and lines to run across neighbours.
    for d in range(districts):
        g.add_edge(("district", d), ("district", (d + 1) % districts), kind="road")
    return share


def _add_bus_routes(
    g: nx.Graph, rng: np.random.Generator, share: np.ndarray, bus_lines: int, routes: int
) -> tuple[np.ndarray, list[list[int]]]:
    """`routes` of the city's `bus_lines`, each serving a chain of adjacent districts; returns
    each route's number and the routes serving each district."""
    districts = len(share)
    # Route numbers 1..N as in Hangzhou, the sample keeping a random few of them.
    route_numbers = np.arange(1, bus_lines + 1)[rng.permutation(bus_lines)[:routes]]
    by_district: list[list[int]] = [[] for _ in range(districts)]
    for r in range(routes):
        start = int(rng.choice(districts, p=share))
        span = int(rng.integers(1, min(4, districts) + 1))
        g.add_node(("bus_route", r), kind="bus_route", number=int(route_numbers[r]))
        for k in range(span):
            d = (start + k) % districts
            g.add_edge(("bus_route", r), ("district", d), kind="serves")
            by_district[d].append(r)
    # Every district has at least one route, so every citizen can board a bus at home.
    for d in range(districts):
        if not by_district[d]:
            r = int(rng.integers(routes))
            g.add_edge(("bus_route", r), ("district", d), kind="serves")
            by_district[d].append(r)
    return route_numbers, by_district


def _add_metro(
    g: nx.Graph, rng: np.random.Generator, districts: int, lines: int, stations_per_line: int
) -> tuple[list[int], list[int]]:
    """Metro lines: stations in sequence through districts; lines meet at an interchange (each
    line's middle station is linked to the first line's middle station). Returns each station's
    district and ID (line * 100 + position on the line, from 101)."""
    station_district: list[int] = []
    station_ids: list[int] = []
    for line in range(lines):
        first = int(rng.integers(districts))
        previous: tuple[str, int] | None = None
        for k in range(stations_per_line):
            sid = (line + 1) * 100 + k + 1
            d = (first + k * districts // max(1, stations_per_line)) % districts
            node = ("station", sid)
            g.add_node(node, kind="station", line=line + 1, district=d)
            g.add_edge(node, ("district", d), kind="in")
            if previous is not None:
                g.add_edge(previous, node, kind="track")
            previous = node
            station_district.append(d)
            station_ids.append(sid)
        if line > 0:
            middle = stations_per_line // 2 + 1
            g.add_edge(("station", 100 + middle), ("station", (line + 1) * 100 + middle), kind="track")
    return station_district, station_ids


def _metro_hops(g: nx.Graph, station_ids: list[int]) -> dict[tuple[int, int], int]:
    """Station distances along the tracks only (not through districts): all pairs, once."""
    tracks = g.edge_subgraph([(u, v) for u, v, k in g.edges(data="kind") if k == "track"])
    hops: dict[tuple[int, int], int] = {
        (a[1], b[1]): n for a, row in nx.all_pairs_shortest_path_length(tracks) for b, n in row.items()
    }
    hops.update({(s, s): 0 for s in station_ids})
    return hops


def _place(g: nx.Graph, rng: np.random.Generator, share: np.ndarray, kind: str, count: int) -> np.ndarray:
    """`count` service points of `kind`, each in a district drawn by population share."""
    where = rng.choice(len(share), size=count, p=share).astype(np.int16)
    for i, d in enumerate(where):
        g.add_node((kind, i), kind=kind)
        g.add_edge((kind, i), ("district", int(d)), kind="in")
    return where


@dataclass(frozen=True, slots=True)
class WalkGrid:
    """Residential cells of the urban disc, centre at (0, 0). Cell i is graph node ("cell", i)."""

    xy_km: np.ndarray  # (cells, 2) cell centres
    district: np.ndarray  # district of each cell (the sector it lies in)
    share: np.ndarray  # share of the city's residents living in each cell, sums to 1
    edges: np.ndarray  # (segments, 2) pairs of adjacent cells: street segments of `cell_m`
    cell_m: float
    district_xy_km: np.ndarray  # (districts, 2) residents' centroid of each district

    @property
    def cells(self) -> int:
        return len(self.share)


def add_walk_grid(
    city: City, seed: int, area_km2: float = URBAN_AREA_KM2, cell_m: float = WALK_CELL_M
) -> WalkGrid:
    """Lay residential cells over the city and add them to `city.graph` (nodes kind "cell",
    edges kind "walk" with `length_m`; district nodes gain `pos_km`). Deterministic in the
    seed: the cell densities have their own stream, so no other draw of the city moves.

    District d is the sector of angles [d, d+1) * 2pi / districts, matching the districts'
    ring; its population share (the twin's) is spread over its cells by density."""
    if not (area_km2 > 0 and cell_m > 0):
        raise ValueError(f"area {area_km2} km2 and cell {cell_m} m must be positive")
    radius_km = float(np.sqrt(area_km2 / np.pi))
    step_km = cell_m / 1000
    half = int(np.ceil(radius_km / step_km))
    if (2 * half + 1) ** 2 > WALK_CELLS_MAX * 2:
        raise ValueError(f"cells of {cell_m:g} m over {area_km2:g} km2 exceed {WALK_CELLS_MAX} cells")
    ij = np.array([(i, j) for i in range(-half, half + 1) for j in range(-half, half + 1)], dtype=np.int64)
    xy = ij * step_km
    inside = np.hypot(xy[:, 0], xy[:, 1]) <= radius_km
    ij, xy = ij[inside], xy[inside]
    n = city.districts
    angle = np.mod(np.arctan2(xy[:, 1], xy[:, 0]), 2 * np.pi)
    district = np.minimum((angle / (2 * np.pi) * n).astype(np.int64), n - 1)
    empty = sorted(set(range(n)) - set(district.tolist()))
    if empty:
        raise ValueError(f"districts {empty} have no cell: cells of {cell_m:g} m are too coarse")

    rng = stream(seed, "city/cells")
    density = np.exp(-np.hypot(xy[:, 0], xy[:, 1]) / (CENTRE_DECAY_RADII * radius_km))
    density *= rng.lognormal(0.0, CELL_JITTER, len(xy))
    per_district = np.bincount(district, weights=density, minlength=n)
    share = city.district_share[district] * density / per_district[district]
    share /= share.sum()

    index = {(int(a), int(b)): k for k, (a, b) in enumerate(ij)}
    pairs = [
        (k, index[(int(a) + da, int(b) + db)])
        for k, (a, b) in enumerate(ij)
        for da, db in ((1, 0), (0, 1))
        if (int(a) + da, int(b) + db) in index
    ]
    edges = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    centroid = (
        np.stack([np.bincount(district, weights=share * xy[:, k], minlength=n) for k in (0, 1)], axis=1)
        / np.bincount(district, weights=share, minlength=n)[:, None]
    )

    g = city.graph
    for k in range(len(xy)):
        g.add_node(
            ("cell", k),
            kind="cell",
            district=int(district[k]),
            pos_km=(float(xy[k, 0]), float(xy[k, 1])),
            share=float(share[k]),
        )
    g.add_edges_from(((("cell", int(a)), ("cell", int(b))) for a, b in edges), kind="walk", length_m=cell_m)
    for d in range(n):
        g.nodes[("district", d)]["pos_km"] = (float(centroid[d, 0]), float(centroid[d, 1]))
    return WalkGrid(xy, district.astype(np.int16), share, edges, cell_m, centroid)
