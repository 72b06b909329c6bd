"""Acquirer -> switch (BIN) -> five issuers, and the day's clearing on the back office ledger:
the discount split by merchant class, positions netting to zero, forged TCs held, each fen
accounted for at the issuers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from devices.bankcard_os import BankCardOS
from devices.bankcard_state import personalise
from devices.sim_channel import SimChannel
from model.backoffice import Ledger, open_database
from model.bankcard import (
    Acquirer,
    BankPos,
    EcLoadTerminal,
    IssuerHost,
    IssuerMasterKeys,
    NetworkError,
    Switch,
    clear_day,
    split_fee,
)
from model.bankcard.fees import DISCOUNT_BP

NOW = datetime(2013, 5, 9, 12, 0)
BANKS = {"ICBC": "622202", "ABC": "622848", "BOC": "621661", "CCB": "621700", "HSB": "622677"}


def network() -> tuple[Switch, dict[str, SimChannel], dict[str, IssuerHost]]:
    issuers, cards = {}, {}
    for n, (bank, bin_) in enumerate(BANKS.items()):
        keys = IssuerMasterKeys.generate(5, bank)
        issuers[bank] = IssuerHost(keys)
        pan = f"{bin_}00000000{n:02d}"
        issuers[bank].open_account(pan, 100_000)
        cards[bank] = SimChannel(BankCardOS(personalise(keys, pan, 0, "1234")))
    return Switch(issuers, {bin_: bank for bank, bin_ in BANKS.items()}), cards, issuers


def test_split_fee_rounds_to_the_acquirer_and_loses_nothing() -> None:
    assert split_fee(10_000, DISCOUNT_BP["general"]) == (70, 20, 10)
    assert split_fee(12_345, DISCOUNT_BP["catering"]) == (172, 50, 24)  # fee 246: 172 + 24, the acquirer 50
    assert split_fee(99_999, DISCOUNT_BP["utilities"]) == (0, 0, 0)
    for amount in range(0, 5_000, 37):
        assert sum(split_fee(amount, DISCOUNT_BP["general"])) == amount * 100 // 10_000


def test_a_day_through_acquirer_switch_and_five_issuers() -> None:
    switch, cards, issuers = network()
    before = {bank: issuer.total_fen() for bank, issuer in issuers.items()}
    acquirer = Acquirer("third-party", switch)
    pos = BankPos("CONV-0001", acquirer, seed=9)
    kiosk = EcLoadTerminal("EC-0001", acquirer, seed=9)
    for card in cards.values():
        kiosk.load(card, 2_000, NOW)
        acquirer.submit(pos.purchase_ec(card, 700, NOW), "shop-1", "supermarket")
        acquirer.submit(pos.purchase_online(card, 30_000, NOW), "hotel-2", "catering")
    ledger = Ledger(open_database(":memory:"))
    result = clear_day(ledger, 20130509, switch, [acquirer.close_file()])
    assert result.cleared == 10 and result.held == ()
    fee_ec, fee_online = (
        split_fee(700, DISCOUNT_BP["supermarket"]),
        split_fee(30_000, DISCOUNT_BP["catering"]),
    )
    assert result.positions_fen["position:switch"] == -5 * (fee_ec[2] + fee_online[2])
    assert result.positions_fen["position:acquirer:third-party"] == -5 * (fee_ec[1] + fee_online[1])
    assert result.positions_fen["position:merchant:hotel-2"] == -5 * (30_000 - 600)
    assert result.positions_fen["position:merchant:shop-1"] == -5 * (700 - 3)
    for bank, issuer in issuers.items():
        assert result.positions_fen[f"position:issuer:{bank}"] == 700 - fee_ec[0] + 30_000 - fee_online[0]
        assert issuer.total_fen() == before[bank] + 2_000 - 2_000  # the EC float replaced the debit
        assert issuer.ec_float_fen == 1_300 and issuer.purchases_due_fen == 0 and issuer.cleared_fen == 30_700
    assert sum(result.positions_fen.values()) == 0
    ledger.check()


def test_a_forged_tc_is_held_and_a_record_submits_once() -> None:
    switch, cards, _ = network()
    acquirer = Acquirer("bank-acq", switch)
    record = BankPos("POS-1", acquirer, seed=1).purchase_online(cards["BOC"], 5_000, NOW)
    acquirer.submit(record, "m", "general")
    with pytest.raises(NetworkError, match="submitted twice"):
        acquirer.submit(record, "m", "general")
    forged = replace(record, cryptogram=bytes(8))
    other = Acquirer("other", switch)
    other.submit(forged, "m", "general")
    ledger = Ledger(open_database(":memory:"))
    result = clear_day(ledger, 20130509, switch, [acquirer.close_file(), other.close_file()])
    assert result.cleared == 1 and [h.record for h in result.held] == [forged]


def test_an_issuer_outage_declines_before_any_money_moves() -> None:
    switch, cards, issuers = network()
    switch.down.add("CCB")
    with pytest.raises(NetworkError, match="issuer CCB is down"):
        BankPos("POS-1", Acquirer("a", switch), seed=1).purchase_online(cards["CCB"], 5_000, NOW)
    assert issuers["CCB"].holds == {} and issuers["CCB"].accounts_fen == {"6217000000000003": 100_000}
    with pytest.raises(NetworkError, match="no issuer for PAN 999999"):
        switch.bank_of("9999990000000000")
