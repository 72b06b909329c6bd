"""The interchange fault classes in `cardtwin verify`: registered, injected, and clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sim.verify import FAULTS, run_seed
from sim.verify.region_faults import REGION_FAULTS, draw_faults, run_region_seed

REPO = Path(__file__).resolve().parents[3]


def test_the_interchange_classes_are_verify_fault_classes() -> None:
    assert set(REGION_FAULTS) <= set(FAULTS)
    assert list(FAULTS)[-len(REGION_FAULTS) :] == list(REGION_FAULTS)


def test_each_class_is_injected_and_no_fen_is_lost(tmp_path: Path) -> None:
    chosen = frozenset(REGION_FAULTS) | {"card-tear"}
    for seed in (1, 2):
        injected, violations = run_region_seed(seed, chosen, tmp_path)
        assert violations == []
        assert all(injected[name] > 0 for name in REGION_FAULTS), injected


def test_faults_fall_on_nights_of_their_own_and_leave_two_clean_nights() -> None:
    faults, nights = draw_faults(5, frozenset(REGION_FAULTS), ("hangzhou", "shaoxing"))
    fault_nights = [n for n in (faults.lost_night, faults.ack_lost_night, faults.late_night) if n is not None]
    assert faults.house_down in ("hangzhou", "shaoxing") and faults.duplicated
    assert len(set(fault_nights)) == len(fault_nights) and min(fault_nights) >= 1
    assert nights == max(fault_nights) + 3


def test_a_verify_seed_with_interchange_faults_reports_them(tmp_path: Path) -> None:
    r = run_seed(3, frozenset({"interchange-lost", "interchange-duplicate"}), 1, 0.0002, tmp_path)
    assert r.ok, r.violations
    assert r.faults["interchange-lost"] > 0 and r.faults["interchange-duplicate"] > 0


def test_cardtwin_verify_runs_the_interchange_faults(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-m", "sim", "verify", "--seeds", "1", "--faults",
         "interchange-late,interchange-house-down", "--days", "1", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "interchange-late" in out.stdout and "invariant violations 0" in out.stdout
