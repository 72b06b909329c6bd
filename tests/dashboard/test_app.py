"""The dashboard page and every control, through Streamlit's AppTest (no browser).

Every run here is a real rollout run of a shipped scenario at a small sample; the run cache is
process-wide, so the tests after the first show the same run at once.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no types
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from dashboard import playback, units
from dashboard.i18n import LABELS, t
from dashboard.params import PARAMS
from dashboard.sidebar import DEFAULT_SCENARIO
from scenarios.rollout_loader import shipped
from sim.rollout.result import KPI_MONEY_PER_YEAR

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
TIMEOUT_S = 180
SAMPLE = 0.0001  # a tenth of the sidebar's default: these tests check the page, not the figures


def _clean(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _run(at: AppTest) -> AppTest:
    return _clean(at.run(timeout=TIMEOUT_S))


def started(view: str = "view_rollout") -> AppTest:
    """The app after pressing Run on the first shipped scenario at SAMPLE."""
    at = _run(AppTest.from_file(APP, default_timeout=TIMEOUT_S))
    sample = next(n for n in at.number_input if n.label == t("sample", "en"))
    sample.set_value(SAMPLE)
    at.radio(key="view:en").set_value(view)
    at = _run(at.button(key="run").click())
    assert at.success, "the run reported no outcome"
    return at


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.subheader]
    return "\n".join(str(p) for p in parts)


def test_first_render_offers_scenarios_and_parameters() -> None:
    at = _run(AppTest.from_file(APP, default_timeout=TIMEOUT_S))
    assert at.title[0].value == t("app_title", "en")
    assert at.info[0].value == t("no_run", "en")  # nothing shown before a real run
    names = at.selectbox(key="scenario_name").options
    assert sorted(names) == sorted(shipped()) and names[0] == DEFAULT_SCENARIO
    labels = {n.label for n in at.number_input} | {x.label for x in at.text_input}
    labels |= {x.label for x in at.selectbox}
    assert {p.label["en"] for p in PARAMS} <= labels
    assert at.radio(key="view:en").options == [
        t(v, "en")
        for v in (
            "view_rollout",
            "view_city",
            "view_flows",
            "view_services",
            "view_compare",
            "view_downloads",
        )
    ]
    assert not at.button(key="run").disabled


def test_run_then_same_inputs_come_from_the_cache() -> None:
    at = started()
    assert at.success[0].value.startswith("Run finished in")
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) >= {t(k, "en") for k in ("cardholders", "terminals", "recharge_points", "coverage")}
    assert int(metrics[t("cardholders", "en")].replace(",", "")) > 0
    assert at.table, "the targets table is missing"
    assert len(at.get("vega_lite_chart")) == 7  # three KPIs, sectors, float, waits, money
    at = _run(at.button(key="run").click())
    assert at.success[0].value == t("run_cached", "en")
    # another seed is another run
    seed = next(n for n in at.number_input if n.label == t("seed", "en"))
    seed.set_value(seed.value + 1)
    at = _run(at.button(key="run").click())
    assert at.success[0].value.startswith("Run finished in")


def test_money_shown_is_the_runs_in_cny() -> None:
    """Every money figure on the page, read back, is the run's fen / 100 (not 100x too large)."""
    at = started()
    months = at.select_slider[0].options
    at = _run(at.select_slider[0].set_value(months[-1]))
    result = at.session_state["result"]
    last = result.months[-1]
    shown_float = next(m.value for m in at.metric if m.label == t("float", "en"))
    exact_float = last.float_fen / 100
    assert abs(units.parse_yuan(shown_float) - exact_float) <= units.shown_precision(exact_float)
    targets = at.table[0].value
    for check, (_, row) in zip(result.targets, targets.iterrows(), strict=True):
        assert row[t("kpi", "en")] == t(check.target.kpi, "en")
        if check.target.kpi in KPI_MONEY_PER_YEAR:
            low = units.parse_yuan(row[t("target", "en")].split(" – ")[0])
            assert abs(low - check.target.low / 100) <= units.shown_precision(check.target.low / 100), row
            if row[t("actual", "en")]:
                actual = units.parse_yuan(row[t("actual", "en")])
                assert abs(actual - check.actual / 100) <= units.shown_precision(check.actual / 100), row
        else:
            assert row[t("target", "en")].split(" – ")[0] == f"{check.target.low:,}"
    positions = at.table[1].value  # the month's positions: the reserve keeps loads - spending
    shown = dict(zip(positions[t("participant", "en")], positions[t("position", "en")], strict=True))
    reserve_yuan = (last.loads_fen - last.card_spending_fen) / 100
    assert abs(units.parse_yuan(shown["reserve"]) - reserve_yuan) <= units.shown_precision(reserve_yuan)
    assert len(shown) >= 3
    header = "\n".join(c.value for c in at.caption)
    assert f"{result.sample:.3%} of citizens" in header  # the sampling caveat


