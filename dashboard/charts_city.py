"""The city map of a month as a Vega-Lite chart: hover a node or a site, zoom and pan.

Residents per node, green where an open recharge point lies within walking distance along the
streets (`coverage`), the sites open by the month (recharge points, service windows, terminal
clusters) and the transport lines of the scenario's own sectors (a rail line only where the
scenario has a rail sector), over the real outlines of the city's districts where the
dashboard has them (`districts`). Axes are the city's extent in km, fixed for the whole run,
so sites appear on a map that holds still. The twin's positions are schematic (a synthetic
street grid of the scenario's urban area): `caption` says so under the map.
"""

from __future__ import annotations

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no types; pandas-stubs is not a dependency

from dashboard import districts, units
from dashboard.charts import Spec
from dashboard.coverage import LOAD_KINDS, covered_nodes, open_sites
from dashboard.i18n import name, t
from dashboard.participants import Cast
from sim.rollout import RolloutResult

RAIL_SECTORS = {"metro", "light_rail"}
MAP_HEIGHT_PX = 560


def _extent(values: list[float]) -> list[float]:
    low, high = min(values, default=0.0), max(values, default=1.0)
    pad = max(0.5, 0.03 * (high - low))
    return [low - pad, high + pad]


def _half_km(result: RolloutResult) -> float:
    """Half the width of the map's window about the centre: the grid's reach and its margin."""
    reach = max((max(abs(x), abs(y)) for x, y in result.city.positions_km.values()), default=1.0)
    return reach + max(0.5, 0.03 * 2 * reach)


def district_rows(result: RolloutResult, lang: str, cast: Cast) -> list[dict[str, object]]:
    """The outline pieces (layer "district") and names (layer "district_name") inside the window."""
    half = _half_km(result)
    rows: list[dict[str, object]] = []
    for outline in districts.outlines(cast.city, round(half, 3)):
        shown = districts.shown_name(outline.name, lang)
        for n, piece in enumerate(outline.paths):
            path = f"{outline.name}:{n}"
            rows += [
                {"layer": "district", "x": x, "y": y, "what": shown, "path": path, "seq": k}
                for k, (x, y) in enumerate(piece)
            ]
        cx, cy = outline.centre_km
        if abs(cx) <= half and abs(cy) <= half:
            rows.append({"layer": "district_name", "x": cx, "y": cy, "what": shown})
    return rows


def caption(result: RolloutResult, lang: str, cast: Cast) -> str:
    """What the map's positions are: schematic always; over real outlines when there are some."""
    area = round(4 * _half_km(result) ** 2)
    if districts.outlines(cast.city, round(_half_km(result), 3)):
        return t("map_caption_outlines", lang, area=units.count(area, lang))
    return t("map_caption_schematic", lang)


def map_rows(result: RolloutResult, index: int, lang: str, walk_km: float, cast: Cast) -> pd.DataFrame:
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
    rows += district_rows(result, lang, cast)
    columns = ["layer", "x", "y", "x2", "y2", "what", "size", "detail", "path", "seq"]
    return pd.DataFrame(rows, columns=columns)


def city_chart(
    result: RolloutResult, index: int, lang: str, walk_km: float, cast: Cast
) -> tuple[pd.DataFrame, Spec]:
    pos = result.city.positions_km.values()
    (x_low, x_high), (y_low, y_high) = _extent([p[0] for p in pos]), _extent([p[1] for p in pos])
    # A km as long across as up whatever the chart's width: the x span follows the plot's
    # width / height (Vega's signals), so a phone's narrow map shows less east and west.
    mid, half = (x_low + x_high) / 2, max(x_high - x_low, y_high - y_low) / 2
    xs = {
        "field": "x",
        "type": "quantitative",
        "title": t("km", lang),
        "scale": {
            "domain": [
                {"expr": f"{mid} - {half} * width / height"},
                {"expr": f"{mid} + {half} * width / height"},
            ]
        },
    }
    ys = {
        "field": "y",
        "type": "quantitative",
        "title": t("km", lang),
        "scale": {"domain": [(y_low + y_high) / 2 - half, (y_low + y_high) / 2 + half]},
    }
    outline = {
        "transform": [{"filter": "datum.layer == 'district'"}],
        "mark": {"type": "line", "clip": True, "strokeWidth": 1, "color": "#5b6f8a", "opacity": 0.7},
        "encoding": {
            "x": xs,
            "y": ys,
            "detail": {"field": "path", "type": "nominal"},
            "order": {"field": "seq", "type": "quantitative"},
            "tooltip": [{"field": "what", "title": t("district", lang)}],
        },
    }
    names = {
        "transform": [{"filter": "datum.layer == 'district_name'"}],
        "mark": {"type": "text", "clip": True, "fontSize": 11, "color": "#33475b", "opacity": 0.8},
        "encoding": {"x": xs, "y": ys, "text": {"field": "what"}},
    }
    tip = [{"field": "what", "title": t("figure", lang)}, {"field": "detail", "title": " "}]
    kinds = sorted(
        {name(s.kind, lang) for s in result.sites}, key=lambda k: k not in [name(x, lang) for x in LOAD_KINDS]
    )
    spec: Spec = {
        "height": MAP_HEIGHT_PX,
        "layer": [
            outline,
            names,
            {
                "transform": [{"filter": "datum.layer == 'line'"}],
                "mark": {"type": "rule", "opacity": 0.5, "clip": True},
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
                "mark": {"type": "circle", "opacity": 0.6, "clip": True},
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
                        "legend": {"orient": "bottom", "direction": "vertical"},
                    },
                    "tooltip": tip,
                },
                "params": [{"name": "zoom", "select": "interval", "bind": "scales"}],
            },
            {
                "transform": [{"filter": "datum.layer == 'site'"}],
                "mark": {
                    "type": "point",
                    "filled": True,
                    "stroke": "black",
                    "strokeWidth": 0.5,
                    "size": 60,
                    "clip": True,
                },
                "encoding": {
                    "x": xs,
                    "y": ys,
                    "shape": {
                        "field": "what",
                        "type": "nominal",
                        "title": None,
                        "scale": {"domain": kinds},
                        "legend": {"orient": "bottom", "direction": "vertical"},
                    },
                    "color": {"value": "#d62728"},
                    "tooltip": tip,
                },
            },
        ],
        "resolve": {"scale": {"color": "independent", "size": "independent"}},
    }
    return map_rows(result, index, lang, walk_km, cast), spec
