"""Settlement between participants as a directed graph: who pays whom, and how much.

Each participant (operator, banks, transport companies, merchants) is a node; an arrow goes
from payer to payee with a width that grows with the money settled over the run (T+1
instructions summed). Opposite flows between the same pair curve apart so both show.
"""

from __future__ import annotations

import networkx as nx  # type: ignore[import-untyped]  # no types; types-networkx is not a dependency
from matplotlib.figure import Figure

from dashboard.fig_common import COLOURS, new_figure
from dashboard.i18n import name, t
from sim.rollout import Flow


def flow_graph(flows: tuple[Flow, ...]) -> nx.DiGraph[str]:
    """Participants and the money between them; flows of one pair and direction add up."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    for f in flows:
        assert f.amount_fen >= 0, f
        if graph.has_edge(f.payer, f.payee):
            graph[f.payer][f.payee]["amount_fen"] += f.amount_fen
        else:
            graph.add_edge(f.payer, f.payee, amount_fen=f.amount_fen)
    return graph


def yuan_short(amount_fen: int) -> str:
    """A compact amount label: 123456789 fen -> '1.23M'."""
    yuan = amount_fen / 100
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(yuan) >= size:
            return f"{yuan / size:.2f}{suffix}"
    return f"{yuan:.2f}"


def flows_figure(flows: tuple[Flow, ...], lang: str, period: str = "") -> Figure:
    graph = flow_graph(flows)
    fig, (ax,) = new_figure(8, 6.5)
    ax.set_axis_off()
    span = period or t("flows_total", lang)  # the period shown; the whole run by default
    ax.set_title(f"{t('fig_flows', lang)} ({span}, {t('yuan', lang)})", fontsize=10)
    if graph.number_of_edges() == 0:
        ax.text(0.5, 0.5, t("no_flows", lang), ha="center", va="center", transform=ax.transAxes)
        return fig
    pos = nx.circular_layout(sorted(graph.nodes))
    top = max(d["amount_fen"] for _, _, d in graph.edges(data=True)) or 1
    widths = [0.5 + 6 * d["amount_fen"] / top for _, _, d in graph.edges(data=True)]
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=COLOURS[0], node_size=900, alpha=0.85)
    nx.draw_networkx_labels(
        graph, pos, ax=ax, labels={n: name(n, lang) for n in graph.nodes}, font_size=8, font_color="black"
    )
    nx.draw_networkx_edges(
        graph,
        pos,
        ax=ax,
        width=widths,
        edge_color=COLOURS[1],
        arrows=True,
        arrowsize=14,
        node_size=900,
        connectionstyle="arc3,rad=0.12",
    )
    nx.draw_networkx_edge_labels(
        graph,
        pos,
        ax=ax,
        edge_labels={(a, b): yuan_short(d["amount_fen"]) for a, b, d in graph.edges(data=True)},
        font_size=7,
        connectionstyle="arc3,rad=0.12",
    )
    ax.margins(0.15)
    return fig
