"""The five-stage framework engine: stages on their conditions, the float under its reserve
policy, the stress test, targets judged, and the command that reports them."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios.framework_schema import (
    apply_sets,
    framework_path,
    framework_shipped,
    is_framework,
    load_framework,
)
from scenarios.rollout_loader import shipped
from scenarios.schema import ScenarioError
from scenarios.schema import load as load_day
from sim.operator import FloatPolicy, Stress, build_report, lines, reserve_fen, run_framework, stress_test
from sim.operator.policy import breach_share
from sim.operator.report import month_label

REPO = Path(__file__).resolve().parents[3]
FW = REPO / "scenarios" / "rollout" / "five-stage-framework.toml"
POLICY = FloatPolicy(0.99, 10, 0.001, 0.003, 0.0, 35, 350, 100)


def _fw(**sets: object) -> object:
    return apply_sets(load_framework(FW), dict(sets))


def test_each_stage_starts_the_month_after_its_condition_is_reached() -> None:
    s = load_framework(FW)
    run = run_framework(s)
    start = run.stage_start
    assert sorted(start) == [1, 2, 3, 4, 5] and start[1] == 0
    saturated = s.v("stages.saturation_share") * s.i("city.eligible_persons")
    first = next(r.month for r in run.months if r.cardholders >= saturated)
    assert start[2] == first + 1
    assert all(r.stage == 1 for r in run.months[: start[2]])
    run_len = s.i("stages.profit_months")
    profits = [r.profit_fen > 0 for r in run.months]
    assert all(profits[start[3] - run_len : start[3]]) and start[3] > start[2]
    above = next(r.month for r in run.months[start[3] :] if r.float_fen >= s.i("stages.float_threshold_fen"))
    assert start[4] == above + 1
    # before stage 4 the whole float is reserve; from it, the policy's reserve, the rest invested
    assert all(r.reserve_fen == r.float_fen for r in run.months[: start[4]])
    after = run.months[start[4]]
    assert after.invested_fen > 0 and after.reserve_fen == reserve_fen(after.float_fen, _policy(s))
    # stage 5 when the cash can pay the second city's platform; its fees and media value begin
    assert run.months[start[5] - 1].cash_fen >= s.i("cost.second_city_fen")
    assert all(r.revenue_fen["media value"] == 0 for r in run.months[: start[5]])
    assert run.months[-1].revenue_fen["media value"] > 0 and run.months[-1].revenue_fen["second city"] > 0


def _policy(s: object) -> FloatPolicy:
    from sim.operator.engine import policy_of

    return policy_of(s)  # type: ignore[arg-type]


def test_a_higher_float_threshold_delays_stage_4_and_the_investment_income() -> None:
    base = run_framework(load_framework(FW))
    later = run_framework(_fw(**{"stages.float_threshold_fen": 7_400_000_000}))  # type: ignore[arg-type]
    never = run_framework(_fw(**{"stages.float_threshold_fen": 9_000_000_000}))  # type: ignore[arg-type]
    assert later.stage_start[4] > base.stage_start[4]
    assert 4 not in never.stage_start and 5 not in never.stage_start
    income = [sum(r.investment_income_fen for r in run.months) for run in (base, later, never)]
    assert income[0] > income[1] > income[2] > 0  # the reserve still earns its account rate


def test_the_reserve_covers_the_horizon_at_the_stated_confidence() -> None:
    # 1e9 fen: m*h = 1%, z(0.99) * s * sqrt(10) = 2.3263 * 0.003 * 3.1623 = 2.2069%
    assert reserve_fen(1_000_000_000, POLICY) == 32_069_674
    floored = FloatPolicy(0.99, 10, 0.001, 0.003, 0.10, 35, 350, 100)
    assert reserve_fen(1_000_000_000, floored) == 100_000_000
    breaches, draws = breach_share(FloatPolicy(0.9, 10, 0.001, 0.003, 0.0, 0, 0, 0), 20_000, seed=3)
    assert 0.08 < breaches / draws < 0.12  # 10% allowed at 90% confidence


def test_the_stress_test_verdicts() -> None:
    float_fen, reserve = 100_000_000, 20_000_000
    mild = stress_test(float_fen, reserve, POLICY, Stress(0.05, 10, -200, 300))
    assert mild.claimed_fen == 6_000_000 and mild.sold_fen == 0 and mild.holds
    assert mild.verdict.startswith("holds: the reserve alone")
    hard = stress_test(float_fen, reserve, POLICY, Stress(0.30, 10, -200, 300))
    assert hard.claimed_fen == 31_000_000 and hard.holds
    assert hard.sold_fen == math.ceil(11_000_000 / 0.97) and hard.loss_fen == hard.sold_fen - 11_000_000
    assert hard.income_shocked_fen == (80_000_000 - hard.sold_fen) * 150 // 10_000
    run = stress_test(float_fen, reserve, POLICY, Stress(1.0, 10, -200, 5_000))
    assert not run.holds and run.shortfall_fen == 101_000_000 - 20_000_000 - 40_000_000
    assert run.verdict.startswith("FAILS")


def test_the_report_shows_what_the_run_computed() -> None:
    s = load_framework(FW)
    r = build_report(s, replications=20)
    text = "\n".join(lines(r))
    for stage in range(2, 6):
        assert month_label(s.start_month, r.run.stage_start[stage]) in text
    y2010 = next(y for y in r.years if y.year == "2010")
    dec = r.run.at(next(m for m in range(len(r.run.months)) if month_label(s.start_month, m) == "2010-12"))
    assert (y2010.float_fen, y2010.reserve_fen, y2010.invested_fen) == (
        dec.float_fen,
        dec.reserve_fen,
        dec.invested_fen,
    )
    assert f"float CNY {dec.float_fen / 1e8:,.1f}M" in text
    assert "stress at the end of the run" in text and r.stress.verdict in text
    assert "plan input (the scenario fixes it, not judged)" in text
    assert text.count("(prediction, P(met)") == sum(1 for t in s.targets if not t.plan_input)
    judged = {j.target.kpi: j for j in r.judged if j.target.kpi == "float_fen"}
    assert judged["float_fen"].met is True and judged["float_fen"].p_met is not None


def test_framework_files_are_told_apart_from_rollout_files() -> None:
    assert is_framework(FW) and "five-stage-framework" in framework_shipped()
    assert "five-stage-framework" not in shipped()  # the rollout engine never loads it
    assert framework_path("five-stage-framework") == FW and framework_path("hangzhou-2004-2009") is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("yield_bp = 350", "yield_bp = 99999"), r"\[float\]: yield_bp: 99999 out of range"),
        (("months = 180", "months = 180\nweeks = 3"), r"\[framework\]: unknown key 'weeks'"),
        (("saturation_share = 0.8", "saturation = 0.8"), r"\[stages\]: unknown key 'saturation'"),
        (('month = "2013-12"', 'month = "2030-12"'), r"\[\[target\]\] #4: month: 2030-12 outside the run"),
        (('key = "adoption.imitation_q"', 'key = "adoption.q"'), r"\[\[range\]\] #1: key: 'adoption.q'"),
    ],
)
def test_bad_framework_files_are_refused_in_one_line(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    text = FW.read_text("utf-8")
    assert edit[0] in text
    bad = tmp_path / "fw.toml"
    bad.write_text(text.replace(edit[0], edit[1], 1), "utf-8")
    with pytest.raises(ScenarioError, match=message):
        load_framework(bad)
    with pytest.raises(ScenarioError, match=r"--set float\.yield: not a framework value"):
        apply_sets(load_framework(FW), {"float.yield": 3})
    with pytest.raises(ScenarioError, match=r"--set framework\.months=24: \[\[target\]\] #2 falls after"):
        apply_sets(load_framework(FW), {"framework.months": 24})
    with pytest.raises(ScenarioError, match=r"--set float\.yield_bp: yield_bp: -5 out of range"):
        apply_sets(load_framework(FW), {"float.yield_bp": -5})


def test_cardtwin_rollout_five_stage_framework_reports_stages_float_and_stress(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-m", "sim", "rollout", "five-stage-framework", "--replications", "10",
         "--set", "stages.float_threshold_fen=6000000000", "--out", str(tmp_path / "fw")],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "stage transitions" in text and "4 capital operation: 20" in text
    assert (
        "by year (at year end" in text
        and "reserve policy:" in text
        and "stress at the end of the run" in text
    )
    bad = subprocess.run(
        [sys.executable, "-m", "sim", "rollout", "five-stage-framework", "--set", "float.yield_bp=-5"],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    assert bad.returncode == 1 and bad.stderr.strip().startswith("cardtwin: error: --set float.yield_bp")
    assert "Traceback" not in bad.stderr


def test_every_framework_figure_cites_a_seed_or_says_assumption() -> None:
    for line in FW.read_text("utf-8").splitlines():
        stripped = line.strip()
        key = stripped.split("=")[0].strip()
        if (
            "=" not in stripped
            or stripped.startswith("#")
            or key in {"name", "title", "seed", "source", "kind", "key"}
        ):
            continue
        if key in {"low", "high", "stage", "month", "plan_input", "kpi"}:
            continue  # a target's or range's fields: its `source` line cites it
        assert "#" in stripped, line
        assert any(tag in stripped for tag in ("[FW]", "[HZ]", "[PLAN]", "[CMP]", "ASSUMPTION")), line
    s = load_framework(FW)
    assert all(t.source for t in s.targets) and all(r.source for r in s.ranges)


def test_rollout_list_names_the_framework_among_the_plans() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    listed = subprocess.run(
        [sys.executable, "-m", "sim", "rollout", "--list"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert (
        listed.returncode == 0
        and "five-stage-framework" in listed.stdout
        and "hangzhou-2004-2009" in listed.stdout
    )


def test_the_plans_spending_and_float_are_set_beside_the_twins_prediction(tmp_path: Path) -> None:
    from sim.city.steady import habit
    from sim.operator.twin_check import DAYS_PER_MONTH, twin_check, twin_lines

    s = load_framework(FW)
    assert s.twin_day == (REPO / "scenarios" / "default.toml").resolve()
    c = twin_check(s)
    assert c is not None
    h = habit(load_day(s.twin_day))
    # Inputs as the plan has them; predictions as the twin's habit pays and holds them.
    assert (c.spend_input_fen_per_month, c.balance_input_fen) == (8_300, 5_000)
    assert c.spend_fen_per_month == round(h.spend_fen * DAYS_PER_MONTH) == pytest.approx(8_407, abs=30)
    assert c.listed_fen_per_month == round(394.37 * DAYS_PER_MONTH) == 11_995
    assert c.balance_fen == round(h.balance_fen_mean) == pytest.approx(3_859, abs=5)
    assert c.spend_gap_share == pytest.approx(c.spend_fen_per_month / 8_300 - 1)
    assert c.balance_gap_share == pytest.approx(-0.228, abs=0.002)
    run = run_framework(s)
    text = "\n".join(twin_lines(s, run))
    float_twin = run.months[-1].cardholders * c.balance_fen
    assert f"input CNY 50.00, predicted CNY {c.balance_fen / 100:.2f}" in text
    assert f"would be CNY {float_twin / 1e8:,.1f}M" in text
    assert f"--set spending.balance_fen_per_cardholder={c.balance_fen}" in text
    # The --set it prints plans with the twin's figures: the float then is the twin's.
    sets = {"spending.spend_fen_per_cardholder_per_month": c.spend_fen_per_month}
    sets["spending.balance_fen_per_cardholder"] = c.balance_fen
    assert run_framework(apply_sets(s, sets)).months[-1].float_fen == float_twin
    # Without twin_day, nothing is compared; a twin_day that is no file is one error.
    plain = tmp_path / "plain.toml"
    plain.write_text(FW.read_text("utf-8").replace('twin_day = "default.toml"', ""), "utf-8")
    assert twin_lines(load_framework(plain), run) == []
    bad = tmp_path / "bad.toml"
    bad.write_text(FW.read_text("utf-8").replace('"default.toml"', '"nope.toml"'), "utf-8")
    with pytest.raises(
        ScenarioError, match=r"\[spending\]: twin_day: 'nope.toml' is not a day scenario file"
    ):
        load_framework(bad)
