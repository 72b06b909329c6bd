"""The Huaibei bank-card city: a sample day through the real bank card world (cleared, settled,
money conserved), the rollout's figures against what its days computed, the CLI dispatch of
`cardtwin rollout huaibei-2011-2014`, and bad scenario files refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scenarios.bank_schema import bank_city_for, load_bank_city
from scenarios.rollout_loader import shipped
from scenarios.schema import ScenarioError
from sim.bankcity import run_bank_rollout, run_day, summary
from sim.bankcity.rollout import acceptance_of, totals
from sim.cli import main
from sim.rollout.plan import plan_months

SMALL = {"run.cardholders_simulated": 20, "run.replications": 2}


@pytest.fixture(scope="module")
def city():  # type: ignore[no-untyped-def]
    return load_bank_city("huaibei-2011-2014", SMALL)


def test_a_phase_3_day_runs_every_channel_and_settles_to_zero(city) -> None:  # type: ignore[no-untyped-def]
    plans = {p.month: p for p in plan_months(city.plan_scenario)}
    plan = plans["2014-06"]
    day = run_day(city, plan.month, plan.sectors, acceptance_of(city, plan), seed=3)
    assert day.violations == ()
    assert set(day.tx_by_channel) == {"bank-pos", "contactless", "convenience", "bills"}
    assert sum(day.settlement_fen.values()) == 0
    # the issuers pay in what their cardholders spent less their share of the discount
    paid_in = sum(v for p, v in day.settlement_fen.items() if p.startswith("issuer:"))
    issuer_fees = sum(v for p, v in day.fees_fen.items() if p.startswith("issuer:"))
    assert paid_in == sum(day.fen_by_channel.values()) - issuer_fees
    # the third party earns the biller fee on each bill (CNY 1) and its discount share, with its partner
    assert (
        day.fees_fen["acquirer:third-party"] + day.fees_fen["partner:city-card"]
        >= 100 * day.tx_by_channel["bills"]
    )
    assert sum(day.cards_by_bank.values()) == 20 and day.apdus > 0


def test_phase_1_has_no_buses_and_the_same_seed_gives_the_same_day(city) -> None:  # type: ignore[no-untyped-def]
    plan = next(p for p in plan_months(city.plan_scenario) if p.month == "2012-01")
    a = run_day(city, plan.month, plan.sectors, acceptance_of(city, plan), seed=9)
    b = run_day(city, plan.month, plan.sectors, acceptance_of(city, plan), seed=9)
    assert "contactless" not in a.tx_by_channel and "convenience" not in a.tx_by_channel
    assert (a.tx_by_channel, a.fen_by_channel, a.fees_fen, a.settlement_fen) == (
        b.tx_by_channel, b.fen_by_channel, b.fees_fen, b.settlement_fen,
    )  # fmt: skip


def test_the_report_shows_what_the_days_computed(city) -> None:  # type: ignore[no-untyped-def]
    r = run_bank_rollout(city, seed=2)
    s = summary(r)
    last = r.plans[-1]
    assert s["cards_by_bank"]["ICBC"]["cards"] == round(last.cardholders * 0.25)
    tx0, _, fees0 = totals(r.replications[0])
    tx1, _, fees1 = totals(r.replications[1])
    assert s["transactions_by_channel"]["bills"]["mean"] == (tx0["bills"] + tx1["bills"]) / 2
    assert s["fees_by_party_fen"]["switch"]["mean"] == (fees0["switch"] + fees1["switch"]) / 2
    # a month scales its phase's sample day by cardholders x days / simulated holders
    first = r.replications[0][0]
    day = r.days[0]
    assert first.tx_by_channel["bank-pos"] == round(
        day.tx_by_channel["bank-pos"] * first.cardholders * 30 / 20
    )
    invest = sum(m.acquirer_investment_fen for m in r.replications[0])
    assert s["acquirer"]["investment_fen"]["value"] == invest == 2_500 * 300_000
    assert len(s["acquirer"]["payback"]) == 2 and s["sample_days"]["violations"] == 0


def test_cardtwin_rollout_huaibei_runs_the_bank_card_city(tmp_path: Path) -> None:
    assert bank_city_for(shipped()["huaibei-2011-2014"]) is not None
    assert bank_city_for(shipped()["hangzhou-2004-2009"]) is None
    out = tmp_path / "hb"
    result = CliRunner().invoke(
        main,
        ["rollout", "huaibei-2011-2014", "--sample", "0.00003", "--replications", "2", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "result.json").read_text("utf-8"))
    for bank, v in saved["cards_by_bank"].items():
        assert f"  {bank:<10} {v['cards']:>9,}" in result.output
    assert "terminals by 2014-12: plan input: 2,500" in result.output
    assert "bank POS" in result.output and "bills" in result.output and "payback" in result.output
    assert {p.name for p in out.iterdir()} == {"result.json", "report.md"}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"bank.0.card_share": 0.5}, "bank.card_share: the shares sum to 1.2500, not 1"),
        ({"bank.1.bin": "12AB"}, "bank.bin: '12AB' is not a 6-8 digit BIN"),
        ({"cards.ec_load_fen": 95_000}, "ec_reset_threshold_fen + ec_load_fen exceeds"),
        ({"channel.0.channel": "atm"}, "'atm' is not known"),
        ({"tariff.catering_bp": 20_000}, "tariff.catering_bp: 20000 out of range"),
        ({"acquirer.terminal_cny": 1}, "unknown key; did you mean terminal_fen?"),
        ({"adoption.imitation_q": 2}, "adoption.imitation_q: 2 out of range"),
    ],
)
def test_a_bad_bank_city_is_refused_in_one_line(override: dict[str, object], message: str) -> None:
    with pytest.raises(
        ScenarioError, match=message.replace("(", r"\(").replace("+", r"\+").replace("?", r"\?")
    ) as caught:
        load_bank_city("huaibei-2011-2014", override)
    assert "\n" not in str(caught.value)
