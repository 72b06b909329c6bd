"""Every page in both languages, in a real browser: the numbers shown are the run's, in their
unit, and the Chinese pages carry no untranslated English.

The real `cardtwin dashboard` (the fixture of test_e2e) serves Chromium; the default scenario
is run at the sidebar's defaults and made again here, so what the page shows can be compared
with the run's own figures. At the last month each view is visited in English, then in
Chinese: the headline metrics, the target cards, the positions, the flows' check line and
table, the comparison table are read from the page's text and compared with the run's fen and
counts through `units` (a test of the page, not of `units`: those have their own tests); every
money amount the page shows must be one of the run's; on the Chinese pages the visible text
(main area and sidebar) is scanned for English words outside codes, units and names.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from dashboard import participants, runner, settle, units, verdicts
from dashboard.i18n import LABELS, t
from dashboard.runner import services_of
from dashboard.sidebar import DEFAULT_SCENARIO, SAMPLE_DEFAULT_MAX, SAMPLE_MIN
from scenarios.rollout_loader import load_rollout, shipped
from scenarios.rollout_schema import RolloutScenario
from sim.rollout import KPI_COUNTS, RolloutResult, run_rollout
from sim.rollout.result import KPI_MONEY_PER_YEAR
from tests.dashboard.test_chinese import english_words
from tests.dashboard.test_e2e import _CLIPPED_JS, RUN_S, Visit, _chromium
from tests.dashboard.test_services import expected_metrics

MONEY = {"en": re.compile(r"CNY -?[\d,.]+[MB]?"), "zh": re.compile(r"-?[\d,.]+ [万亿]?元")}
DESKTOP, PHONE = {"width": 1500, "height": 1900}, {"width": 390, "height": 844}
VIEWS = ("view_rollout", "view_city", "view_flows", "view_services", "view_compare", "view_downloads")


def _metrics(page: Page) -> dict[str, str]:
    """Metric label -> value, as the page shows them (the first of a label)."""
    out: dict[str, str] = {}
    for metric in page.get_by_test_id("stMetric").all():
        label = metric.get_by_test_id("stMetricLabel").inner_text().strip()
        out.setdefault(label, metric.get_by_test_id("stMetricValue").inner_text().strip())
    return out


_CELLS_JS = """t => [...t.querySelectorAll('tr')]
  .map(r => [...r.querySelectorAll('th, td')].map(c => c.innerText.trim()))"""


def _cells(table: Locator) -> list[list[str]]:
    """A table's rows as the page shows them, the header first."""
    rows: list[list[str]] = table.evaluate(_CELLS_JS)
    return [r for r in rows if r]


