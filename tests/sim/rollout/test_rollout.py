"""The rollout engine: issuance, deployment, the day mapping, money, targets; run_rollout is
deterministic; `cardtwin rollout` and `compare` write a complete folder or none."""

from __future__ import annotations

import itertools
import pickle
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from scenarios.rollout_loader import load_rollout
from scenarios.schema import ScenarioError
from sim.cli import main
from sim.rollout import report as rollout_report
from sim.rollout.days import day_scenario
from sim.rollout.engine import check_targets, payback_month, representative_months, run_rollout
from sim.rollout.money import month_money
from sim.rollout.plan import bass_demand, deployed, plan_months
from sim.rollout.report import summary_lines
from sim.rollout.result import RolloutResult
from sim.rollout.tables import money_text

TINY = 0.0005  # a few hundred simulated citizens per representative day
FOLDER_FILES = {
    "rollout.sqlite",
    "report.html",
    "adoption.png",
    "network.png",
    "volume.png",
    "cash.png",
    *(
        f"{t}.csv"
        for t in ("rollout", "months", "phases", "years", "targets", "verdicts", "sites", "flows", "notes")
    ),
    "services_months.csv",  # the default day's [services]: their adoption (sim.services.rollout)
    "services_vs_seed.csv",
}


@pytest.fixture(scope="module")
def huaibei_result() -> RolloutResult:
    return run_rollout(load_rollout("huaibei-2011-2014"), sample=TINY, seed=7)


def test_bass_demand_and_capacity_limit() -> None:
    assert bass_demand(0, 1000, 0.1, 0.5) == 100
    assert bass_demand(500, 1000, 0.1, 0.5) == 175  # (0.1 + 0.5 * 0.5) * 500
    assert bass_demand(1000, 1000, 0.1, 0.5) == 0
    s = load_rollout("hangzhou-2004-2009", {"adoption.cards_per_window_per_day": 1})
    plans = plan_months(s)
    assert all(p.limited_by == "windows" for p in plans[8:20])
    # 11 windows x 1 card x 22 days a month, plus the seed's bulk batch of 100,000 civil servants
    limited = {p.month: p.issued for p in plans if p.limited_by == "windows"}
    assert limited.pop("2006-12") == 11 * 22 + 100_000
    assert set(limited.values()) == {11 * 22}
    assert plans[-1].cardholders == sum(p.issued for p in plans)


def test_deployment_is_linear_between_milestones() -> None:
    s = load_rollout("one-card-plan-2005-2010")
    ms = s.milestone
    assert deployed(ms, "2005-01", "2005-12") == (150, 1_000, 20)
    assert deployed(ms, "2005-01", "2006-06") == (375, 3_500, 40)  # half way to 2006-12
    assert deployed(ms, "2005-01", "2010-12") == (2_000, 15_000, 120)
    assert deployed(ms, "2005-01", "2005-01")[0] == round(150 / 12)


def test_deployment_factors_scale_the_milestones() -> None:
    base = plan_months(load_rollout("one-card-plan-2005-2010"))
    more = plan_months(
        load_rollout(
            "one-card-plan-2005-2010",
            {"deployment.recharge_points_factor": 1.5, "deployment.service_windows_factor": 0.5},
        )
    )
    assert more[-1].recharge_points_planned == 3_000 and base[-1].recharge_points == 2_000
    # the crews open at most 40 points a month, so a plan larger by half is not all in place
    assert all(b.recharge_points - a.recharge_points <= 40 for a, b in itertools.pairwise(more))
    assert more[-1].recharge_points == 2_625
    assert more[-1].service_windows == 60 and more[-1].terminals == base[-1].terminals
    few = plan_months(load_rollout("one-card-plan-2005-2010", {"deployment.service_windows_factor": 0.1}))
    assert few[23].limited_by == "windows"
    assert few[23].cardholders < base[23].cardholders  # a tenth of the windows issue fewer cards


def test_a_month_maps_sectors_and_counts_onto_the_day() -> None:
    s = load_rollout("huaibei-2011-2014")
    plans = {p.month: p for p in plan_months(s)}
    first = day_scenario(s, plans["2011-10"], 0.01, 1)
    assert first.population.transit_trips_per_day == 0  # buses join in phase 2
    assert first.population.taxi_trips_per_day == 0
    assert first.city.metro_lines == 0
    assert first.population.merchant_purchases_per_day > 0  # bank cards and utilities
    late = day_scenario(s, plans["2014-12"], 0.01, 1)
    assert late.population.transit_trips_per_day > 0
    assert late.population.cardholders == plans["2014-12"].cardholders
    assert late.city.recharge_points == 250
    assert late.run.date == "2014-12-15"


