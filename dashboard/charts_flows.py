"""Settlement flows as a Vega-Lite graph: who pays whom over a period, and how much.

The reserve sits at the centre and the other parties on a circle around it; an
arrow goes from payer to payee, as wide as its share of the largest flow, labelled with the
amount in CNY from the units layer; hover shows payer, payee and amount. Opposite flows of one
pair are drawn apart so both show. The amounts are the flows' fen / 100 (CNY).
"""

from __future__ import annotations

import math

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no types; pandas-stubs is not a dependency

from dashboard import participants, units
from dashboard.charts import Spec
from dashboard.i18n import t
from sim.rollout import Flow
from sim.rollout.sites import RESERVE

FLOWS_HEIGHT_PX = 460
_SIDE = 0.035  # how far an arrow sits to its right of the line between two parties
_HEAD_AT = 0.6  # where along the arrow its head is drawn (its amount sits there too)


def layout(flows: tuple[Flow, ...]) -> dict[str, tuple[float, float]]:
    """The reserve (every load goes in, all spending comes out) at the centre, the other
    parties on the unit circle in name order, the first at the top."""
    names = sorted({p for f in flows for p in (f.payer, f.payee)} - {RESERVE})
    step = 2 * math.pi / max(1, len(names))
    pos = {n: (math.sin(i * step), math.cos(i * step)) for i, n in enumerate(names)}
    return pos | ({RESERVE: (0.0, 0.0)} if any(RESERVE in (f.payer, f.payee) for f in flows) else {})


def flow_rows(flows: tuple[Flow, ...], lang: str) -> pd.DataFrame:
    """One row per party (layer "party") and per flow (layer "flow", with its arrow head)."""
    pos = layout(flows)
    top = max((f.amount_fen for f in flows), default=1) or 1
    rows: list[dict[str, object]] = [
        {"layer": "party", "x": x, "y": y, "label": participants.shown(p, lang)} for p, (x, y) in pos.items()
    ]
    for f in flows:
        (x, y), (x2, y2) = pos[f.payer], pos[f.payee]
        dx, dy = x2 - x, y2 - y
        length = math.hypot(dx, dy) or 1.0
        ox, oy = _SIDE * dy / length, -_SIDE * dx / length  # to the right of the direction
        rows.append(
            {
                "layer": "flow",
                "x": x + ox,
                "y": y + oy,
                "x2": x2 + ox,
                "y2": y2 + oy,
                "hx": x + ox + _HEAD_AT * dx,
                "hy": y + oy + _HEAD_AT * dy,
                "angle": math.degrees(math.atan2(dx, dy)) % 360,
                "width": 0.5 + 7 * f.amount_fen / top,
                "amount_yuan": f.amount_fen / units.FEN_PER_YUAN,
                "amount": units.yuan(f.amount_fen, lang),
                "payer": participants.shown(f.payer, lang),
                "payee": participants.shown(f.payee, lang),
            }
        )
    columns = ["layer", "x", "y", "x2", "y2", "hx", "hy", "angle", "width", "amount_yuan", "amount"]
    return pd.DataFrame(rows, columns=[*columns, "payer", "payee", "label"])


def flows_chart(flows: tuple[Flow, ...], lang: str) -> tuple[pd.DataFrame, Spec]:
    axis = {"axis": None, "scale": {"domain": [-1.35, 1.35]}}
    x = {"field": "x", "type": "quantitative", **axis}
    y = {"field": "y", "type": "quantitative", **axis}
    tip = [
        {"field": "payer", "title": t("payer", lang)},
        {"field": "payee", "title": t("payee", lang)},
        {"field": "amount", "title": t("amount", lang)},
    ]
    flow = [{"filter": "datum.layer == 'flow'"}]
    spec: Spec = {
        "height": FLOWS_HEIGHT_PX,
        "layer": [
            {
                "transform": flow,
                "mark": {"type": "rule", "color": "#ff7f0e", "opacity": 0.8},
                "encoding": {
                    "x": x,
                    "y": y,
                    "x2": {"field": "x2"},
                    "y2": {"field": "y2"},
                    "strokeWidth": {"field": "width", "type": "quantitative", "scale": None},
                    "tooltip": tip,
                },
            },
            {
                "transform": flow,
                "mark": {"type": "point", "shape": "triangle-up", "filled": True, "color": "#c45c00"},
                "encoding": {
                    "x": {"field": "hx", "type": "quantitative", **axis},
                    "y": {"field": "hy", "type": "quantitative", **axis},
                    "angle": {"field": "angle", "type": "quantitative", "scale": None},
                    "size": {"value": 120},
                    "tooltip": tip,
                },
            },
            {
                "transform": flow,
                "mark": {"type": "text", "fontSize": 10, "dy": -6},
                "encoding": {
                    "x": {"field": "hx", "type": "quantitative", **axis},
                    "y": {"field": "hy", "type": "quantitative", **axis},
                    "text": {"field": "amount"},
                },
            },
            {
                "transform": [{"filter": "datum.layer == 'party'"}],
                "mark": {"type": "circle", "size": 500, "color": "#1f77b4", "opacity": 0.85},
                "encoding": {
                    "x": x,
                    "y": y,
                    "tooltip": [{"field": "label", "title": t("participant", lang)}],
                },
            },
            {
                "transform": [{"filter": "datum.layer == 'party'"}],
                "mark": {"type": "text", "fontSize": 11, "dy": 22},
                "encoding": {"x": x, "y": y, "text": {"field": "label"}},
            },
        ],
    }
    return flow_rows(flows, lang), spec
