"""`cardtwin region`: the two-city day from the command line, its faults, its bad inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", "region", *args], capture_output=True, text=True,
                          timeout=300, check=False, env=ENV)  # fmt: skip


def test_the_region_day_prints_both_cities_and_the_interchange(tmp_path: Path) -> None:
    out = _cli(
        "--out", str(tmp_path / "r"), "--fault", "lost", "--fault", "duplicated", "--house-down", "hangzhou"
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert (
        "interchange shaoxing cards in hangzhou" in text and "interchange hangzhou cards in shaoxing" in text
    )
    assert "receiver-down" in text and "lost" in text and "checks: 18/18 hold" in text
    assert sorted(p.name for p in (tmp_path / "r").glob("clearing-*.sqlite")) == [
        "clearing-hangzhou.sqlite", "clearing-shaoxing.sqlite",
    ]  # fmt: skip


def test_json_figures_are_the_report_figures(tmp_path: Path) -> None:
    out = _cli("--out", str(tmp_path / "j"), "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["ok"] is True and all(left == right for _, left, right in doc["checks"])
    f = doc["interchange"]["shaoxing->hangzhou"]
    assert f["settled_gross_fen"] == f["cleared_at_issuer_fen"] and f["unacked_fen"] == 0


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    unknown = _cli("nowhere")
    assert unknown.returncode == 1 and unknown.stderr.startswith("cardtwin: error: nowhere: no such file")
    down = _cli("--house-down", "suzhou", "--out", str(tmp_path / "d"))
    assert down.returncode == 2 and "'suzhou' is not a city of hangzhou-shaoxing-weekday" in down.stderr
    nights = _cli("--nights", "0")
    assert nights.returncode == 2 and "--nights" in nights.stderr
    first = _cli("--out", str(tmp_path / "x"))
    again = _cli("--out", str(tmp_path / "x"))
    assert (
        first.returncode == 0 and again.returncode == 2 and "already holds clearing databases" in again.stderr
    )
    for result in (unknown, down, nights, again):
        assert "Traceback" not in result.stderr
