"""The played charts, as Vega-Lite specifications the browser draws (with hover tooltips).

A step of playback only slices the run's table up to the month shown and hands it to the
browser: nothing is drawn in Python, so a step costs milliseconds, not a matplotlib render.
Every axis is fixed to the whole run's range (months on x, 0 .. the run's largest value on y),
so a line grows into a frame that does not rescale under it while playing. Money is plotted
in CNY (fen / 100) with axis labels in CNY M/B or 万/亿元 from the same rules as the page.
The downloads render these same specifications to PNG (`downloads`, with vl-convert).
"""

from __future__ import annotations

from typing import Any

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no types; pandas-stubs is not a dependency

from dashboard import units, verdicts
from dashboard.frames import sectors
from dashboard.i18n import name, t
from sim.rollout import RolloutResult

Spec = dict[str, Any]
HEIGHT_PX = 220
STATUS_COLOURS = verdicts.HEX


def money_label_expr(lang: str) -> str:
    """A Vega expression labelling a CNY axis as the page does: 3.02B / 30.2亿."""
    if lang == "zh":
        return (
            "abs(datum.value) >= 1e8 ? format(datum.value / 1e8, '.3~r') + '亿' : "
            "abs(datum.value) >= 1e4 ? format(datum.value / 1e4, '.3~r') + '万' : format(datum.value, ',')"
        )
    return (
        "abs(datum.value) >= 1e9 ? format(datum.value / 1e9, '.3~r') + 'B' : "
        "abs(datum.value) >= 1e6 ? format(datum.value / 1e6, '.3~r') + 'M' : format(datum.value, ',')"
    )


def count_label_expr(lang: str) -> str:
    if lang == "zh":
        return (
            "abs(datum.value) >= 1e8 ? format(datum.value / 1e8, '.3~r') + '亿' : "
            "abs(datum.value) >= 1e4 ? format(datum.value / 1e4, '.3~r') + '万' : format(datum.value, ',')"
        )
    return "format(datum.value, ',')"


def _months(result: RolloutResult) -> list[str]:
    return [r.month for r in result.months]


def _x(result: RolloutResult, lang: str) -> Spec:
    """The month axis over the whole run, labelled once a year."""
    months = _months(result)
    every = 1 if len(months) <= 12 else 12
    ticks = [m for i, m in enumerate(months) if every == 1 or m.endswith("-01") or i == 0]
    axis: Spec = {"values": ticks, "labelAngle": 0}
    if every > 1:
        axis["labelExpr"] = "slice(datum.value, 0, 4)"  # the year of each January
    return {
        "field": "month",
        "type": "ordinal",
        "title": t("month", lang),
        "scale": {"domain": months},
        "axis": axis,
    }


def _domain(values: list[float]) -> list[float]:
    """0 .. the largest value of the run (and the smallest, when negative); never a null span."""
    low, high = min([0.0, *values]), max([0.0, *values])
    return [low, high if high > low else low + 1.0]


def _long(result: RolloutResult, index: int, series: dict[str, list[float]]) -> pd.DataFrame:
    """Months up to `index` by series: the table a layered line or area chart reads."""
    months = _months(result)[: index + 1]
    rows = [{"month": m, "series": s, "value": v[i]} for s, v in series.items() for i, m in enumerate(months)]
    return pd.DataFrame(rows, columns=["month", "series", "value"])


def _lines(
    result: RolloutResult, index: int, lang: str, series: dict[str, list[float]], y_title: str, money: bool
) -> tuple[pd.DataFrame, Spec]:
    everything = [v for vs in series.values() for v in vs]
    label = money_label_expr(lang) if money else count_label_expr(lang)
    spec: Spec = {
        "height": HEIGHT_PX,
        "mark": {"type": "line", "point": False, "strokeWidth": 2},
        "encoding": {
            "x": _x(result, lang),
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": y_title,
                "scale": {"domain": _domain(everything), "nice": False},
                "axis": {"labelExpr": label},
            },
            "color": {
                "field": "series",
                "type": "nominal",
                "title": None,
                "scale": {"domain": list(series)},
                "legend": {"orient": "bottom"},
            },
            "tooltip": [
                {"field": "month", "title": t("month", lang)},
                {"field": "series", "title": t("figure", lang)},
                {"field": "value", "title": y_title, "format": ",.0f"},
            ],
        },
    }
    return _long(result, index, series), spec


