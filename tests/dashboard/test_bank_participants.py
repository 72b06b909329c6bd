"""Huaibei's participants on the dashboard are its bank card world's: its five issuing banks,
the third-party acquirer (and its partner), the switch and the utilities, never Hangzhou's."""

from __future__ import annotations

from collections import Counter

from dashboard import runner
from dashboard.participants import Cast, cast_of, party, regroup, shown, unnamed_roles
from scenarios.bank_schema import load_bank_city
from scenarios.rollout_loader import load_rollout, shipped
from sim.bankcity import run_day
from sim.bankcity.rollout import acceptance_of
from sim.rollout import Flow
from sim.rollout.plan import plan_months

BANKS = ("ICBC", "ABC", "BOC", "CCB", "Huishang")


def _huaibei() -> Cast:
    return cast_of(load_rollout(shipped()["huaibei-2011-2014"]))


def test_huaibei_is_cast_from_its_bank_card_city() -> None:
    assert _huaibei() == Cast(
        "huaibei-2011-2014",
        "huaibei",
        BANKS,
        True,
        acquirer_name="third-party",
        partner="city-card",
        switch=True,
    )
    hangzhou = cast_of(load_rollout(shipped()["hangzhou-2004-2009"]))
    assert not hangzhou.switch and hangzhou.acquirer_name == "" and hangzhou.city == "hangzhou"


def test_a_bank_card_days_parties_are_shown_by_their_own_names() -> None:
    city = load_bank_city("huaibei-2011-2014", {"run.cardholders_simulated": 20})
    plan = next(p for p in plan_months(city.plan_scenario) if p.month == "2014-06")
    day = run_day(city, plan.month, plan.sectors, acceptance_of(city, plan), seed=3)
    cast = _huaibei()
    kept = {p for p in day.settlement_fen if party(p, cast) == p}
    issuers = {p for p in day.settlement_fen if p.startswith("issuer:")}
    assert len(issuers) >= 3 and issuers <= kept and {p[7:] for p in issuers} <= set(BANKS)
    assert {"switch", "acquirer:third-party", "partner:city-card"} <= kept
    merchants = [p for p in day.settlement_fen if p.startswith("merchant:")]
    assert merchants and {party(p, cast) for p in merchants} == {"role:shop"}
    # flows from the day's T+1 positions: receivers paid by the settlement account, regrouped
    flows = tuple(
        Flow(p, "settlement", v) if v > 0 else Flow("settlement", p, -v)
        for p, v in sorted(day.settlement_fen.items())
        if v
    )
    grouped = regroup(flows, cast)
    assert sum(f.amount_fen for f in grouped) == sum(abs(v) for v in day.settlement_fen.values())
    into_shops = sum(f.amount_fen for f in grouped if f.payee == "role:shop")
    assert into_shops == -sum(day.settlement_fen[p] for p in merchants)
    assert unnamed_roles(grouped, cast) == ["role:other"]  # only the hand-made "settlement" node


def test_the_page_names_them_in_english_and_chinese() -> None:
    assert (
        shown("issuer:ICBC", "en") == "ICBC (issuer)" and shown("issuer:ICBC", "zh") == "工商银行（发卡行）"
    )
    assert shown("acquirer:acq:CCB", "zh") == "建设银行（POS 收单）"
    assert shown("acquirer:third-party", "en") == "third-party (acquirer)"
    assert shown("switch", "en") == "card network switch" and shown("biller:water", "en") == "water (biller)"
    # a bank not in the cast is an issuing bank by role; Hangzhou's cast has no switch
    assert party("issuer:HSBC", _huaibei()) == "role:issuer"
    assert party("switch", cast_of(load_rollout(shipped()["hangzhou-2004-2009"]))) == "role:other"
    assert Counter(party(f"issuer:{b}", _huaibei()) for b in BANKS) == Counter(f"issuer:{b}" for b in BANKS)


def test_the_dashboard_runs_huaibei_on_the_bank_card_world() -> None:
    s = load_rollout(shipped()["huaibei-2011-2014"])
    result, cached = runner.run(runner.RunCache(), s, 1, 0.0001)
    assert not cached
    parties = {p for m in result.months for p in m.settlement_fen_by_participant}
    assert {"switch", "acquirer:third-party", "issuer:ICBC", "issuer:Huishang"} <= parties
    assert not any(p.startswith(("load-", "bus-", "shop-")) for p in parties)  # no e-purse day's ids
    last = result.months[-1]
    assert set(last.tx_per_day_by_sector) <= {
        "bank_cards",
        "utilities",
        "bus",
        "taxi",
        "schools",
        "small_payments",
    }
    assert last.tx_per_day_by_sector["bus"] > last.tx_per_day_by_sector["bank_cards"] > 0
    first = result.months[0]
    assert "bus" not in first.tx_per_day_by_sector  # phase 1: bank cards and utilities only
