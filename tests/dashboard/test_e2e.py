"""End to end: `cardtwin dashboard` serving the app to a real headless Chromium.

Debian's chromium (scripts/setup.sh installs it) is driven by Playwright, with flags that keep
it off the network (the machine has none). The test uses the real command on a free port (the
session's `server` fixture, tests/dashboard/conftest.py), opens the page, runs the default
scenario, plays to the last month at one month a step,
checks what the page shows (the month, the phase, the targets' outcomes, the figures), visits
every view, downloads the HTML report, switches to Chinese, and saves a screenshot of each
view. Screenshots go to pytest's tmp folder; with CARDTWIN_SCREENSHOTS=docs/screenshots they
also refresh the ones the README links. The timings it measures (first render, a full run of
the default scenario) are printed and written next to the screenshots as timings.json.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Locator, Page, expect, sync_playwright

from dashboard import units, verdicts
from dashboard.i18n import LABELS
from dashboard.sidebar import DEFAULT_SCENARIO, SAMPLE_DEFAULT_MAX, SAMPLE_MIN
from scenarios.rollout_loader import load_rollout, shipped
from sim.rollout import RolloutResult, run_rollout
from sim.rollout.result import KPI_MONEY_PER_YEAR

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_S = 90
PLAY_S = 240  # the default scenario's months at one a second, with room for a slow machine
CHARTS = 7  # three KPIs, sectors, float, waits, fees
RUN_S = 120
STEP_S = 30


@dataclass(frozen=True, slots=True)
class Visit:
    """One viewer's browser tab on the dashboard, and where its screenshots go."""

    page: Page
    shots: Path

    def settled(self) -> None:
        """Wait until the script run is over: elements of the run before linger until replaced."""
        self.page.wait_for_timeout(300)
        running = self.page.get_by_test_id("stStatusWidgetRunningIcon")
        expect(running).to_have_count(0, timeout=RUN_S * 1000)
        expect(self.page.locator("[data-stale=true]")).to_have_count(0, timeout=RUN_S * 1000)
        self.page.wait_for_timeout(300)  # let the last images paint

    def shot(self, name: str) -> None:
        self.settled()
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def view(self, label: str) -> Locator:
        """Switch to a view in the sidebar; the sidebar, for what else it holds."""
        sidebar = self.page.get_by_test_id("stSidebar")
        sidebar.get_by_text(LABELS[label]["en"], exact=True).click()
        return sidebar


@contextmanager
def _chromium(profile: Path) -> Iterator[Page]:
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1500, "height": 1900},  # Streamlit scrolls inside the page: show it all
        )
        page = context.new_page()
        page.set_default_timeout(STEP_S * 1000)
        expect.set_options(timeout=STEP_S * 1000)
        try:
            yield page
        finally:
            context.close()


def _first_render(v: Visit, url: str) -> float:
    started = time.perf_counter()
    v.page.goto(url)
    expect(v.page.get_by_role("heading", name=LABELS["app_title"]["en"])).to_be_visible()
    expect(v.page.get_by_text(LABELS["no_run"]["en"])).to_be_visible()
    first_render_s = time.perf_counter() - started
    v.shot("start")
    return first_render_s


def _run_default(v: Visit) -> float:
    started = time.perf_counter()
    v.page.get_by_role("button", name="Run", exact=True).click()
    expect(v.page.get_by_text(LABELS["running"]["en"])).to_be_visible()  # the progress bar
    expect(v.page.get_by_text("Run finished in")).to_be_visible(timeout=RUN_S * 1000)
    expect(v.page.get_by_text(LABELS["fig_money"]["en"]).first).to_be_visible()
    return time.perf_counter() - started


def _no_exception(v: Visit) -> None:
    expect(v.page.get_by_test_id("stException")).to_have_count(0)


def _month_shown(page: Page) -> str | None:
    """The month in the playback heading ("2007-03 · Phase: ..."), None between renders (when
    the heading of the render before lingers beside the new one)."""
    texts = page.get_by_role("heading", name=re.compile(r"^\d{4}-\d{2} · ")).all_inner_texts()
    return texts[0].strip()[:7] if len(texts) == 1 else None


