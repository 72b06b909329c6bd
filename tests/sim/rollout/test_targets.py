"""Targets: plan inputs apart from predictions, and a prediction's verdict against its range."""

from __future__ import annotations

from dataclasses import replace

from scenarios.rollout_loader import load_rollout
from sim.rollout.plan import plan_months
from sim.rollout.result import SOURCE_PLAN_INPUT, SOURCE_PREDICTION, MonthRow
from sim.rollout.tables import target_text
from sim.rollout.targets import check_targets, plan_input_reason, verdict_of


def _rows(months: list[str], cardholders: list[int], terminals: int) -> list[MonthRow]:
    """Month rows with only the counts a target reads; money zero."""
    zero = MonthRow(
        month="", phase="p", cardholders=0, cards_issued_in_month=0, issuance_limited_by="demand",
        service_windows=1, recharge_points=0, terminals=terminals, terminals_by_kind={}, sectors=(),
        coverage_share=0.0, tx_per_day_by_sector={}, card_spending_fen=0, loads_fen=0, float_fen=0,
        fees_fen=0, float_income_fen=0, revenue_fen=0, investment_fen=0, opex_fen=0,
        cash_cumulative_fen=0, recharge_wait_s_mean=0.0, recharge_wait_s_p95=0.0, window_wait_s_mean=0.0,
        settlement_fen_by_participant={},
    )  # fmt: skip
    return [replace(zero, month=m, cardholders=n) for m, n in zip(months, cardholders, strict=True)]


def test_verdict_is_against_the_range() -> None:
    assert verdict_of(99, 100, 200) == "missed"
    assert verdict_of(100, 100, 200) == "met"
    assert verdict_of(200, 100, 200) == "met"
    assert verdict_of(201, 100, 200) == "above range"
    assert verdict_of(10**9, 100, None) == "met"


def test_hangzhou_batches_and_milestones_are_plan_inputs() -> None:
    s = load_rollout("hangzhou-2004-2009")
    reasons = [plan_input_reason(s, t) for t in s.target]
    # 2004-12: the 3,000-card pilot batch; 2006-12: it and the 100,000 civil servants (103,000)
    assert "3,000 cards by 2004-12" in reasons[0]
    assert "103,000 cards by 2006-12" in reasons[1]
    assert reasons[2] == ""  # 2.01M issued by 2009-03: the model's prediction
    assert "milestones" in reasons[3]


def test_check_targets_reports_plan_inputs_and_above_range() -> None:
    s = load_rollout("hangzhou-2004-2009")
    months = [p.month for p in plan_months(s)]
    holders = [3_000] * (len(months) - 2) + [2_060_000] * 2  # the 2009 count is due at the end of 2009-02
    checks = check_targets(s, _rows(months, holders, terminals=10_500))
    inputs = [SOURCE_PLAN_INPUT, SOURCE_PLAN_INPUT, SOURCE_PREDICTION, SOURCE_PLAN_INPUT]
    assert [c.source for c in checks] == inputs
    assert [c.verdict for c in checks] == ["plan input", "plan input", "above range", "plan input"]
    assert [c.met for c in checks] == [False, False, False, False]  # a plan input is never met
    assert checks[2].gap == 50_000
    assert "above range by 10,000 over the top" in target_text(checks[2])
    assert target_text(checks[3]).startswith("terminals by 2009-03: plan input 10,500 vs >= 5,500 (")
    inside = check_targets(s, _rows(months, [*holders[:-2], 2_030_000, 2_030_000], terminals=10_500))
    assert inside[2].verdict == "met" and inside[2].met
    short = check_targets(s, _rows(months, [*holders[:-2], 2_000_000, 2_000_000], terminals=10_500))
    assert short[2].verdict == "missed" and "MISSED by 10,000 (-0.5%)" in target_text(short[2])


def test_half_the_installation_crews_miss_the_one_card_plans_deployment_targets() -> None:
    from sim.rollout import run_rollout, summary_lines

    full = load_rollout("one-card-plan-2005-2010")
    half = load_rollout("one-card-plan-2005-2010", {"deployment.install_capacity_factor": 0.5})
    deployment = [i for i, t in enumerate(full.target) if t.kpi in ("recharge_points", "terminals")]
    assert len(deployment) == 8
    assert all(plan_input_reason(full, full.target[i]) == "" for i in deployment)  # crews: predictions
    full_checks = check_targets(full, list(run_rollout(full, sample=0.00003).months))
    r = run_rollout(half, sample=0.00003)
    checks = check_targets(half, list(r.months))
    assert [full_checks[i].verdict for i in deployment] == ["met"] * 8  # the crews keep the 2006 pace
    verdicts = {(checks[i].target.kpi, checks[i].target.due_month): checks[i] for i in deployment}
    # 20 points and 225 terminals a month: the 2005 pace (12.5 and 83) is kept, 2006's is not
    assert {k: c.verdict for k, c in verdicts.items()} == {
        ("recharge_points", "2005-12"): "met", ("terminals", "2005-12"): "met",
        ("recharge_points", "2006-12"): "missed", ("terminals", "2006-12"): "missed",
        ("recharge_points", "2007-12"): "missed", ("terminals", "2007-12"): "missed",
        ("recharge_points", "2010-12"): "missed", ("terminals", "2010-12"): "missed",
    }  # fmt: skip
    assert verdicts[("recharge_points", "2006-12")].actual == 150 + 12 * 20
    assert verdicts[("terminals", "2006-12")].why == (
        "installation capacity: the crews install 225 terminals a month, 2,300 of the plan's 6,000 "
        "terminals by 2006-12 are not in place"
    )
    text = "\n".join(summary_lines(r))
    assert (
        "recharge_points by 2006-12: prediction 390 vs >= 600: MISSED by 210 (-35.0%); installation" in text
    )
