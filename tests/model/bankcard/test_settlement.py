"""T+1 settlement between every party of the bank card network: five issuers, a bank acquirer
and the third-party acquirer with its revenue share, the switch, merchants and billers; with torn
transactions, a lost second GENERATE AC (the reversal, queued through a switch outage) and an
issuer down at night (its file carried to the next day). Every position nets to zero."""

from __future__ import annotations

from datetime import datetime

import pytest

from devices.bankcard_os import BankCardOS
from devices.bankcard_state import personalise
from devices.card_os import TearPhase
from devices.sim_channel import SimChannel
from model.backoffice import Ledger, open_database
from model.bankcard import (
    Acquirer,
    BankPos,
    Biller,
    ConvenienceTerminal,
    EcLoadTerminal,
    IssuerHost,
    IssuerMasterKeys,
    Share,
    Switch,
    Tariff,
    TariffError,
    clear_day,
    settle,
    value_day,
)
from model.bankcard.settlement import SETTLEMENT_ACCOUNT
from model.errors import TransactionTornError
from tests.model.bankcard.kit import Cut

NOW = datetime(2013, 5, 9, 12, 0)
DAY = 20130509
BANKS = {"ICBC": "622202", "ABC": "622848", "BOC": "621661", "CCB": "621700", "HSB": "622677"}
ACCOUNT_FEN = 500_000
TARIFF = Tariff(biller_fee_fen=150, shares={"third-party": Share("city-card", 5_000)})


def network(cut: Cut | None = None) -> tuple[Switch, dict[str, SimChannel], dict[str, BankCardOS]]:
    issuers, cards, chips = {}, {}, {}
    for n, (bank, bin_) in enumerate(BANKS.items()):
        keys = IssuerMasterKeys.generate(8, bank)
        issuers[bank] = IssuerHost(keys)
        pan = f"{bin_}00000000{n:02d}"
        issuers[bank].open_account(pan, ACCOUNT_FEN)
        chips[bank] = BankCardOS(personalise(keys, pan, 0, "1234"), tear_hook=cut if bank == "CCB" else None)
        cards[bank] = SimChannel(chips[bank])
    return Switch(issuers, {bin_: bank for bank, bin_ in BANKS.items()}), cards, chips


def world_money(switch: Switch, chips: dict[str, BankCardOS]) -> int:
    """Cardholders' money where it is: accounts, holds, EC on cards, and what was spent."""
    banks = switch.issuers.values()
    spent = sum(i.purchases_due_fen + i.cleared_fen for i in banks)
    held = sum(h.amount_fen for i in banks for h in i.holds.values())
    return (
        sum(sum(i.accounts_fen.values()) for i in banks)
        + held
        + sum(c.state.ec_balance_fen for c in chips.values())
        + spent
    )


def test_a_day_settles_t_plus_1_between_every_party() -> None:
    switch, cards, chips = network()
    third, bank_acq = Acquirer("third-party", switch), Acquirer("ICBC-acq", switch)
    water = Biller("water")
    kiosk, pos = EcLoadTerminal("EC-1", third, seed=1), BankPos("POS-1", bank_acq, seed=1)
    conv = ConvenienceTerminal("CONV-1", third, seed=1)
    for n, card in enumerate(cards.values()):
        kiosk.load(card, 3_000, NOW)
        bank_acq.submit(pos.purchase_online(card, 20_000, NOW), "hotel", "catering")
        third.submit(conv.pos.purchase_ec(card, 1_000, NOW), "corner-shop", "supermarket")
        water.issue(f"W{n}", 4_321)
        conv.pay_bill(card, water, f"W{n}", NOW)
    ledger = Ledger(open_database(":memory:"))
    clearing = clear_day(
        ledger, DAY, switch, [third.close_file(), bank_acq.close_file()], TARIFF, [third, bank_acq]
    )
    assert clearing.cleared == 15 and clearing.held == () and clearing.carried == ()
    assert clearing.cleared_fen == 5 * (20_000 + 1_000 + 4_321)
    # catering 200 bp on 20000 = 400 (issuer 280, acquirer 80, switch 40); supermarket 50 bp on
    # 1000 = 5 (3, 2, 0); the third party's income per record (2, and the biller's 150) is halved
    # with its partner record by record, floor to the partner: 1 + 75 each.
    assert clearing.fees_fen == {
        **{f"issuer:{b}": 280 + 3 for b in BANKS},
        "switch": 5 * 40,
        "acquirer:ICBC-acq": 5 * 80,
        "acquirer:third-party": 5 * (1 + 75),
        "partner:city-card": 5 * (1 + 75),
    }
    settlement = settle(ledger, clearing)
    assert settlement.value_day == 20130510 == value_day(DAY)
    pay = {i.party: i.pay_fen for i in settlement.instructions}
    assert pay == {
        **{f"issuer:{b}": 20_000 - 280 + 1_000 - 3 + 4_321 for b in BANKS},
        "switch": -200,
        "acquirer:ICBC-acq": -400,
        "acquirer:third-party": -380,
        "partner:city-card": -380,
        "merchant:hotel": -5 * (20_000 - 400),
        "merchant:corner-shop": -5 * (1_000 - 5),
        "biller:water": -5 * (4_321 - 150),
    }
    assert sum(pay.values()) == 0 and settlement.paid_in_fen == 5 * (25_321 - 283)
    assert ledger.balances("position:") == {k: 0 for k in ledger.balances("position:")}
    assert ledger.balance(SETTLEMENT_ACCOUNT) == 0
    ledger.check()
    for issuer in switch.issuers.values():  # each bank paid in exactly what it cleared less its fee
        assert issuer.cleared_fen == 25_321 and issuer.purchases_due_fen == 0 and issuer.holds == {}
        assert issuer.ec_float_fen == 3_000 - 1_000
    assert world_money(switch, chips) == 5 * ACCOUNT_FEN