def _play_forward(v: Visit, last_month: str) -> list[str]:
    """Play at one month a step to the last month, reading the month shown as it plays."""
    page = v.page
    page.get_by_role("button", name=LABELS["play"]["en"]).click()
    seen: list[str] = []
    started = time.perf_counter()
    while time.perf_counter() - started < PLAY_S:
        month = _month_shown(page)
        if month is not None and (not seen or seen[-1] != month):
            seen.append(month)
        if month == last_month:
            break
        page.wait_for_timeout(150)
    expect(page.get_by_role("button", name=LABELS["play"]["en"])).to_be_visible()  # stopped by itself
    assert page.get_by_role("button", name=LABELS["pause"]["en"]).count() == 0  # never both
    return seen


def _chart_pixels(v: Visit) -> list[bytes]:
    v.settled()
    charts = v.page.get_by_test_id("stVegaLiteChart")
    expect(charts).to_have_count(CHARTS)
    return [charts.nth(i).screenshot() for i in range(CHARTS)]


def _money_equals_the_run(v: Visit, result: RolloutResult) -> None:
    """The float card and the money targets show the run's fen as the page's CNY."""
    page = v.page
    last = result.months[-1]
    metric = page.get_by_test_id("stMetric").filter(has=page.get_by_text(LABELS["float"]["en"], exact=True))
    expect(metric.get_by_test_id("stMetricValue")).to_have_text(units.yuan(last.float_fen, "en"))
    table = page.get_by_test_id("stTable").first
    for check in result.targets:
        if check.target.kpi in KPI_MONEY_PER_YEAR:
            expect(table).to_contain_text(units.yuan(check.target.low, "en"))
            expect(table).to_contain_text(units.yuan(check.actual, "en"))


def _play_to_the_end(v: Visit, result: RolloutResult) -> None:
    """One month a step, forward only, to the last month: every target is then judged."""
    page = v.page
    months = [r.month for r in result.months]
    before = _chart_pixels(v)
    page.get_by_role("button", name=LABELS["step"]["en"]).click()
    v.settled()
    expect(page.get_by_role("heading", name=re.compile(f"^{months[1]} · "))).to_be_visible()
    after = _chart_pixels(v)
    changed = sum(a != b for a, b in zip(before, after, strict=True))
    assert changed >= 3, f"only {changed} charts changed between {months[0]} and {months[1]}"
    seen = _play_forward(v, months[-1])
    indices = [months.index(m) for m in seen]
    assert indices == sorted(indices), f"the month went back while playing: {seen}"
    assert seen[-1] == months[-1] and len(seen) >= len(months) // 2, seen  # one month a step
    assert all(b - a <= 2 for a, b in itertools.pairwise(indices)), seen  # no leap (a read may miss one)
    v.settled()
    _no_exception(v)
    table = page.get_by_test_id("stTable").first
    expect(table).not_to_contain_text("not due yet")  # every target is due by the last month
    judged = [c for c in result.targets if verdicts.status(c, months[-1]) != verdicts.PLAN_INPUT]
    outcome = re.compile(r"(met|missed|above the plan's range)$")
    assert table.get_by_role("cell", name=outcome).count() == len(judged) > 0, table.inner_text()
    _money_equals_the_run(v, result)
    for label in ("cardholders", "terminals", "recharge_points"):
        expect(
            page.get_by_test_id("stMetricLabel").filter(has_text=LABELS[label]["en"]).first
        ).to_be_visible()
    v.shot("rollout")


def _city_and_flows(v: Visit, last_month: str) -> None:
    v.view("view_city")
    expect(v.page.get_by_text(LABELS["fig_city"]["en"], exact=True)).to_be_visible()
    v.settled()
    expect(v.page.get_by_role("heading", name=f"{last_month} · Phase")).to_be_visible()  # still there
    v.shot("city")
    v.view("view_flows")
    check = v.page.get_by_text(re.compile(r"^Loads CNY"))
    expect(check).to_be_visible()
    amounts = re.findall(r"CNY [-\d.,]+[MB]?", check.inner_text())
    assert amounts[0] == amounts[1] and amounts[2] == amounts[3], amounts  # the flows add up
    v.shot("flows")


def _compare(v: Visit) -> None:
    """A second shipped scenario run beside the first."""
    v.view("view_compare")
    main = v.page.get_by_test_id("stMain")
    main.get_by_test_id("stSelectbox").click()
    other = list(shipped())[-1]
    v.page.get_by_role("option", name=other, exact=True).click()
    main.get_by_role("button", name=LABELS["run_b"]["en"]).click()
    expect(main.get_by_test_id("stTable")).to_have_count(3, timeout=RUN_S * 1000)
    expect(main.get_by_text(f"B: {other}")).to_be_visible()
    v.shot("compare")