def test_money_counts_the_acquirer_and_the_float() -> None:
    s = load_rollout("huaibei-2011-2014")
    plans = plan_months(s)
    m = month_money(s, 1, plans[1], plans[0], gross_fees_fen=1000, float_fen=12_000_000, spends_fen=0)
    opened_terminals = plans[1].terminals - plans[0].terminals
    assert opened_terminals > 0
    # the acquirer invests in every convenience terminal and keeps half their fees
    points = (plans[1].recharge_points - plans[0].recharge_points) * s.finance.recharge_point_fen
    assert m.investment_fen == s.finance.platform_fen // 12 + points
    assert m.fees_fen == 500
    assert m.float_income_fen == 12_000_000 * 300 // 10_000 // 12


def test_run_rollout_is_deterministic_and_picklable(huaibei_result: RolloutResult) -> None:
    again = run_rollout(load_rollout("huaibei-2011-2014"), sample=TINY, seed=7)
    assert again.months == huaibei_result.months
    assert again.targets == huaibei_result.targets
    assert again.flows == huaibei_result.flows
    assert pickle.loads(pickle.dumps(huaibei_result)).months == huaibei_result.months
    r = huaibei_result
    assert r.months[0].month == "2011-09" and r.months[-1].month == "2014-12"
    assert sum(m.representative_day for m in r.months) == len(
        set(representative_months(plan_months(load_rollout("huaibei-2011-2014"))).values())
    )
    assert r.months[-1].tx_per_day_by_sector["bus"] > 0
    assert r.months[0].tx_per_day_by_sector["bus"] == 0
    assert all(m.float_fen > 0 for m in r.months)
    floats = [0] + [m.float_fen for m in r.months]
    for m, f0, f1 in zip(r.months, floats, floats[1:], strict=False):
        assert m.loads_fen == max(0, m.card_spending_fen + f1 - f0)  # money conserved month by month
    assert r.months[-1].cash_cumulative_fen == sum(
        m.revenue_fen - m.investment_fen - m.opex_fen for m in r.months
    )


def test_targets_are_checked_against_the_months(huaibei_result: RolloutResult) -> None:
    r = huaibei_result
    by = {c.target.kpi: c for c in r.targets}
    holders = by["cardholders"]
    assert holders.actual == r.month("2014-12").cardholders
    assert holders.met == (holders.actual >= 300_000) == (holders.verdict == "met")
    assert holders.gap == holders.actual - 300_000
    s = load_rollout(
        "huaibei-2011-2014",
        {"target.0.low": 10**9, "target.1.kpi": "card_spending_fen", "target.1.due_month": "2013-06"},
    )
    checks = check_targets(s, list(r.months))
    assert not checks[0].met and checks[0].gap == r.month("2014-12").cardholders - 10**9
    spent_2013 = sum(m.card_spending_fen for m in r.months if "2013-01" <= m.month <= "2013-06")
    assert checks[1].actual == spent_2013
    rows = list(r.months)
    assert payback_month(rows) is None or payback_month(rows) > r.months[0].month
    assert (
        payback_month([replace(rows[0], cash_cumulative_fen=-5), replace(rows[1], cash_cumulative_fen=0)])
        == rows[1].month
    )


