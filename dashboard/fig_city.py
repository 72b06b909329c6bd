"""The city graph at a given month: lines, residents, the sites deployed so far, coverage.

Nodes sit at their positions in km, sized by residents. A site (recharge point, service
window, terminal cluster) appears in the month it opened. Coverage shading: a translucent
disc of the walking radius around every open recharge point and service window, and each
node filled green when some open one is within that radius, grey otherwise, so the viewer
sees which neighbourhoods still walk too far to top up their cards.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.patches import Circle

from dashboard.fig_common import COLOURS, MET, PENDING, new_figure
from dashboard.i18n import name, t
from sim.rollout_result import CityMap, RolloutResult, Site

LOAD_KINDS = ("recharge_point", "service_window")
# ASSUMPTION: 0.8 km (about ten minutes on foot) when the run does not say its walking radius.
WALK_KM_DEFAULT = 0.8
_EDGE_STYLE = {
    "metro": {"color": "#c0392b", "linewidth": 2.0, "linestyle": "-"},
    "bus": {"color": "#7f8c8d", "linewidth": 0.8, "linestyle": "-"},
    "walk": {"color": "#bdc3c7", "linewidth": 0.5, "linestyle": ":"},
}
_SITE_MARKER = {"recharge_point": "^", "service_window": "s"}


def open_sites(sites: tuple[Site, ...], month: str) -> list[Site]:
    """Sites open at the end of `month`."""
    return [s for s in sites if s.month <= month]


def covered_nodes(city: CityMap, sites: list[Site], walk_km: float) -> set[str]:
    """Nodes within `walk_km` (straight line) of an open recharge point or service window."""
    assert walk_km > 0
    points = [
        city.positions_km[s.node] for s in sites if s.kind in LOAD_KINDS and s.node in city.positions_km
    ]
    out = set()
    for node, (x, y) in city.positions_km.items():
        if any(math.hypot(x - px, y - py) <= walk_km for px, py in points):
            out.add(node)
    return out


def city_figure(result: RolloutResult, index: int, lang: str, walk_km: float = WALK_KM_DEFAULT) -> Figure:
    city = result.city
    row = result.months[index]
    sites = open_sites(result.sites, row.month)
    covered = covered_nodes(city, sites, walk_km)
    fig, (ax,) = new_figure(8, 7)
    pos = city.positions_km
    for a, b, kind in city.edges:
        if a in pos and b in pos:
            style = _EDGE_STYLE.get(kind, _EDGE_STYLE["walk"])
            ax.plot([pos[a][0], pos[b][0]], [pos[a][1], pos[b][1]], zorder=1, **style)  # type: ignore[arg-type]
    for s in sites:
        if s.kind in LOAD_KINDS and s.node in pos:
            ax.add_patch(Circle(pos[s.node], walk_km, color=MET, alpha=0.08, linewidth=0, zorder=0))
    top = max(city.residents.values(), default=1) or 1
    nodes = list(pos)
    ax.scatter(
        [pos[n][0] for n in nodes],
        [pos[n][1] for n in nodes],
        s=[8 + 120 * city.residents.get(n, 0) / top for n in nodes],
        c=[MET if n in covered else PENDING for n in nodes],
        alpha=0.6,
        edgecolors="none",
        zorder=2,
    )
    kinds = sorted({s.kind for s in sites}, key=lambda k: (k not in LOAD_KINDS, k))
    for n, kind in enumerate(kinds):
        group = [s for s in sites if s.kind == kind and s.node in pos]
        ax.scatter(
            [pos[s.node][0] for s in group],
            [pos[s.node][1] for s in group],
            s=[20 + 6 * min(s.count, 40) for s in group],
            marker=_SITE_MARKER.get(kind, "o"),
            color=COLOURS[(n + 3) % len(COLOURS)],
            edgecolors="black",
            linewidths=0.4,
            label=f"{name(kind, lang)} ({sum(s.count for s in group):,})",
            zorder=3,
        )
    ax.scatter([], [], color=MET, alpha=0.6, label=t("covered", lang))
    ax.scatter([], [], color=PENDING, alpha=0.6, label=t("uncovered", lang))
    ax.legend(loc="upper left", fontsize=7, framealpha=0.9)
    ax.set_aspect("equal")
    ax.set_xlabel("km")
    ax.set_ylabel("km")
    ax.set_title(
        f"{t('fig_city', lang)} — {row.month}, {t('coverage', lang)} {row.coverage_share:.0%}", fontsize=10
    )
    return fig
