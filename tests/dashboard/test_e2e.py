"""End to end: `cardtwin dashboard` serving the app to a real headless Chromium.

Debian's chromium (scripts/setup.sh installs it) is driven by Playwright, with flags that keep
it off the network (the machine has none). The test starts the real command on a free port,
opens the page, runs the default scenario, plays to the last phase at twelve months a step,
checks what the page shows (the month, the phase, the targets' outcomes, the figures), visits
every view, downloads the HTML report, switches to Chinese, and saves a screenshot of each
view. Screenshots go to pytest's tmp folder; with CARDTWIN_SCREENSHOTS=docs/screenshots they
also refresh the ones the README links. The timings it measures (first render, a full run of
the default scenario) are printed and written next to the screenshots as timings.json.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from dashboard.i18n import LABELS
from dashboard.sidebar import DEFAULT_SCENARIO
from scenarios.rollout_loader import load_rollout, shipped
from scenarios.rollout_schema import RolloutScenario

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
RUN_S = 120
STEP_S = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.read() == b"ok")
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, float]]:
    """`cardtwin dashboard --headless` on a free port; (url, seconds until it answered health)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("dashboard") / "server.log").open("w")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "dashboard", "--port", str(port), "--headless"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the command starts streamlit as a child: stop the whole group
    )
    try:
        while not _healthy(url):
            assert proc.poll() is None, f"the dashboard exited with {proc.returncode}; see {log.name}"
            assert time.perf_counter() - started < SERVER_START_S, "the dashboard did not start"
            time.sleep(0.2)
        yield url, time.perf_counter() - started
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


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


def _play_to_the_end(v: Visit, scenario: RolloutScenario) -> None:
    """Twelve months a step to the last month: every target due by then is met or missed."""
    page = v.page
    last_month = scenario.rollout.end_month
    due = [x for x in scenario.target if x.due_month <= last_month]
    page.get_by_test_id("stSelectbox").filter(has_text=LABELS["speed"]["en"]).click()
    page.get_by_role("option", name="12", exact=True).click()
    page.get_by_role("button", name=LABELS["play"]["en"]).click()
    heading = f"{last_month} · Phase: {scenario.phase[-1].name}"
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=RUN_S * 1000)
    expect(page.get_by_role("button", name=LABELS["play"]["en"])).to_be_visible()  # stopped by itself
    v.settled()
    table = page.get_by_test_id("stTable")
    expect(table).not_to_contain_text("not due yet")  # every target is due by the last month
    statuses = [table.get_by_role("cell", name=s, exact=True).count() for s in ("met", "missed")]
    assert sum(statuses) == len(due) > 0, (statuses, len(due), " ".join(table.inner_text().split()))
    images = page.locator("[data-testid=stImage] img")
    expect(images).to_have_count(5)
    widths = images.evaluate_all("els => els.map(e => e.naturalWidth)")
    assert all(w > 300 for w in widths), widths
    for label in ("cardholders", "terminals", "recharge_points"):
        expect(page.get_by_test_id("stMetricLabel").filter(has_text=LABELS[label]["en"])).to_be_visible()
    v.shot("rollout")


def _city_and_flows(v: Visit, last_month: str) -> None:
    v.view("view_city")
    expect(v.page.get_by_text(LABELS["fig_city"]["en"], exact=True)).to_be_visible()
    v.settled()
    expect(v.page.get_by_role("heading", name=f"{last_month} · Phase")).to_be_visible()  # still there
    v.shot("city")
    v.view("view_flows")
    expect(v.page.get_by_text(LABELS["fig_flows"]["en"], exact=True)).to_be_visible()
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
    expect(label).to_be_visible()
    v.shot("rollout-zh")


def test_dashboard_in_chromium(server: tuple[str, float], tmp_path: Path) -> None:
    url, server_s = server
    shots = tmp_path / "screenshots"
    shots.mkdir()
    scenario = load_rollout(shipped()[DEFAULT_SCENARIO])
    timings: dict[str, float] = {"server_start_s": round(server_s, 2)}
    # One tab walks the views in turn: each view shows the run the steps before it made.
    with _chromium(tmp_path / "chromium-profile") as page:
        v = Visit(page, shots)
        timings["first_render_s"] = round(_first_render(v, url), 2)
        timings["default_run_s"] = round(_run_default(v), 2)
        _play_to_the_end(v, scenario)
        _city_and_flows(v, scenario.rollout.end_month)
        _compare(v)
        _download_report(v, tmp_path / "report.html")
        _in_chinese(v)

    (shots / "timings.json").write_text(json.dumps(timings, indent=1))
    print("dashboard timings:", json.dumps(timings))
    keep = os.environ.get("CARDTWIN_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in shots.glob("*.png"):
            shutil.copy2(png, Path(keep) / png.name)
