"""The services view: the medical-insurance share by month, the park-card holders, account
payments, bike rentals and library loans, equal to the run's own outputs in their unit, in
English and in Chinese (AppTest, no browser; the browser's walk is in test_pages)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import charts_services, units, view_services
from dashboard.i18n import LABELS, t
from dashboard.runner import services_of
from dashboard.sidebar import DEFAULT_SCENARIO
from scenarios.rollout_loader import load_rollout, shipped
from sim.rollout import RolloutResult, run_rollout
from sim.services.rollout import ServicesRollout, rollout_tables
from tests.dashboard.test_app import APP, SAMPLE, TIMEOUT_S, _run
from tests.dashboard.test_chinese import english_words, visible_texts


@pytest.fixture(scope="module")
def made() -> tuple[RolloutResult, ServicesRollout]:
    """The run the page shows, made again here: the same scenario, seed and sample."""
    scenario = load_rollout(shipped()[DEFAULT_SCENARIO])
    result = run_rollout(scenario, seed=scenario.rollout.seed, sample=SAMPLE)
    services = services_of(scenario, result)
    assert services is not None
    return result, services


def _page(lang: str, month_index: int = -1) -> AppTest:
    at = _run(AppTest.from_file(APP, default_timeout=TIMEOUT_S))
    next(n for n in at.number_input if n.label == t("sample", "en")).set_value(SAMPLE)
    at.radio(key="view:en").set_value("view_services")
    at = _run(at.button(key="run").click())
    if lang == "zh":
        at = _run(at.toggle(key="lang_zh").set_value(True))
        at = _run(at.radio(key="view:zh").set_value("view_services"))
    if month_index != -1:
        slider = at.select_slider(key="services_month")
        at = _run(slider.set_value(slider.options[month_index]))
    return at


def expected_metrics(
    result: RolloutResult, services: ServicesRollout, lang: str, i: int = -1
) -> dict[str, str]:
    """Every metric of the view at month `i`, as the run's figures in their unit."""
    i = i % len(result.months)
    row = result.months[i]
    out = {
        t("svc_medical_share", lang): units.share(float(services.medical_share[0, i])),
        t("svc_park_holders", lang): units.count(round(float(services.park_holders[0, i])), lang),
    }
    for key, label, money in view_services.DAY_METRICS:
        value = row.services_per_day[key]
        out[t(label, lang)] = units.yuan(value, lang) if money else units.count(value, lang)
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_services_view_shows_the_runs_figures(
    made: tuple[RolloutResult, ServicesRollout], lang: str
) -> None:
    result, services = made
    at = _page(lang)
    shown = {m.label: m.value for m in at.metric}
    want = expected_metrics(result, services, lang)
    assert {k: shown[k] for k in want} == want
    last = result.months[-1].services_per_day
    assert last["bike_rentals"] > 0 and last["library_loans"] > 0 and last["account_payments"] > 0
    # The seed comparison: the model's figure, its band and the seed's, as rollout_tables has them.
    rows = rollout_tables(services)["services_vs_seed"][1]
    table = at.table[0].value
    assert list(table[t("month", lang)]) == [r[1] for r in rows] == ["2009-03", "2008-12"]
    park = rows[1]
    assert table[t("svc_model", lang)].iloc[1] == units.count(park[2], lang)
    assert table[t("svc_seed", lang)].iloc[1] == units.count(36_000, lang) + "+"
    assert table[t("svc_model", lang)].iloc[0] == units.share(rows[0][2])
    assert len(at.get("vega_lite_chart")) == 3
    if lang == "zh":
        assert english_words(visible_texts(at)) == []


def test_an_earlier_month_shows_that_months_figures(made: tuple[RolloutResult, ServicesRollout]) -> None:
    result, services = made
    i = [m.month for m in result.months].index("2007-06")
    at = _page("en", i)
    shown = {m.label: m.value for m in at.metric}
    want = expected_metrics(result, services, "en", i)
    assert {k: shown[k] for k in want} == want
    assert (
        want[t("svc_medical_share", "en")]
        != expected_metrics(result, services, "en")[t("svc_medical_share", "en")]
    )


def test_the_charts_carry_the_runs_series(made: tuple[RolloutResult, ServicesRollout]) -> None:
    result, services = made
    data, spec = charts_services.medical_share_chart(result, services, "en")
    assert np.array_equal(data["value"].to_numpy(), services.medical_share[0])
    assert (data["low"] <= data["value"] + 1e-12).all() and (data["value"] <= data["high"] + 1e-12).all()
    assert spec["title"] == LABELS["svc_medical_share"]["en"]
    data, _ = charts_services.day_chart(result, "zh", lambda k: t(f"svc_{k}", "zh"))
    bikes = data[data["series"] == t("svc_bike_rentals", "zh")]["value"].tolist()
    assert bikes == [float(m.services_per_day.get("bike_rentals", 0)) for m in result.months]


def test_a_scenario_without_services_says_so(made: tuple[RolloutResult, ServicesRollout]) -> None:
    scenario = load_rollout(shipped()[DEFAULT_SCENARIO])
    bare = dataclasses.replace(scenario, city_day=dataclasses.replace(scenario.day_scenario, services=None))
    assert services_of(bare, made[0]) is None
