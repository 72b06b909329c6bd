"""Which sites are open at a month, and which nodes an open recharge point covers on foot.

Coverage follows the rollout engine's definition: a node is covered when an open recharge
point lies within the walking distance *along the streets* (the map's walk edges, each as
long as the straight line between its ends), so the covered area grows month by month as
points open, and the gaps are where people still walk too far to top up their cards.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy.sparse import csr_matrix  # type: ignore[import-untyped]  # no types; scipy-stubs is not a dependency
from scipy.sparse.csgraph import dijkstra  # type: ignore[import-untyped]  # as above

from sim.placement import CityMap, Site

RECHARGE = "recharge_point"
LOAD_KINDS = (RECHARGE, "service_window")


def open_sites(sites: tuple[Site, ...], month: str) -> list[Site]:
    """Sites open at the end of `month`."""
    return [s for s in sites if s.month <= month]


def _streets(city: CityMap, nodes: list[str]) -> csr_matrix:
    """Walk edges as a symmetric sparse matrix of lengths in km."""
    index = {n: i for i, n in enumerate(nodes)}
    pos = city.positions_km
    a, b, km = [], [], []
    for u, v, kind in city.edges:
        if kind == "walk" and u in index and v in index:
            a.append(index[u])
            b.append(index[v])
            km.append(max(1e-9, float(np.hypot(pos[u][0] - pos[v][0], pos[u][1] - pos[v][1]))))
    n = len(nodes)
    return csr_matrix((np.r_[km, km], (np.r_[a, b], np.r_[b, a])), shape=(n, n))


def covered_nodes(city: CityMap, sites: Iterable[Site], walk_km: float) -> set[str]:
    """Nodes within `walk_km` along the walk edges of an open recharge point (its node included)."""
    assert walk_km > 0
    nodes = list(city.positions_km)
    index = {n: i for i, n in enumerate(nodes)}
    sources = sorted({index[s.node] for s in sites if s.kind == RECHARGE and s.node in index})
    if not sources:
        return set()
    dist = dijkstra(
        _streets(city, nodes), directed=False, indices=sources, min_only=True, limit=walk_km * 1.000001
    )
    return {nodes[i] for i in np.flatnonzero(np.isfinite(dist))}