def test_cli_rollout_writes_a_complete_folder(tmp_path: Path) -> None:
    out = tmp_path / "hb"
    # The shipped name runs the bank-card city (tests/sim/bankcity); a file extending the plan is
    # a plan of its own, which the e-purse engine runs.
    plan = tmp_path / "plan.toml"
    plan.write_text(f'extends = "{Path(load_rollout("huaibei-2011-2014").source).resolve()}"\n', "utf-8")
    result = CliRunner().invoke(main, ["rollout", str(plan), "--sample", str(TINY), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "targets: 1 predicted by the model" in result.output
    assert "cardholders by 2014-12: prediction" in result.output
    assert "terminals by 2014-12: plan input" in result.output
    assert {p.name for p in out.iterdir()} == FOLDER_FILES
    assert "MISSED" in (out / "report.html").read_text("utf-8") or "met" in (out / "report.html").read_text(
        "utf-8"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hb", "plan.toml"]  # no temporary folder left


def test_cli_bad_input_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "bad"
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["rollout", "huaibei-2011-2014", "--set", 'phase.phase-1.end_month="2012-13"', "--out", str(out)],
    )
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert (
        "override phase.phase-1.end_month: phase \"phase-1\".end_month: '2012-13' is not a month"
        in result.output
    )
    not_toml = tmp_path / "x.toml"
    not_toml.write_text("this is = = not toml", "utf-8")
    result = runner.invoke(main, ["rollout", str(not_toml), "--out", str(out)])
    assert result.exit_code == 1 and "x.toml:1: not valid TOML" in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [not_toml]


def test_a_failure_while_writing_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, huaibei_result: RolloutResult
) -> None:
    def broken(*args: object) -> list[str]:
        raise OSError("disk full")

    monkeypatch.setattr(rollout_report, "_figures", broken)
    with pytest.raises(OSError, match="disk full"):
        rollout_report.write_rollout(huaibei_result, tmp_path / "r")
    assert list(tmp_path.iterdir()) == []


def test_cli_compare_puts_two_plans_side_by_side(tmp_path: Path) -> None:
    slower = tmp_path / "slower.toml"
    base = Path(
        load_rollout("one-card-plan-2005-2010").source
    ).resolve()  # (Huaibei's plan runs on the bank card world)
    slower.write_text(
        f'extends = "{base}"\n[rollout]\nname = "slower"\n[adoption]\nimitation_q = 0.02\n', "utf-8"
    )
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        main, ["compare", "one-card-plan-2005-2010", str(slower), "--sample", str(TINY), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "A: one-card-plan-2005-2010" in result.output and "B: slower" in result.output
    names = {p.name for p in out.iterdir()}
    assert {
        "compare.sqlite",
        "report.html",
        "side_by_side.csv",
        "targets.csv",
        "a_targets.csv",
        "b_targets.csv",
        "cash.png",
    } <= names


@pytest.mark.parametrize("name", ["hangzhou-2004-2009", "one-card-plan-2005-2010"])
def test_every_shipped_scenario_runs_and_checks_each_target(name: str) -> None:
    s = load_rollout(name)
    assert pickle.loads(pickle.dumps(s)) == s  # sweeps send scenarios to Dask workers
    r = run_rollout(s, sample=0.00003)
    assert len(r.targets) == len(s.target)
    assert [(c.target.kpi, c.target.due_month) for c in r.targets] == [(t.kpi, t.due_month) for t in s.target]
    assert len(r.months) == len(s.months())
    assert r.months[-1].coverage_share > 0.5
    assert {p.name for p in r.phases} == {p.name for p in s.phase}
    if name == "one-card-plan-2005-2010":  # [PLAN] 500M CNY to 2007; market unit costs spend less
        spent = sum(m.investment_fen for m in r.months if m.month <= "2007-12")
        assert 0 < spent < 50_000_000_000
        assert (
            f"investment to 2007-12: {money_text(spent)} vs budget CNY 500.0M: within budget by "
            f"{money_text(50_000_000_000 - spent)} (prediction: what the crews installed times the "
            "scenario's market unit costs, ASSUMPTION)" in summary_lines(r)
        )


def test_a_bad_sample_is_refused() -> None:
    with pytest.raises(ScenarioError, match="sample 0: out of range"):
        run_rollout(load_rollout("huaibei-2011-2014"), sample=0)


def test_months_between_representative_days_are_linear_within_a_phase(huaibei_result: RolloutResult) -> None:
    r = huaibei_result
    reps = [m for m in r.months if m.representative_day]
    a, b = reps[-2], reps[-1]  # two days of phase 3 (2013-10 and 2014-06)
    assert a.phase == b.phase == "phase-3"
    mid = r.month("2014-02")  # half way from 2013-10 to 2014-06
    share = (a.card_spending_fen / a.cardholders / 31 + b.card_spending_fen / b.cardholders / 30) / 2
    assert mid.card_spending_fen == pytest.approx(share * mid.cardholders * 28, rel=1e-6)
