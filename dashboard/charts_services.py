"""The services' charts (seed 003's card beyond the purse), as Vega-Lite specifications.

The medical-insurance share of visits settled by card and the park annual card's holders are
model outputs with a 90% band (`sim.services.rollout`): a line for the point values over a band
from the 5th to the 95th percentile of the draws. The services' day figures (account payments,
bike rentals, library loans) are lines like the rollout view's, from the months' own
`services_per_day`. Axes span the whole run, as every played chart's do.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # pandas ships no types; pandas-stubs is not a dependency

from dashboard import charts
from dashboard.charts import Spec
from dashboard.i18n import t
from sim.rollout import RolloutResult
from sim.services.rollout import PERCENTILES, ServicesRollout

# The day figures drawn together (counts of one kind: transactions a day).
DAY_SERIES = ("account_payments", "bike_rentals", "library_loans")


def _band(
    result: RolloutResult, figure: np.ndarray, lang: str, title: str, y: Spec, fmt: str
) -> tuple[pd.DataFrame, Spec]:
    low, high = np.percentile(figure[1:], PERCENTILES, axis=0)
    data = pd.DataFrame(
        {"month": [r.month for r in result.months], "value": figure[0], "low": low, "high": high}
    )
    x = charts._x(result, lang)  # the played charts' month axis
    tooltip = [
        {"field": "month", "title": t("month", lang)},
        {"field": "value", "title": t("svc_model", lang), "format": fmt},
        {"field": "low", "title": t("svc_p5", lang), "format": fmt},
        {"field": "high", "title": t("svc_p95", lang), "format": fmt},
    ]
    spec: Spec = {
        "height": charts.HEIGHT_PX,
        "title": title,
        "layer": [
            {
                "mark": {"type": "area", "opacity": 0.25},
                "encoding": {"x": x, "y": {**y, "field": "low"}, "y2": {"field": "high"}},
            },
            {
                "mark": {"type": "line", "strokeWidth": 2},
                "encoding": {"x": x, "y": {**y, "field": "value"}, "tooltip": tooltip},
            },
        ],
    }
    return data, spec


def medical_share_chart(result: RolloutResult, r: ServicesRollout, lang: str) -> tuple[pd.DataFrame, Spec]:
    y: Spec = {
        "type": "quantitative",
        "title": t("svc_share_axis", lang),
        "scale": {"domain": [0.0, 1.0], "nice": False},
        "axis": {"format": ".0%"},
    }
    return _band(result, r.medical_share, lang, t("svc_medical_share", lang), y, ".0%")


def park_chart(result: RolloutResult, r: ServicesRollout, lang: str) -> tuple[pd.DataFrame, Spec]:
    y: Spec = {
        "type": "quantitative",
        "title": t("svc_holders_axis", lang),
        "scale": {"domain": charts._domain([float(v) for v in r.park_holders.max(axis=0)]), "nice": False},
        "axis": {"labelExpr": charts.count_label_expr(lang)},
    }
    return _band(result, r.park_holders, lang, t("svc_park_holders", lang), y, ",.0f")


def day_chart(result: RolloutResult, lang: str, label: Callable[[str], str]) -> tuple[pd.DataFrame, Spec]:
    """Account payments, bike rentals and library loans a day, city-wide, by month."""
    series = {label(k): [float(m.services_per_day.get(k, 0)) for m in result.months] for k in DAY_SERIES}
    data, spec = charts._lines(
        result, len(result.months) - 1, lang, series, t("svc_per_day_axis", lang), False
    )
    spec["title"] = t("fig_svc_day", lang)
    return data, spec
