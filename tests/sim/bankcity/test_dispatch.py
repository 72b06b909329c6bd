"""`cardtwin compare` and `cardtwin sweep` run a bank-card plan on the bank card world (the
dispatch `scenarios.bank_schema.bank_city_for`, as `cardtwin rollout` does)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from scenarios.bank_schema import load_bank_city
from scenarios.rollout_loader import shipped
from scenarios.schema import ScenarioError
from sim.bankcity.rollout import payback, run_bank_rollout, totals
from sim.cli import main
from sim.sweep.engine import Task, prepare, run_task

PLAN = str(shipped()["huaibei-2011-2014"])
SMALL = ("--sample", "0.00003", "--set", "run.replications=2")


def test_compare_runs_a_bank_card_plan_on_the_bank_card_world(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        main, ["compare", "huaibei-2011-2014", "huaibei-2011-2014", *SMALL, "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    a = json.loads((out / "A" / "result.json").read_text("utf-8"))
    b = json.loads((out / "B" / "result.json").read_text("utf-8"))
    assert a == b and a["seed"] == 3  # the same plan, seed and sample: the same figures
    assert a["sample_days"]["days"] == 3 * 2 and a["sample_days"]["violations"] == 0
    assert a["fees_by_party_fen"]["switch"]["mean"] > 0
    text = result.output
    assert "A: huaibei-2011-2014" in text and "B: huaibei-2011-2014" in text
    assert text.count("bank-card city: 2 replications of 3 sample days") == 2
    assert f"  {'ICBC':<10} {a['cards_by_bank']['ICBC']['cards']:>9,}" in text


def test_compare_of_an_e_purse_plan_with_a_bank_card_plan_runs_each_on_its_world(tmp_path: Path) -> None:
    out = tmp_path / "mixed"
    result = CliRunner().invoke(
        main, ["compare", "hangzhou-2004-2009", "huaibei-2011-2014", "--sample", "0.0002", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "A" / "report.html").is_file()
    assert json.loads((out / "B" / "result.json").read_text("utf-8"))["scenario"] == "huaibei-2011-2014"
    a_lines, b_lines = result.stdout.split("B: huaibei-2011-2014")
    assert "bank-card city: " in b_lines and "bank-card city" not in a_lines
    assert a_lines.startswith("A: hangzhou-2004-2009")


def test_a_sweep_run_of_a_bank_card_plan_gives_the_bank_rollouts_figures() -> None:
    full = run_task(Task("rollout", PLAN, "acquirer.partner_bp", 0, 2, 0.00003, 0))
    half = run_task(Task("rollout", PLAN, "acquirer.partner_bp", 5_000, 2, 0.00003, 1))
    city = load_bank_city(PLAN.replace("rollout", "bankcity"), {"run.cardholders_simulated": 20})
    r = run_bank_rollout(city, seed=2)  # what the sweep's run with partner_bp 5000 (the file's) ran
    assert half.kpis["transactions"] == sum(sum(totals(rows)[0].values()) for rows in r.replications) / 4
    assert half.kpis["cardholders_end"] == r.plans[-1].cardholders
    # the partner's share moves income from the acquirer to the partner: not one payment, not one fee
    assert full.kpis["transactions"] == half.kpis["transactions"]
    # (a month rounds each party's scaled fee to the fen: a split can move a fen per party-month)
    assert full.kpis["fees_fen"] == pytest.approx(half.kpis["fees_fen"], abs=2 * 40)
    assert full.kpis["acquirer_income_fen_end"] > 1.9 * half.kpis["acquirer_income_fen_end"] > 0
    months = [payback(rows)[0] for rows in r.replications]
    assert math.isnan(half.kpis["payback_months"]) == (None in months)


def test_a_sweep_of_a_bank_card_plan_refuses_a_bad_key_before_running() -> None:
    wrong = r"acquirer\.terminal_cny: unknown key; did you mean terminal_fen"
    with pytest.raises(ScenarioError, match=wrong) as caught:
        prepare(Task("rollout", PLAN, "acquirer.terminal_cny", 1, 1, None, 0))
    assert "\n" not in str(caught.value) and str(caught.value).startswith("override acquirer.terminal_cny:")