def _terminals_at_end(at: AppTest) -> int:
    months = at.select_slider[0].options
    at = _run(at.select_slider[0].set_value(months[-1]))
    metric = next(m for m in at.metric if m.label == t("terminals", "en"))
    return int(metric.value.replace(",", ""))


def test_what_if_more_terminals() -> None:
    at = started()
    before = _terminals_at_end(at)
    widget = next(n for n in at.number_input if n.label == "Terminals × plan")
    widget.set_value(2.0)
    at = _run(at.button(key="run").click())
    assert at.success[0].value.startswith("Run finished in")  # a new run, not the cached one
    assert _terminals_at_end(at) == pytest.approx(2 * before, abs=2)


@pytest.mark.parametrize(
    ("label", "value", "field"),
    [
        ("Cards issued per window per day", -5, "adoption.cards_per_window_per_day"),
        ("Interest on the float (bp/year)", 20000, "finance.float_rate_bp"),
    ],
)
def test_bad_parameter_shows_the_schema_message(label: str, value: int, field: str) -> None:
    at = _run(AppTest.from_file(APP, default_timeout=TIMEOUT_S))
    widget = next(n for n in at.number_input if n.label == label)
    at = _run(widget.set_value(value))
    assert len(at.error) == 1
    message = at.error[0].value
    assert field in message and "\n" not in message, message
    assert at.button(key="run").disabled


def test_bad_month_shows_the_schema_message() -> None:
    at = _run(AppTest.from_file(APP, default_timeout=TIMEOUT_S))
    at = _run(at.text_input[0].set_value("2009-13"))
    assert "rollout.end_month" in at.error[0].value, at.error[0].value
    assert at.button(key="run").disabled


def test_uploaded_scenario_runs_and_a_broken_one_names_its_line() -> None:
    at = _run(AppTest.from_file(APP, default_timeout=TIMEOUT_S))
    at = _run(at.radio(key="scenario_source:en").set_value("uploaded"))
    assert at.sidebar.info[0].value == t("upload_first", "en")
    text = shipped()[DEFAULT_SCENARIO].read_bytes()
    at = _run(at.file_uploader(key="scenario_upload").upload("mine.toml", text, "application/toml"))
    assert not at.error
    assert at.number_input, "the uploaded scenario's parameters are not shown"
    next(n for n in at.number_input if n.label == t("sample", "en")).set_value(SAMPLE)
    at = _run(at.button(key="run").click())
    assert at.session_state["result"] is not None and not at.info
    broken = text.replace(b"[adoption]", b"[adoption]\nno_such_key = 1", 1)
    at = _run(at.file_uploader(key="scenario_upload").set_value(("broken.toml", broken, "application/toml")))
    message = at.error[0].value
    assert message.startswith("broken.toml:") and "no_such_key" in message, message
    assert at.info[0].value == t("no_run", "en")  # no earlier run is left on screen
    assert "cardtwin-dashboard-" not in message  # the private folder is not shown


def _pb(at: AppTest) -> playback.Playback:
    value: playback.Playback = at.session_state["playback"]
    return value


def test_playback_controls() -> None:
    at = started()
    months = at.select_slider[0].options
    assert at.select_slider[0].value == months[0]
    assert at.button(key="back").disabled
    at = _run(at.button(key="step").click())
    assert at.select_slider[0].value == months[1]
    at = _run(at.selectbox(key="stride").set_value(12))
    at = _run(at.button(key="step").click())
    assert at.select_slider[0].value == months[13]
    at = _run(at.button(key="back").click())
    assert _pb(at).index == 1
    at = _run(at.select_slider[0].set_value(months[-2]))
    assert _pb(at).index == len(months) - 2
    at = _run(at.selectbox(key="stride").set_value(1))
    at = _run(at.button(key="play").click())
    assert _pb(at).playing or _pb(at).at_end
    time.sleep(1.2)  # a tick's interval
    at = _run(at)
    assert _pb(at).at_end and not _pb(at).playing  # played to the last month and stopped
    assert at.select_slider[0].value == months[-1]
    assert at.button(key="step").disabled
    at = _run(at.button(key="play").click())  # play at the end starts again from the first month
    assert _pb(at).index <= 1 and _pb(at).playing
    at = _run(at.button(key="pause").click())
    paused = _pb(at).index
    time.sleep(1.2)
    assert _pb(_run(at)).index == paused


