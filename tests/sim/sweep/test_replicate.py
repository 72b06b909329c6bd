"""Replications of a rollout: draws from the ASSUMPTION ranges, P(met) with a Wilson interval,
the tornado, and a real run on a Dask LocalCluster."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from scenarios.rollout_loader import load_rollout
from scenarios.schema import ScenarioError
from sim.rollout import run_rollout
from sim.rollout.plan import plan_months
from sim.sweep.engine import RunRow, SweepError
from sim.sweep.replicate import Replications, Sensitivity, draw, run_replications, wilson, with_p_met

TINY = 0.00003  # a handful of simulated citizens: the cardholder targets come from the plan side
HANGZHOU = Path(__file__).resolve().parents[3] / "scenarios" / "rollout" / "hangzhou-2004-2009.toml"


def test_wilson_interval_known_values() -> None:
    # 0 of 4: Wilson upper end z^2 / (n + z^2) = 3.8415 / 7.8415
    assert wilson(0, 4) == pytest.approx((0.0, 0.48990), abs=1e-4)
    assert wilson(15, 30) == pytest.approx((0.33153, 0.66847), abs=1e-4)
    low, high = wilson(30, 30)
    assert high == pytest.approx(1.0) and low == pytest.approx(0.88649, abs=1e-4)


def test_draws_are_seeded_inside_their_ranges_and_rounded_for_counts() -> None:
    s = load_rollout("hangzhou-2004-2009")
    assert [a.key for a in s.assumption][:2] == ["adoption.cards_per_window_per_day", "adoption.innovation_p"]
    draws = [dict(draw(s.assumption, seed)) for seed in range(1, 41)]
    assert draws[0] == dict(draw(s.assumption, 1))  # same seed, same draw
    assert draws[0] != draws[1]
    for a in s.assumption:
        values = [float(d[a.key]) for d in draws]
        assert all(a.low <= v <= a.high for v in values)
        assert max(values) - min(values) > 0.5 * (a.high - a.low)  # 40 draws spread over the range
    assert all(isinstance(d["adoption.cards_per_window_per_day"], int) for d in draws)
    assert all(isinstance(d["adoption.innovation_p"], float) for d in draws)


def test_bad_ranges_are_one_line_errors(tmp_path: Path) -> None:
    text = HANGZHOU.read_text("utf-8")
    bad = tmp_path / "plan.toml"
    bad.write_text(text.replace("low = 100\nhigh = 300", "low = 300\nhigh = 100").replace(
        "../default.toml", str(HANGZHOU.parent.parent / "default.toml")
    ), "utf-8")  # fmt: skip
    with pytest.raises(ScenarioError, match=r"assumption\[0\]\.high: 100.0 is not above low \(300.0\)"):
        load_rollout(bad)
    unknown = tmp_path / "unknown.toml"
    fixed = bad.read_text("utf-8").replace("low = 300\nhigh = 100", "low = 100\nhigh = 300")
    unknown.write_text(fixed.replace('key = "adoption.innovation_p"', 'key = "adoption.innovation"'), "utf-8")
    with pytest.raises(ScenarioError, match=r"override adoption\.innovation"):
        run_replications(str(unknown), 3, first_seed=1, sample=TINY)
    with pytest.raises(SweepError, match=r"--replications: 1 out of range \(allowed: 2..1000\)"):
        run_replications(str(HANGZHOU), 1, first_seed=1)


def test_p_met_counts_replications_inside_the_range_and_leaves_plan_inputs() -> None:
    s = load_rollout("hangzhou-2004-2009")
    r = run_rollout(s, sample=TINY)
    kpis = [{f"target.{i}.actual": 0.0, f"target.{i}.met": 0.0, f"target.{i}.above": 0.0} for i in range(4)]
    rows = []
    for seed in range(1, 11):  # target 2 met in 3 of 10 replications
        k = {key: v for d in kpis for key, v in d.items()}
        k["target.2.met"] = float(seed <= 3)
        k["target.2.actual"] = 2_000_000.0 + seed
        rows.append(RunRow(0, None, seed, k, 0.0))
    sens = (Sensitivity(2, "adoption.imitation_q", 0.9, 0.0, 0.6),)
    reps = Replications(s.name, tuple(range(1, 11)), ((),) * 10, tuple(rows), (), sens, 0.0, "here")
    out = with_p_met(r, reps)
    assert [c.p_met for c in out.targets] == [None, None, 0.3, None]
    assert (out.targets[2].p_met_low, out.targets[2].p_met_high) == pytest.approx(wilson(3, 10))
    reset = {"p_met": None, "p_met_low": None, "p_met_high": None, "predicted_median": None}
    reset |= {"predicted_low": None, "predicted_high": None, "replications": 0}
    assert [dataclasses.replace(c, **reset) for c in out.targets] == list(r.targets)
    c = out.targets[2]
    assert (c.predicted_low, c.predicted_median, c.predicted_high) == pytest.approx(
        (2_000_001.45, 2_000_005.5, 2_000_009.55)  # numpy's linear quantiles of 2,000,001..2,000,010
    )
    assert c.replications == 10 and out.targets[0].predicted_low is None  # a plan input has none
    spread = "sensitivity of cardholders by 2009-02: median figure 2,000,006, 95% of replications in "
    assert f"{spread}2,000,001..2,000,010; missed 70%, met 30%, above range 0%" in out.notes
    row = "  adoption.imitation_q: rank correlation +0.90; P(met) 0% in the lower half of its range, "
    assert row + "60% in the upper" in out.notes


def _plain(kpis: dict[str, float]) -> dict[str, float | None]:
    """NaN (a rollout that never pays back) as None, so that equal runs compare equal."""
    return {k: None if math.isnan(v) else v for k, v in kpis.items()}


def test_replications_on_a_cluster_are_deterministic_and_move_the_prediction() -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        first = run_replications("hangzhou-2004-2009", 4, first_seed=3, sample=TINY, dask=c.scheduler_address)
        again = run_replications("hangzhou-2004-2009", 4, first_seed=3, sample=TINY, dask=c.scheduler_address)
    assert first.seeds == (3, 4, 5, 6)
    assert [_plain(r.kpis) for r in first.rows] == [_plain(r.kpis) for r in again.rows]
    holders = [r.kpis["target.2.actual"] for r in first.rows]
    assert len(set(holders)) == 4  # the drawn assumptions move the 2009 count
    # Each replication is the scenario with its draw applied: the same plan run by hand agrees.
    by_hand = run_rollout(load_rollout("hangzhou-2004-2009", dict(first.draws[0])), seed=3, sample=TINY)
    assert holders[0] == by_hand.targets[2].actual
    for r in first.rows:
        met = r.kpis["target.2.met"]
        assert met == float(2_010_000 <= r.kpis["target.2.actual"] <= 2_050_000)
    assert {x.key for x in first.sensitivity if x.target == 2} == {a.key for a in first.ranges}
    assert all(math.isnan(x.rho) or -1 <= x.rho <= 1 for x in first.sensitivity)


def test_cli_rollout_replications_print_p_met_tornado_and_calibration(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sim.cli import main

    out = tmp_path / "hz"
    args = ["rollout", "hangzhou-2004-2009", "--replications", "2", "--sample", str(TINY), "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    holders = next(line for line in lines if line.startswith("  cardholders by 2009-02: prediction "))
    assert "P(met) " in holders and "(95% CI " in holders
    pilot = plan_months(load_rollout("hangzhou-2004-2009"))[0].cardholders  # the batch + first applicants
    shown = f"  cardholders by 2004-12: plan input {pilot:,} vs >= 3,000 ("
    assert any(line.startswith(shown) for line in lines)
    assert any(line.startswith("replications: 2 (seeds 1..2)") for line in lines)
    assert any(line.startswith("  adoption.cards_per_window_per_day: rank correlation ") for line in lines)
    assert "calibration (weighted least squares on the plan, scipy.optimize.least_squares):" in lines
    assert any(
        line.startswith("  held out cardholders 2009-02 (reported 2,010,000): predicted ") for line in lines
    )
    assert "P(met)" in (out / "targets.csv").read_text("utf-8").splitlines()[0].replace("p_met", "P(met)")
