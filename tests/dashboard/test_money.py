"""The formatting layer and the verdicts: money in CNY with its magnitude, counts in 万张,
plan inputs never judged, and "x of y targets met" from the run's checks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dashboard import units, verdicts, view_header
from sim.rollout.result import SOURCE_PLAN_INPUT, Target, TargetCheck
from tests.dashboard.test_units import _month, small_result


@pytest.mark.parametrize(
    ("fen", "en", "zh"),
    [
        (0, "CNY 0", "0 元"),
        (123_456, "CNY 1,235", "1,235 元"),
        (10_000_000_000, "CNY 100M", "1.00 亿元"),  # the "10000000000" revenue target
        (302_000_000_000, "CNY 3.02B", "30.2 亿元"),
        (-16_300_000_000, "CNY -163M", "-1.63 亿元"),
        (4_919_000_000, "CNY 49.2M", "4,919 万元"),
    ],
)
def test_money_is_cny_with_its_magnitude(fen: int, en: str, zh: str) -> None:
    assert units.yuan(fen, "en") == en
    assert units.yuan(fen, "zh") == zh
    for shown in (en, zh):
        back = units.parse_yuan(shown)
        assert abs(back - fen / 100) <= units.shown_precision(fen / 100), shown


def test_counts_and_kpi_values() -> None:
    assert units.count(1_234_567, "en", "cardholders") == "1,234,567"
    assert units.count(1_234_567, "zh", "cardholders") == "123 万张"
    assert units.count(950, "zh", "terminals") == "950 台"
    assert units.count(250_000_000, "zh") == "2.50 亿"
    assert units.kpi_value("revenue_fen", 10_000_000_000, "en") == "CNY 100M"
    assert units.kpi_value("terminals", 12_000, "en") == "12,000"
    assert units.signed("CNY 3") == "+CNY 3" and units.signed("CNY -3") == "CNY -3"
    with pytest.raises(ValueError):
        units.parse_yuan("10000000000")  # a bare number is no amount of money


def _checks() -> tuple[TargetCheck, ...]:
    return (
        TargetCheck(Target("cardholders", _month(11), 100_000), 120_000, True, 20_000),
        TargetCheck(Target("terminals", _month(23), 700, 800), 560, False, -140),
        TargetCheck(
            Target("recharge_points", _month(5), 30), 30, True, 0, SOURCE_PLAN_INPUT, verdict="plan input"
        ),
        TargetCheck(
            Target("revenue_fen", _month(23), 10_000_000_000, 12_000_000_000),
            15_000_000_000,
            True,
            5_000_000_000,
            verdict="above range",
            p_met=0.82,
            p_met_low=0.71,
            p_met_high=0.9,
        ),
    )


def test_plan_inputs_are_not_judged_and_the_tally_counts_due_predictions() -> None:
    r = replace(small_result(), targets=_checks())
    early = verdicts.tally(r, _month(12))
    assert (early.met, early.due, early.judged, early.plan_inputs) == (1, 1, 3, 1)
    late = verdicts.tally(r, _month(29))
    assert (late.met, late.due, late.judged) == (2, 3, 3)  # above range meets the low bound
    assert verdicts.status(r.targets[2], _month(29)) == verdicts.PLAN_INPUT
    assert verdicts.status(r.targets[3], _month(29)) == verdicts.ABOVE
    assert verdicts.status(r.targets[3], _month(20)) == verdicts.PENDING
    assert verdicts.p_met_text(r.targets[3]) == "P(met) 0.82 [0.71, 0.90]"
    assert verdicts.p_met_text(r.targets[0]) == ""


def test_cards_show_target_actual_completion_in_units() -> None:
    checks = _checks()
    label, value, detail = view_header.card_lines(checks[3], _month(29), "zh")
    assert label == ":orange[●] 年收入 · 2010-12"
    assert value == "1.50 亿元"  # 15e9 fen is CNY 150M
    assert detail == "高于规划区间 · 目标 1.00 亿元 – 1.20 亿元 · 完成率 150% · 达成概率 0.82 [0.71, 0.90]"
    label, value, detail = view_header.card_lines(checks[1], _month(29), "en")
    assert (label, value) == (":red[●] Terminals · 2010-12", "560")
    assert detail == "missed · Target 700 – 800 · Completion 80%"
    assert view_header.card_lines(checks[1], _month(3), "en")[1] == "not due yet"


def test_header_names_the_run_and_its_caveat() -> None:
    r = small_result()
    run, caveat = view_header.header_lines(r, {"deployment.terminals_factor": 2.0}, "en")
    assert run == "2009-01 – 2011-06 · changed: Terminals × plan = 2.0 · seed 1 · sample 0.01"
    assert "1.000% of citizens on 5 representative days" in caveat
    run, caveat = view_header.header_lines(r, {}, "zh")
    assert "无（场景原样）" in run and "5 个代表日" in caveat