def _download_report(v: Visit, saved: Path) -> None:
    v.view("view_downloads")
    report = v.page.get_by_role("button", name="HTML report — report.html")
    expect(report).to_be_visible()
    with v.page.expect_download() as download:
        report.click()
    download.value.save_as(saved)
    text = saved.read_text("utf-8")
    assert text.startswith("<!doctype html>") and text.count("data:image/png;base64,") == 7
    v.shot("downloads")


def _in_chinese(v: Visit) -> None:
    sidebar = v.view("view_rollout")
    sidebar.get_by_text(LABELS["language"]["en"]).click()
    expect(v.page.get_by_role("heading", name=LABELS["app_title"]["zh"])).to_be_visible()
    expect(v.page.get_by_role("button", name=LABELS["play"]["zh"])).to_be_visible()
    label = v.page.get_by_test_id("stMetricLabel").filter(has_text=LABELS["cardholders"]["zh"])
    expect(label.first).to_be_visible()
    expect(v.page.get_by_test_id("stMain")).not_to_contain_text("CNY")  # 元, 万元, 亿元 instead
    v.shot("rollout-zh")


# Every table cell whose content is wider than what the page shows of it, unless the table
# scrolls sideways inside its own box (then nothing is lost, the viewer swipes).
_CLIPPED_JS = """
() => [...document.querySelectorAll('[data-testid=stTable], [data-testid=stDataFrame]')].flatMap(t => {
  let box = t, scrolls = false;
  for (let el = t; el && el !== document.body; el = el.parentElement) {
    const o = getComputedStyle(el).overflowX;
    if ((o === 'auto' || o === 'scroll') && el.scrollWidth > el.clientWidth) { scrolls = true; box = el; }
  }
  const view = document.documentElement.clientWidth;
  return [...t.querySelectorAll('th, td')].filter(c => {
    const r = c.getBoundingClientRect();
    const cut = c.scrollWidth > c.clientWidth + 1;  // text cut by an ellipsis or overflow
    return cut || (!scrolls && r.right > view + 1);
  }).map(c => c.innerText.slice(0, 40));
})
"""


def _on_a_phone(v: Visit) -> None:
    """At 390x844 no table column is cut off: tables fit or scroll in their own box."""
    v.page.set_viewport_size({"width": 390, "height": 844})
    v.settled()
    _no_exception(v)
    clipped = v.page.evaluate(_CLIPPED_JS)
    assert clipped == [], f"cut off at 390 px: {clipped}"
    v.page.screenshot(path=str(v.shots / "rollout-phone.png"), full_page=False)
    v.page.set_viewport_size({"width": 1500, "height": 1900})


def test_dashboard_in_chromium(server: tuple[str, float], tmp_path: Path) -> None:
    url, server_s = server
    shots = tmp_path / "screenshots"
    shots.mkdir()
    scenario = load_rollout(shipped()[DEFAULT_SCENARIO])
    # the run the page makes (the sidebar's defaults), made here too: what it shows must equal it
    sample = max(SAMPLE_MIN, min(scenario.rollout.sample, SAMPLE_DEFAULT_MAX))
    result = run_rollout(scenario, seed=scenario.rollout.seed, sample=sample)
    timings: dict[str, float] = {"server_start_s": round(server_s, 2)}
    # One tab walks the views in turn: each view shows the run the steps before it made.
    with _chromium(tmp_path / "chromium-profile") as page:
        v = Visit(page, shots)
        timings["first_render_s"] = round(_first_render(v, url), 2)
        timings["default_run_s"] = round(_run_default(v), 2)
        _play_to_the_end(v, result)
        _city_and_flows(v, scenario.rollout.end_month)
        _compare(v)
        _download_report(v, tmp_path / "report.html")
        _in_chinese(v)
        _on_a_phone(v)

    (shots / "timings.json").write_text(json.dumps(timings, indent=1))
    print("dashboard timings:", json.dumps(timings))
    keep = os.environ.get("CARDTWIN_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in shots.glob("*.png"):
            shutil.copy2(png, Path(keep) / png.name)
