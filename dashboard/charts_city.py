"""The city map of a month as a Vega-Lite chart: hover a node or a site, zoom and pan.

The same content as `fig_city.city_figure` (the downloads' PNG): residents per node, green
where an open recharge point lies within walking distance along the streets, the sites open
by the month (recharge points, service windows, terminal clusters) and the transport lines of
the scenario's own sectors (a rail line only where the scenario has a rail sector). Axes are
the city's extent in km, fixed for the whole run, so sites appear on a map that holds still.
"""

from __future__ import annotations

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no types; pandas-stubs is not a dependency

from dashboard import units
from dashboard.charts import Spec
from dashboard.fig_city import LOAD_KINDS, covered_nodes, open_sites
from dashboard.i18n import name, t
from sim.rollout import RolloutResult

RAIL_SECTORS = {"metro", "light_rail"}
MAP_HEIGHT_PX = 520


def _extent(values: list[float]) -> list[float]:
    low, high = min(values, default=0.0), max(values, default=1.0)
    pad = max(0.5, 0.03 * (high - low))
    return [low - pad, high + pad]


def map_rows(result: RolloutResult, index: int, lang: str, walk_km: float) -> pd.DataFrame:
    """One row per node (layer "node"), site (layer "site") and line segment (layer "line")."""
    city = result.city
    pos = city.positions_km
    month = result.months[index].month
    sites = open_sites(result.sites, month)
    covered = covered_nodes(city, sites, walk_km)
    rail = bool({s for p in result.phases for s in p.sectors} & RAIL_SECTORS)
    rows: list[dict[str, object]] = []
    for node, (x, y) in pos.items():
        people = city.residents.get(node, 0)
        if people > 0:
            label = t("covered", lang) if node in covered else t("uncovered", lang)
            shown = units.count(people, lang)
            rows.append({"layer": "node", "x": x, "y": y, "what": label, "size": people, "detail": shown})
    for site in sites:
        if site.node in pos:
            x, y = pos[site.node]
            what = name(site.kind, lang)
            detail = f"{units.count(site.count, lang)} · {site.month}"
            rows.append({"layer": "site", "x": x, "y": y, "what": what, "size": site.count, "detail": detail})
    for a, b, kind in city.edges:
        if kind == "walk" or (kind == "metro" and not rail) or a not in pos or b not in pos:
            continue
        (x, y), (x2, y2) = pos[a], pos[b]
        rows.append({"layer": "line", "x": x, "y": y, "x2": x2, "y2": y2, "what": name(kind, lang)})
    return pd.DataFrame(rows, columns=["layer", "x", "y", "x2", "y2", "what", "size", "detail"])


def city_chart(result: RolloutResult, index: int, lang: str, walk_km: float) -> tuple[pd.DataFrame, Spec]:
    pos = result.city.positions_km.values()
    xs = {
        "field": "x",
        "type": "quantitative",
        "title": t("km", lang),
        "scale": {"domain": _extent([p[0] for p in pos])},
    }
    ys = {
        "field": "y",
        "type": "quantitative",
        "title": t("km", lang),
        "scale": {"domain": _extent([p[1] for p in pos])},
    }
    tip = [{"field": "what", "title": t("figure", lang)}, {"field": "detail", "title": " "}]
    kinds = sorted(
        {name(s.kind, lang) for s in result.sites}, key=lambda k: k not in [name(x, lang) for x in LOAD_KINDS]
    )
    spec: Spec = {
        "height": MAP_HEIGHT_PX,
        "layer": [
            {
                "transform": [{"filter": "datum.layer == 'line'"}],
                "mark": {"type": "rule", "opacity": 0.5},
                "encoding": {
                    "x": xs,
                    "y": ys,
                    "x2": {"field": "x2"},
                    "y2": {"field": "y2"},
                    "color": {"value": "#7f7f7f"},
                },
            },
            {
                "transform": [{"filter": "datum.layer == 'node'"}],
                "mark": {"type": "circle", "opacity": 0.6},
                "encoding": {
                    "x": xs,
                    "y": ys,
                    "size": {"field": "size", "type": "quantitative", "legend": None},
                    "color": {
                        "field": "what",
                        "type": "nominal",
                        "title": None,
                        "scale": {
                            "domain": [t("covered", lang), t("uncovered", lang)],
                            "range": ["#2ca02c", "#aaaaaa"],
                        },
                        "legend": {"orient": "bottom"},
                    },
                    "tooltip": tip,
                },
                "params": [{"name": "zoom", "select": "interval", "bind": "scales"}],
            },
            {
                "transform": [{"filter": "datum.layer == 'site'"}],
                "mark": {"type": "point", "filled": True, "stroke": "black", "strokeWidth": 0.5, "size": 60},
                "encoding": {
                    "x": xs,
                    "y": ys,
                    "shape": {
                        "field": "what",
                        "type": "nominal",
                        "title": None,
                        "scale": {"domain": kinds},
                        "legend": {"orient": "bottom"},
                    },
                    "color": {"value": "#d62728"},
                    "tooltip": tip,
                },
            },
        ],
        "resolve": {"scale": {"color": "independent", "size": "independent"}},
    }
    return map_rows(result, index, lang, walk_km), spec