ONLINE_APDUS = 9  # selection 4, GPO, READ RECORD 2, GENERATE AC 1 and 2


@pytest.mark.parametrize("phase", list(TearPhase))
@pytest.mark.parametrize("at", range(ONLINE_APDUS))
def test_torn_purchases_settle_once_or_not_at_all(at: int, phase: TearPhase) -> None:
    cut = Cut(at, phase)
    switch, cards, chips = network(cut)
    acquirer = Acquirer("bank-acq", switch)
    pos = BankPos("POS-1", acquirer, seed=3)
    for bank, card in cards.items():
        try:
            acquirer.submit(pos.purchase_online(card, 10_000, NOW), "shop", "general")
        except TransactionTornError:
            assert bank == "CCB"
    assert cut.fired
    ledger = Ledger(open_database(":memory:"))
    clearing = clear_day(ledger, DAY, switch, [acquirer.close_file()], TARIFF, [acquirer])
    settle(ledger, clearing)
    assert clearing.cleared == 4 and switch.issuers["CCB"].holds == {}
    assert switch.issuers["CCB"].accounts_fen["6217000000000003"] == ACCOUNT_FEN  # reversed, not paid
    assert world_money(switch, chips) == 5 * ACCOUNT_FEN
    assert ledger.balance("position:issuer:CCB") == 0 and ledger.balance(SETTLEMENT_ACCOUNT) == 0
    ledger.check()


def test_a_lost_second_generate_ac_is_reversed_through_a_switch_outage() -> None:
    cut = Cut(ONLINE_APDUS - 1, TearPhase.AFTER_COMMIT)  # the card made its TC; the answer is lost
    switch, cards, chips = network(cut)
    acquirer = Acquirer("bank-acq", switch)
    pos = BankPos("POS-1", acquirer, seed=3)

    class DropsAfterAuthorisation:
        """The switch goes down right after the issuer approved: the reversal cannot go."""

        def authorise(self, request):  # type: ignore[no-untyped-def]
            answer = acquirer.authorise(request)
            switch.switch_down = True
            return answer

        confirm, reverse = acquirer.confirm, acquirer.reverse

    pos.authoriser = DropsAfterAuthorisation()
    with pytest.raises(TransactionTornError, match="reversed"):
        pos.purchase_online(cards["CCB"], 10_000, NOW)
    ccb = switch.issuers["CCB"]
    assert acquirer.advices == [("reverse", "6217000000000003", 1)] and len(ccb.holds) == 1
    assert world_money(switch, chips) == 5 * ACCOUNT_FEN
    switch.switch_down = False
    ledger = Ledger(open_database(":memory:"))
    clearing = clear_day(ledger, DAY, switch, [acquirer.close_file()], TARIFF, [acquirer])
    assert acquirer.advices == [] and ccb.holds == {} and ccb.accounts_fen["6217000000000003"] == ACCOUNT_FEN
    assert clearing.cleared == 0 and settle(ledger, clearing).instructions == ()


def test_an_issuer_down_at_night_is_cleared_the_next_day_once() -> None:
    switch, cards, chips = network()
    acquirer = Acquirer("bank-acq", switch)
    pos = BankPos("POS-1", acquirer, seed=3)
    for card in cards.values():
        acquirer.submit(pos.purchase_online(card, 10_000, NOW), "shop", "general")
    switch.down.add("BOC")
    ledger = Ledger(open_database(":memory:"))
    day1 = clear_day(ledger, DAY, switch, [acquirer.close_file()], TARIFF, [acquirer])
    assert day1.cleared == 4 and [c.record.pan[:6] for c in day1.carried] == ["621661"]
    s1 = settle(ledger, day1)
    assert "issuer:BOC" not in {i.party for i in s1.instructions}
    switch.down.clear()
    day2 = clear_day(ledger, DAY + 1, switch, [day1.carried, acquirer.close_file()], TARIFF, [acquirer])
    s2 = settle(ledger, day2)
    assert day2.cleared == 1 and {i.party: i.pay_fen for i in s2.instructions}["issuer:BOC"] == 10_000 - 70
    assert sum(i.cleared_fen for i in switch.issuers.values()) == 50_000
    assert world_money(switch, chips) == 5 * ACCOUNT_FEN
    ledger.check()


def test_a_bad_tariff_is_refused_naming_what() -> None:
    with pytest.raises(TariffError, match="catering discount 10001 bp"):
        Tariff(discount_bp={"catering": 10_001})
    with pytest.raises(TariffError, match="biller fee -1 fen"):
        Tariff(biller_fee_fen=-1)
    with pytest.raises(TariffError, match="share"):
        Tariff(shares={"a": Share("a", 100)})
    with pytest.raises(TariffError, match="merchant class 'casino' unknown"):
        TARIFF.fees(100, "casino", "x")
