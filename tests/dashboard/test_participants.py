"""The participants the page names are the shown scenario's own, for every shipped scenario.

Each shipped rollout scenario is run in the app (AppTest, a real run at a small sample) and
its flows view read in English and Chinese: every participant named in the flows table, the
positions table and the flows chart must occur in that scenario's own data (its banks, its
city as its title names it, an acquirer only where its finance has one) or be a role of every
card system (reserve, operator) or a role shown without a name, which the page then says.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.i18n import LABELS, t
from dashboard.i18n import name as shown_name
from dashboard.participants import CITY_CODES, CITY_NAMES, cast_of, shown
from scenarios.rollout_loader import load_rollout, shipped
from sim.bankcity.world import BILLERS
from tests.dashboard.test_app import APP, SAMPLE, TIMEOUT_S, _run, chart_data

ROLES = [k for k in LABELS if k.startswith("role:")]


def _names_allowed(name: str, lang: str) -> set[str]:
    """What the page may call a participant in a run of the shipped scenario `name`."""
    s = load_rollout(shipped()[name])
    allowed = {t(k, lang) for k in ("reserve", "operator", "load channels", "accepting participants")}
    allowed |= {t(k, lang) for k in ROLES}
    if s.finance.acquirer_fee_share > 0 or s.finance.acquirer_terminal_share > 0:
        allowed.add(t("acquirer", lang))
    allowed |= {t("bank_points", lang, bank=shown_name(b, lang)) for b in s.day_scenario.city.banks}
    for code, city in CITY_CODES.items():
        if CITY_NAMES[city]["en"] in s.rollout.title:  # the scenario's own title names its city
            allowed |= {shown(f"{role}-{code}", lang) for role in ("bus", "metro", "taxi", "window")}
    cast = cast_of(s)
    if cast.switch:  # a bank-card plan: its bank card world's parties (dashboard.participants)
        allowed |= {shown(f"issuer:{b}", lang) for b in cast.banks}
        allowed |= {shown(f"acquirer:acq:{b}", lang) for b in cast.banks}
        allowed |= {shown(f"acquirer:{cast.acquirer_name}", lang), shown(f"partner:{cast.partner}", lang)}
        allowed |= {shown(f"biller:{b}", lang) for b in BILLERS} | {t("switch", lang)}
    return allowed


def _shown_names(at: AppTest, lang: str) -> set[str]:
    flows, positions = (table.value for table in at.table)
    names = (
        set(flows[t("payer", lang)]) | set(flows[t("payee", lang)]) | set(positions[t("participant", lang)])
    )
    (chart,) = at.get("vega_lite_chart")
    data = chart_data(chart)
    return names | set(data[data["layer"] == "party"]["label"])


@pytest.mark.parametrize("name", sorted(shipped()))
def test_every_participant_shown_is_the_scenarios_own(name: str) -> None:
    at = _run(AppTest.from_file(APP, default_timeout=TIMEOUT_S))
    at = _run(at.selectbox(key="scenario_name").set_value(name))
    next(n for n in at.number_input if n.label == t("sample", "en")).set_value(SAMPLE)
    at.radio(key="view:en").set_value("view_flows")
    at = _run(at.button(key="run").click())
    s = load_rollout(shipped()[name])
    for lang in ("en", "zh"):
        if lang == "zh":
            at = _run(at.toggle(key="lang_zh").set_value(True))
        names = _shown_names(at, lang)
        allowed = _names_allowed(name, lang)
        assert names and names <= allowed, (name, lang, names - allowed)
        captions = "\n".join(c.value for c in at.caption)
        others = [c for c in CITY_NAMES if not s.rollout.title.lower().startswith(c)]
        for city in others:  # no other city's name anywhere on the flows view
            text = "\n".join([captions, *names])
            assert CITY_NAMES[city]["en"] not in text and CITY_NAMES[city]["zh"] not in text, (name, city)
        anonymous = {t("role:shop", lang), t("role:hosp", lang)}  # merchants, medical institutions
        roles_shown = sorted(names & {t(k, lang) for k in ROLES} - anonymous)
        if roles_shown:  # shown by role: the page says there is no participant data of its own
            opening = t("cast_unnamed", lang, roles="")[:12]
            note = next(c.value for c in at.caption if c.value.startswith(opening))
            assert all(r in note for r in roles_shown), note
        banks = ("、" if lang == "zh" else ", ").join(shown_name(b, lang) for b in s.day_scenario.city.banks)
        assert any(banks in c.value for c in at.caption), captions  # the scenario's banks, named


def test_huaibei_shows_no_hangzhou_company() -> None:
    """The issue's case: Huaibei's five banks on a day scenario of Hangzhou's companies."""
    allowed = _names_allowed("huaibei-2011-2014", "en")
    assert not any("Hangzhou" in n for n in allowed)
    assert t("bank_points", "en", bank="Huishang") in allowed and t("acquirer", "en") in allowed
    assert t("bank_points", "zh", bank="徽商银行") in _names_allowed("huaibei-2011-2014", "zh")
    assert "Huishang (issuer)" in allowed and "card network switch" in allowed
