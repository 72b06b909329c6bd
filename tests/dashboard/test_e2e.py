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
from pathlib import Path

import pytest

from dashboard.i18n import LABELS
from dashboard.sidebar import DEFAULT_SCENARIO
from scenarios.rollout_loader import load_rollout, shipped

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


def test_dashboard_in_chromium(server: tuple[str, float], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, server_s = server
    shots = tmp_path / "screenshots"
    shots.mkdir()
    scenario = load_rollout(shipped()[DEFAULT_SCENARIO])
    last_month = scenario.rollout.end_month
    last_phase = scenario.phase[-1].name
    due = [x for x in scenario.target if x.due_month <= last_month]
    timings: dict[str, float] = {"server_start_s": round(server_s, 2)}

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1500, "height": 1900},  # Streamlit scrolls inside the page: show it all
        )
        page = context.new_page()
        page.set_default_timeout(STEP_S * 1000)
        expect.set_options(timeout=STEP_S * 1000)

        def settled() -> None:
            """Wait until the script run is over: elements of the run before linger until replaced."""
            page.wait_for_timeout(300)
            expect(page.get_by_test_id("stStatusWidgetRunningIcon")).to_have_count(0, timeout=RUN_S * 1000)
            expect(page.locator("[data-stale=true]")).to_have_count(0, timeout=RUN_S * 1000)
            page.wait_for_timeout(300)  # let the last images paint

        def shot(name: str) -> None:
            settled()
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

        started = time.perf_counter()
        page.goto(url)
        expect(page.get_by_role("heading", name=LABELS["app_title"]["en"])).to_be_visible()
        expect(page.get_by_text(LABELS["no_run"]["en"])).to_be_visible()
        timings["first_render_s"] = round(time.perf_counter() - started, 2)
        shot("start")

        started = time.perf_counter()
        page.get_by_role("button", name="Run", exact=True).click()
        expect(page.get_by_text(LABELS["running"]["en"])).to_be_visible()  # the progress bar
        expect(page.get_by_text("Run finished in")).to_be_visible(timeout=RUN_S * 1000)
        expect(page.get_by_text(LABELS["fig_money"]["en"]).first).to_be_visible()
        timings["default_run_s"] = round(time.perf_counter() - started, 2)

        # twelve months a step, then play to the end
        page.get_by_test_id("stSelectbox").filter(has_text=LABELS["speed"]["en"]).click()
        page.get_by_role("option", name="12", exact=True).click()
        page.get_by_role("button", name=LABELS["play"]["en"]).click()
        expect(page.get_by_role("heading", name=f"{last_month} · Phase: {last_phase}")).to_be_visible(
            timeout=RUN_S * 1000
        )
        expect(page.get_by_role("button", name=LABELS["play"]["en"])).to_be_visible()  # stopped by itself
        settled()
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
        shot("rollout")

        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text(LABELS["view_city"]["en"], exact=True).click()
        expect(page.get_by_text(LABELS["fig_city"]["en"], exact=True)).to_be_visible()
        settled()
        expect(page.get_by_role("heading", name=f"{last_month} · Phase")).to_be_visible()  # still there
        shot("city")

        sidebar.get_by_text(LABELS["view_flows"]["en"], exact=True).click()
        expect(page.get_by_text(LABELS["fig_flows"]["en"], exact=True)).to_be_visible()
        shot("flows")

        sidebar.get_by_text(LABELS["view_compare"]["en"], exact=True).click()
        main = page.get_by_test_id("stMain")
        main.get_by_test_id("stSelectbox").click()
        other = list(shipped())[-1]
        page.get_by_role("option", name=other, exact=True).click()
        main.get_by_role("button", name=LABELS["run_b"]["en"]).click()
        expect(main.get_by_test_id("stTable")).to_have_count(3, timeout=RUN_S * 1000)
        expect(main.get_by_text(f"B: {other}")).to_be_visible()
        shot("compare")

        sidebar.get_by_text(LABELS["view_downloads"]["en"], exact=True).click()
        report = page.get_by_role("button", name="HTML report — report.html")
        expect(report).to_be_visible()
        with page.expect_download() as download:
            report.click()
        saved = tmp_path / "report.html"
        download.value.save_as(saved)
        text = saved.read_text("utf-8")
        assert text.startswith("<!doctype html>") and text.count("data:image/png;base64,") == 7
        shot("downloads")

        sidebar.get_by_text(LABELS["view_rollout"]["en"], exact=True).click()
        sidebar.get_by_text(LABELS["language"]["en"]).click()
        expect(page.get_by_role("heading", name=LABELS["app_title"]["zh"])).to_be_visible()
        expect(page.get_by_role("button", name=LABELS["play"]["zh"])).to_be_visible()
        expect(
            page.get_by_test_id("stMetricLabel").filter(has_text=LABELS["cardholders"]["zh"])
        ).to_be_visible()
        shot("rollout-zh")
        context.close()

    (shots / "timings.json").write_text(json.dumps(timings, indent=1))
    print("dashboard timings:", json.dumps(timings))
    keep = os.environ.get("CARDTWIN_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in shots.glob("*.png"):
            shutil.copy2(png, Path(keep) / png.name)