def chart_data(chart: Any) -> pd.DataFrame:
    """The table a Vega-Lite chart on the page was given (Arrow bytes in its message)."""
    return convert_arrow_bytes_to_pandas_df(chart.proto.data.data)


def test_city_flows_and_downloads_views() -> None:
    at = started("view_city")
    assert len(at.get("vega_lite_chart")) == 1 and at.select_slider[0]
    assert not at.get("image")  # nothing drawn in Python
    at = _run(at.radio(key="view:en").set_value("view_flows"))
    assert not at.get("image") and at.table
    (chart,) = at.get("vega_lite_chart")
    result = at.session_state["result"]
    flows = chart_data(chart)
    flows = flows[flows["layer"] == "flow"]
    # the whole run by default: into the reserve the run's loads, out of it its spending, in CNY
    into = flows[flows["payee"] == t("reserve", "en")]["amount_yuan"].sum()
    out = flows[flows["payer"] == t("reserve", "en")]["amount_yuan"].sum()
    assert round(into * 100) == sum(r.loads_fen for r in result.months)
    assert round(out * 100) == sum(r.card_spending_fen for r in result.months)
    assert all(
        a == units.yuan(round(y * 100), "en")
        for a, y in zip(flows["amount"], flows["amount_yuan"], strict=True)
    )
    at = _run(at.radio(key="view:en").set_value("view_downloads"))
    names = [b.label.split(" — ")[1] for b in at.download_button]
    assert names == [
        "months.csv",
        "targets.csv",
        "flows.csv",
        "sites.csv",
        "kpis.png",
        "sectors.png",
        "waits.png",
        "float.png",
        "money.png",
        "city.png",
        "flows.png",
        "report.html",
        "results.zip",
    ]


def test_compare_two_scenarios() -> None:
    at = started("view_compare")
    names = list(shipped())
    at = _run(at.selectbox(key="scenario_b_name").set_value(names[-1]))
    at = _run(at.button(key="run_b").click())
    tables = at.table
    assert len(tables) == 3  # the comparison and each run's targets
    assert list(tables[0].value.columns) == [t("figure", "en"), "A", "B", t("difference", "en")]
    assert not at.get("image")
    charts = at.get("vega_lite_chart")
    assert len(charts) == 8  # each run's three KPIs and its float
    b = at.session_state["result_b"]
    assert b.scenario == names[-1] and names[-1] in _texts(at)
    for run, kpi_chart, float_chart in (
        (at.session_state["result"], charts[0], charts[3]),
        (b, charts[4], charts[7]),
    ):
        # the chart's data is the run's, in its unit: cardholders as counts, the float in CNY from fen
        line = chart_data(kpi_chart)
        assert line[line["status"] == ""]["value"].tolist() == [float(r.cardholders) for r in run.months]
        money = chart_data(float_chart)
        shown = money[money["series"] == t("float", "en")]["value"].tolist()
        assert shown == [r.float_fen / 100 for r in run.months]


def test_chinese_labels_after_switching() -> None:
    at = started("view_city")
    at = _run(at.toggle(key="lang_zh").set_value(True))
    assert at.title[0].value == LABELS["app_title"]["zh"]
    assert at.button(key="play").label == LABELS["play"]["zh"]
    assert at.button(key="run").label == LABELS["run"]["zh"]
    assert {m.label for m in at.metric} >= {LABELS["cardholders"]["zh"], LABELS["terminals"]["zh"]}
    assert at.radio(key="view:zh").options[0] == LABELS["view_rollout"]["zh"]
    assert at.radio(key="view:zh").value == "view_city"  # the view survives the switch
    assert "阶段" in _texts(at)
    at = _run(at.toggle(key="lang_zh").set_value(False))
    assert at.title[0].value == LABELS["app_title"]["en"]


def test_another_scenario_opens_at_its_first_month() -> None:
    at = started()
    at = _run(at.button(key="step").click())
    at = _run(at.button(key="step").click())
    assert _pb(at).index == 2
    at = _run(at.button(key="run").click())  # the same scenario again keeps its month
    assert _pb(at).index == 2
    other = next(n for n in shipped() if n != DEFAULT_SCENARIO)
    at = _run(at.selectbox(key="scenario_name").set_value(other))
    next(n for n in at.number_input if n.label == t("sample", "en")).set_value(SAMPLE)
    at = _run(at.button(key="run").click())
    assert at.session_state["result"].scenario == other
    assert _pb(at).index == 0 and at.select_slider[0].value == at.select_slider[0].options[0]