def kpi_chart(result: RolloutResult, index: int, lang: str, kpi: str) -> tuple[pd.DataFrame, Spec]:
    """One deployment KPI up to the month, with its targets coloured by their status."""
    actual = [float(getattr(r, kpi)) for r in result.months]
    month = result.months[index].month
    checks = [c for c in result.targets if c.target.kpi == kpi and c.target.due_month in _months(result)]
    marks: list[dict[str, object]] = []
    for c in checks:
        status = verdicts.status(c, month)
        shown = f"{units.kpi_value(kpi, c.target.low, lang)} · {t(status, lang)}"
        marks.append(
            {
                "month": c.target.due_month,
                "series": t("target", lang),
                "value": float(c.target.low),
                "status": status,
                "shown": shown,
            }
        )
    data, line = _lines(result, index, lang, {t(kpi, lang): actual}, t(kpi, lang), money=False)
    line["encoding"]["y"]["scale"]["domain"] = _domain(actual + [float(c.target.low) for c in checks])
    line["encoding"]["color"]["legend"] = None
    data = pd.concat([data.assign(status="", shown=""), pd.DataFrame(marks)], ignore_index=True)
    targets: Spec = {
        "transform": [{"filter": "datum.status != ''"}],
        "mark": {"type": "point", "shape": "diamond", "size": 120, "filled": True},
        "encoding": {
            "x": {"field": "month", "type": "ordinal"},
            "y": {"field": "value", "type": "quantitative"},
            "color": {
                "field": "status",
                "type": "nominal",
                "scale": {"domain": list(STATUS_COLOURS), "range": list(STATUS_COLOURS.values())},
                "legend": None,
            },
            "tooltip": [
                {"field": "month", "title": t("due", lang)},
                {"field": "shown", "title": t("target", lang)},
            ],
        },
    }
    line_layer = {k: v for k, v in line.items() if k != "height"}
    line_layer["transform"] = [{"filter": "datum.status == ''"}]
    spec: Spec = {
        "height": HEIGHT_PX,
        "title": t(kpi, lang),
        "layer": [line_layer, targets],
        "resolve": {"scale": {"color": "independent"}},  # the line's colour is not a status's
    }
    return data, spec


def sectors_chart(result: RolloutResult, index: int, lang: str) -> tuple[pd.DataFrame, Spec]:
    """Transactions per day by sector, stacked; the y range is the run's busiest month."""
    names = sectors(result)
    series = {name(s, lang): [float(r.tx_per_day_by_sector.get(s, 0)) for r in result.months] for s in names}
    totals = [float(sum(r.tx_per_day_by_sector.values())) for r in result.months]
    data, spec = _lines(result, index, lang, series, t("tx_per_day", lang), money=False)
    spec["mark"] = {"type": "area"}
    spec["encoding"]["y"]["stack"] = "zero"
    spec["encoding"]["y"]["scale"]["domain"] = _domain(totals)
    return data, spec


def waits_chart(result: RolloutResult, index: int, lang: str) -> tuple[pd.DataFrame, Spec]:
    series = {
        t("wait_mean", lang): [r.recharge_wait_s_mean for r in result.months],
        t("wait_p95", lang): [r.recharge_wait_s_p95 for r in result.months],
        t("window_wait", lang): [r.window_wait_s_mean for r in result.months],
    }
    data, spec = _lines(result, index, lang, series, t("seconds", lang), money=False)
    spec["encoding"]["tooltip"][2]["format"] = ",.1f"
    return data, spec


def float_chart(result: RolloutResult, index: int, lang: str) -> tuple[pd.DataFrame, Spec]:
    """The float and the operator's cumulative cash, in CNY."""
    series = {
        t("float", lang): [r.float_fen / units.FEN_PER_YUAN for r in result.months],
        t("cash_cumulative", lang): [r.cash_cumulative_fen / units.FEN_PER_YUAN for r in result.months],
    }
    return _lines(result, index, lang, series, t("yuan", lang), money=True)


def money_chart(result: RolloutResult, index: int, lang: str) -> tuple[pd.DataFrame, Spec]:
    """Fees and float income per month, in CNY."""
    series = {
        t("fees", lang): [r.fees_fen / units.FEN_PER_YUAN for r in result.months],
        t("float_income", lang): [r.float_income_fen / units.FEN_PER_YUAN for r in result.months],
    }
    totals = [a + b for a, b in zip(*series.values(), strict=True)]
    data, spec = _lines(result, index, lang, series, t("yuan", lang), money=True)
    spec["mark"] = {"type": "bar"}
    spec["encoding"]["y"]["stack"] = "zero"
    spec["encoding"]["y"]["scale"]["domain"] = _domain(totals)
    return data, spec
