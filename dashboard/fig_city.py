"""The city graph at a given month: streets, residents, the sites deployed so far, coverage.

Nodes sit at their positions in km (the rollout's residential walking grid and district
centres), drawn by residents. A site (recharge point, service window, terminal cluster)
appears in the month it opened. Coverage shading follows the rollout engine's definition: a
node is covered when an open recharge point lies within the walking distance *along the
streets* (the map's walk edges, each as long as the straight line between its ends), so the
green area grows month by month as points open, and the grey gaps are where people still walk
too far to top up their cards.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from scipy.sparse import csr_matrix  # type: ignore[import-untyped]  # no types; scipy-stubs is not a dependency
from scipy.sparse.csgraph import dijkstra  # type: ignore[import-untyped]  # as above

from dashboard.fig_common import COLOURS, MET, PENDING, new_figure
from dashboard.i18n import name, t
from sim.placement import CityMap, Site
from sim.rollout import RolloutResult

RECHARGE = "recharge_point"
LOAD_KINDS = (RECHARGE, "service_window")
_RAIL_SECTORS = {"metro", "light_rail"}
_EDGE_STYLE = {
    "metro": {"color": "#c0392b", "linewidth": 2.0},
    "bus": {"color": "#7f8c8d", "linewidth": 0.6, "alpha": 0.5},
    "walk": {"color": "#d5d8dc", "linewidth": 0.3},
}
_SITE_MARKER = {RECHARGE: "^", "service_window": "s"}


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


def city_figure(result: RolloutResult, index: int, lang: str, walk_km: float) -> Figure:
    city = result.city
    row = result.months[index]
    sites = open_sites(result.sites, row.month)
    covered = covered_nodes(city, sites, walk_km)
    pos = city.positions_km
    fig, (ax,) = new_figure(8, 7)
    rail = {s for phase in result.phases for s in phase.sectors} & _RAIL_SECTORS
    for kind, style in _EDGE_STYLE.items():
        if kind == "metro" and not rail:
            continue  # the city graph has rail lines; a scenario with no rail sector shows none
        segments = [(pos[u], pos[v]) for u, v, k in city.edges if k == kind and u in pos and v in pos]
        if segments:
            ax.add_collection(LineCollection(segments, zorder=1, **style))
    people = [n for n in pos if city.residents.get(n, 0) > 0]
    top = max((city.residents[n] for n in people), default=1)
    for colour, group, label in (
        (MET, [n for n in people if n in covered], t("covered", lang)),
        (PENDING, [n for n in people if n not in covered], t("uncovered", lang)),
    ):
        ax.scatter(
            [pos[n][0] for n in group],
            [pos[n][1] for n in group],
            s=[2 + 30 * city.residents[n] / top for n in group],
            color=colour,
            alpha=0.7,
            edgecolors="none",
            label=label,
            zorder=2,
        )
    kinds = sorted({s.kind for s in sites}, key=lambda k: (k not in LOAD_KINDS, k))
    for n, kind in enumerate(kinds):
        of_kind = [s for s in sites if s.kind == kind and s.node in pos]
        ax.scatter(
            [pos[s.node][0] for s in of_kind],
            [pos[s.node][1] for s in of_kind],
            s=[14 + 6 * min(s.count, 10) for s in of_kind],
            marker=_SITE_MARKER.get(kind, "o"),
            color=COLOURS[(n + 3) % len(COLOURS)],
            edgecolors="black",
            linewidths=0.4,
            label=f"{name(kind, lang)} ({sum(s.count for s in of_kind):,})",
            zorder=3,
        )
    ax.legend(loc="upper left", fontsize=7, framealpha=0.9, markerscale=1.5)
    ax.autoscale()
    ax.set_aspect("equal")
    ax.set_xlabel("km")
    ax.set_ylabel("km")
    ax.set_title(
        f"{t('fig_city', lang)} — {row.month}, {t('coverage', lang)} {row.coverage_share:.0%}", fontsize=10
    )
    return fig