def _main_text(page: Page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def _switch(v: Visit, view: str, lang: str) -> None:
    v.page.get_by_test_id("stSidebar").get_by_text(LABELS[view][lang], exact=True).click()
    v.settled()


def _headline(page: Page, result: RolloutResult, lang: str) -> None:
    last = result.months[-1]
    shown = _metrics(page)
    for kpi in KPI_COUNTS:
        assert shown[t(kpi, lang)] == units.count(getattr(last, kpi), lang, kpi), kpi
    assert shown[t("coverage", lang)] == units.share(last.coverage_share)
    assert shown[t("float", lang)] == units.yuan(last.float_fen, lang)


def _money_of_the_month(result: RolloutResult, cast: participants.Cast, lang: str) -> set[str]:
    """Every money amount the rollout view may show at the last month."""
    last = len(result.months) - 1
    fen = {result.months[last].float_fen}
    fen |= set(settle.positions(participants.regroup(settle.period_flows(result, last, last), cast)).values())
    for check in result.targets:
        if check.target.kpi in KPI_MONEY_PER_YEAR:
            fen |= {check.target.low, check.actual} | ({check.target.high} if check.target.high else set())
    return {units.yuan(f, lang) for f in fen}


def _rollout(page: Page, result: RolloutResult, cast: participants.Cast, lang: str) -> None:
    _headline(page, result, lang)
    last = result.months[-1]
    shown = _metrics(page)
    for check in result.targets:  # each judged target's card shows the run's actual in its unit
        if verdicts.status(check, last.month) == verdicts.PLAN_INPUT:
            continue
        label = next(
            k for k in shown if k.endswith(f"{t(check.target.kpi, lang)} · {check.target.due_month}")
        )
        assert shown[label] == units.kpi_value(check.target.kpi, check.actual, lang), label
    money = set(MONEY[lang].findall(_main_text(page)))
    expected = _money_of_the_month(result, cast, lang)
    assert money <= expected, money - expected  # no amount that is not the run's
    reserve = units.yuan(
        last.loads_fen - last.card_spending_fen, lang
    )  # the reserve keeps the month's growth
    assert reserve in money and units.yuan(last.float_fen, lang) in money


def _flows(page: Page, result: RolloutResult, lang: str) -> None:
    """The whole run (the view's default period): the check line and the table are the run's."""
    loads = sum(r.loads_fen for r in result.months)
    spending = sum(r.card_spending_fen for r in result.months)
    fees = sum(r.fees_fen for r in result.months)
    opening = LABELS["flows_check"][lang].split("{")[0]  # "Loads " / "充值 "
    check = re.compile("^" + re.escape(opening) + r"(CNY )?-?\d")
    line = page.get_by_test_id("stMain").get_by_text(check).first
    amounts = MONEY[lang].findall(line.inner_text())
    want = [loads, loads, spending, spending, fees, loads - spending]
    assert amounts == [units.yuan(f, lang) for f in want], amounts
    table = page.get_by_test_id("stTable").first
    rows = _cells(table)[1:]
    into = sum(units.parse_yuan(r[2]) for r in rows if r[1] == t("reserve", lang))
    assert into > 0, rows
    assert abs(into - loads / 100) <= sum(units.shown_precision(units.parse_yuan(r[2])) for r in rows)


def _services(page: Page, result: RolloutResult, scenario: RolloutScenario, lang: str) -> None:
    """The last month: the medical share and park holders are the run's outputs, the day's
    services figures its last month's, each in its unit; no other amount of money is shown."""
    services = services_of(scenario, result)
    assert services is not None
    want = expected_metrics(result, services, lang)
    shown = _metrics(page)
    assert {k: shown.get(k) for k in want} == want
    day = result.months[-1].services_per_day
    money = set(MONEY[lang].findall(_main_text(page)))
    assert money == {units.yuan(day[k], lang) for k in ("medical_own_purse_fen", "account_payments_fen")}
    rows = _cells(page.get_by_test_id("stTable").first)
    assert [r[1] for r in rows[1:]] == ["2009-03", "2008-12"] and rows[2][4] == units.count(
        36_000, lang
    ) + "+"


def _compare(v: Visit, a: RolloutResult, lang: str) -> RolloutResult:
    main = v.page.get_by_test_id("stMain")
    other = next(n for n in shipped() if n != DEFAULT_SCENARIO)
    # as the page runs it (a bank-card plan on the bank card world: dashboard.runner)
    b, _ = runner.run(runner.RunCache(), load_rollout(shipped()[other]), a.seed, a.sample)
    if lang == "en":  # run B once; the Chinese page shows the same comparison
        main.get_by_test_id("stSelectbox").click()
        v.page.get_by_role("option", name=other, exact=True).click()
        main.get_by_role("button", name=LABELS["run_b"]["en"]).click()
        expect(main.get_by_text(f"B: {other}")).to_be_visible(timeout=RUN_S * 1000)
        v.settled()
    table = {r[0]: (r[1], r[2]) for r in _cells(main.get_by_test_id("stTable").first)[1:]}
    for kpi in KPI_COUNTS:
        assert table[t(kpi, lang)] == tuple(
            units.count(getattr(r.months[-1], kpi), lang, kpi) for r in (a, b)
        )
    assert table[t("float", lang)] == tuple(units.yuan(r.months[-1].float_fen, lang) for r in (a, b))
    return b


_ICONS_JS = "() => [...document.querySelectorAll('[data-testid=stIconMaterial]')].map(e => e.textContent)"


def _no_english(v: Visit, view: str) -> None:
    texts = [_main_text(v.page), v.page.get_by_test_id("stSidebar").inner_text()]
    # a Material icon is a ligature ("skip_next" drawn as an arrow): a glyph, not a word shown
    icons = {i.strip() for i in v.page.evaluate(_ICONS_JS) if i.strip()}
    lines = [line.strip() for text in texts for line in text.splitlines()]
    found = english_words([line for line in lines if line not in icons])
    assert found == [], (view, found)


def test_every_page_in_both_languages(server: tuple[str, float], tmp_path: Path) -> None:
    url, _ = server
    scenario = load_rollout(shipped()[DEFAULT_SCENARIO])
    sample = max(SAMPLE_MIN, min(scenario.rollout.sample, SAMPLE_DEFAULT_MAX))
    result = run_rollout(scenario, seed=scenario.rollout.seed, sample=sample)
    cast = participants.cast_of(scenario)
    with _chromium(tmp_path / "profile") as page:
        v = Visit(page, tmp_path)
        page.goto(url)
        page.get_by_role("button", name="Run", exact=True).click()
        expect(page.get_by_text(re.compile("^(Run finished in|Same inputs)"))).to_be_visible(
            timeout=RUN_S * 1000
        )
        v.settled()
        page.get_by_role("slider").first.focus()
        page.keyboard.press("End")  # the last month: every target due
        v.settled()
        expect(page.get_by_role("heading", name=re.compile(f"^{result.months[-1].month} · "))).to_be_visible()
        for lang in ("en", "zh"):
            if lang == "zh":
                page.get_by_test_id("stSidebar").get_by_text(LABELS["language"]["en"]).click()
                expect(page.get_by_role("heading", name=LABELS["app_title"]["zh"])).to_be_visible()
            for view in VIEWS:
                _switch(v, view, lang)
                expect(page.get_by_test_id("stException")).to_have_count(0)
                if view == "view_rollout":
                    _rollout(page, result, cast, lang)
                elif view == "view_city":
                    _headline(page, result, lang)
                elif view == "view_flows":
                    _flows(page, result, lang)
                elif view == "view_services":
                    _services(page, result, scenario, lang)
                elif view == "view_compare":
                    _compare(v, result, lang)
                if lang == "zh":
                    _no_english(v, view)
        _phone(v)
    keep = os.environ.get("CARDTWIN_SCREENSHOTS")
    if keep:
        for png in tmp_path.glob("*-phone.png"):
            shutil.copy2(png, Path(keep) / png.name)


def _phone(v: Visit) -> None:
    """Every view at 390x844 (in Chinese, the longer labels): no table cell cut off. The view
    is picked at the desktop width (a phone keeps the sidebar folded away), then narrowed."""
    for view in VIEWS:
        v.page.set_viewport_size(DESKTOP)
        _switch(v, view, "zh")
        v.page.set_viewport_size(PHONE)
        v.settled()
        clipped = v.page.evaluate(_CLIPPED_JS)
        assert clipped == [], (view, clipped)
        if view != "view_rollout":  # the rollout's phone shot is test_e2e's
            charts = v.page.get_by_test_id("stVegaLiteChart")
            if charts.count():
                charts.first.scroll_into_view_if_needed()
            v.page.screenshot(path=str(v.shots / f"{view.removeprefix('view_')}-phone.png"))
    v.page.set_viewport_size(DESKTOP)
