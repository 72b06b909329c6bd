"""The city graph at a given month: lines, residents, the sites deployed so far, coverage.

Nodes sit at their positions in km, sized by residents. A site (recharge point, service
window, terminal cluster) appears in the month it opened. Coverage shading follows the
rollout engine's model (outlets spread at random over the area they serve, a Poisson field:
covered share = 1 - exp(-outlets x walking disc / area)), applied node by node with each
node serving its residents' share of the urban area: a node's fill goes from grey (nobody
within walking distance) to deep green (everybody). A disc of the true walking radius is
drawn around every node with an outlet, to scale, so a fine-grained graph (stations) shows
the gaps between discs and a coarse one (districts) shows how small a walk is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from dashboard.fig_common import COLOURS, MET, PENDING, new_figure
from dashboard.i18n import name, t
from sim.rollout_result import CityMap, RolloutResult, Site

LOAD_KINDS = ("recharge_point", "service_window")


@dataclass(frozen=True, slots=True)
class Coverage:
    """The scenario's coverage model: walking radius and the urban area the outlets serve."""

    walk_km: float
    area_km2: float

    def __post_init__(self) -> None:
        assert self.walk_km > 0 and self.area_km2 > 0, self


_EDGE_STYLE = {
    "metro": {"color": "#c0392b", "linewidth": 2.0, "linestyle": "-"},
    "bus": {"color": "#7f8c8d", "linewidth": 0.8, "linestyle": "-"},
    "walk": {"color": "#bdc3c7", "linewidth": 0.5, "linestyle": ":"},
}
_SHADES = LinearSegmentedColormap.from_list("coverage", [PENDING, "#c7e9c0", MET])
_SITE_MARKER = {"recharge_point": "^", "service_window": "s"}


def open_sites(sites: tuple[Site, ...], month: str) -> list[Site]:
    """Sites open at the end of `month`."""
    return [s for s in sites if s.month <= month]


def outlets_by_node(sites: list[Site]) -> dict[str, int]:
    """Open recharge points and service windows at each node."""
    out: dict[str, int] = {}
    for s in sites:
        if s.kind in LOAD_KINDS:
            out[s.node] = out.get(s.node, 0) + s.count
    return out


def node_coverage(city: CityMap, sites: list[Site], cov: Coverage) -> dict[str, float]:
    """Share of each node's residents within walking distance of an outlet (0..1)."""
    outlets = outlets_by_node(sites)
    total = sum(city.residents.values())
    disc_km2 = math.pi * cov.walk_km**2
    out = {}
    for node in city.positions_km:
        residents = city.residents.get(node, 0)
        if residents == 0 or total == 0:
            out[node] = 1.0 if outlets.get(node) else 0.0
            continue
        area_km2 = cov.area_km2 * residents / total
        out[node] = 1 - math.exp(-outlets.get(node, 0) * disc_km2 / area_km2)
    return out


def city_figure(result: RolloutResult, index: int, lang: str, cov: Coverage) -> Figure:
    city = result.city
    row = result.months[index]
    sites = open_sites(result.sites, row.month)
    coverage = node_coverage(city, sites, cov)
    fig, (ax,) = new_figure(8, 7)
    pos = city.positions_km
    for a, b, kind in city.edges:
        if a in pos and b in pos:
            style = _EDGE_STYLE.get(kind, _EDGE_STYLE["walk"])
            ax.plot([pos[a][0], pos[b][0]], [pos[a][1], pos[b][1]], zorder=1, **style)  # type: ignore[arg-type]
    for node in outlets_by_node(sites):
        if node in pos:
            ax.add_patch(Circle(pos[node], cov.walk_km, color=MET, alpha=0.15, linewidth=0, zorder=0))
    top = max(city.residents.values(), default=1) or 1
    nodes = list(pos)
    shading = ax.scatter(
        [pos[n][0] for n in nodes],
        [pos[n][1] for n in nodes],
        s=[30 + 600 * city.residents.get(n, 0) / top for n in nodes],
        c=[coverage[n] for n in nodes],
        cmap=_SHADES,
        vmin=0.0,
        vmax=1.0,
        alpha=0.8,
        edgecolors="#555555",
        linewidths=0.3,
        zorder=2,
    )
    bar = fig.colorbar(shading, ax=ax, shrink=0.6)
    bar.set_label(f"{t('coverage', lang)}: {t('covered', lang)}")
    kinds = sorted({s.kind for s in sites}, key=lambda k: (k not in LOAD_KINDS, k))
    xs = [x for x, _ in pos.values()] or [0.0]
    nudge_km = 0.02 * ((max(xs) - min(xs)) or 1.0)  # kinds at one node sit side by side
    for n, kind in enumerate(kinds):
        group = [s for s in sites if s.kind == kind and s.node in pos]
        dx = (n - (len(kinds) - 1) / 2) * nudge_km
        ax.scatter(
            [pos[s.node][0] + dx for s in group],
            [pos[s.node][1] for s in group],
            s=[20 + 3 * min(s.count, 60) for s in group],
            marker=_SITE_MARKER.get(kind, "o"),
            color=COLOURS[(n + 3) % len(COLOURS)],
            edgecolors="black",
            linewidths=0.4,
            label=f"{name(kind, lang)} ({sum(s.count for s in group):,})",
            zorder=3,
        )
    ax.legend(loc="upper left", fontsize=7, framealpha=0.9)
    ax.set_aspect("equal")
    ax.set_xlabel("km")
    ax.set_ylabel("km")
    ax.set_title(
        f"{t('fig_city', lang)} — {row.month}, {t('coverage', lang)} {row.coverage_share:.0%}", fontsize=10
    )
    return fig
