"""qPBOC: the contactless quick path (the card decides at GPO), with fDDA, through the reader,
the acquirer, the switch and the issuer; a tear at every APDU boundary recovered with no fen
created, lost or doubled; a tampered card certificate refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from devices.bankcard_oda import OdaKeys
from devices.bankcard_os import BankCardOS
from devices.bankcard_state import personalise
from devices.card_os import TearPhase
from devices.sim_channel import SimChannel
from model.backoffice import Ledger, open_database
from model.bankcard import (
    Acquirer,
    IssuerHost,
    IssuerMasterKeys,
    OdaError,
    QpbocReader,
    Switch,
    clear_day,
    settle,
)
from model.errors import TransactionTornError
from tests.model.bankcard.kit import Cut
from tests.model.bankcard.oda_kit import ca_keys, oda_for

KEYS = IssuerMasterKeys.generate(31, "CCB")
PAN = "6217005555666677"
NOW = datetime(2013, 9, 2, 7, 45)
EC_FEN, ACCOUNT_FEN, FARE = 2_000, 80_000, 100


def world(cut: Cut | None = None, oda: bool = True) -> tuple[SimChannel, BankCardOS, IssuerHost, Acquirer]:
    state = personalise(KEYS, PAN, 0, "1111", ec_balance_fen=EC_FEN)
    chip = BankCardOS(state, tear_hook=cut, contactless=True, oda=oda_for(state) if oda else None)
    issuer = IssuerHost(KEYS)
    issuer.open_account(PAN, ACCOUNT_FEN)
    issuer.ec_float_fen = EC_FEN
    acquirer = Acquirer("bus-acq", Switch({"CCB": issuer}, {"621700": "CCB"}))
    return SimChannel(chip), chip, issuer, acquirer


def reader(acquirer: Acquirer) -> QpbocReader:
    return QpbocReader("BUS-0001", acquirer, seed=4, ca_keys=ca_keys())  # type: ignore[arg-type]


def test_an_offline_tap_with_fdda_clears_and_settles() -> None:
    card, chip, issuer, acquirer = world()
    record = reader(acquirer).purchase(card, FARE, NOW)
    assert (record.kind, record.amount_fen, record.atc) == ("ec-offline", FARE, 1)
    assert chip.state.ec_balance_fen == EC_FEN - FARE and issuer.accounts_fen[PAN] == ACCOUNT_FEN
    data = record.dol_data + record.aip + record.atc.to_bytes(2, "big") + record.iad[3:7]
    assert issuer.tc_verifies(PAN, 0, 1, record.cryptogram, data)
    acquirer.submit(record, "bus-line-3", "transport")
    ledger = Ledger(open_database(":memory:"))
    clearing = clear_day(ledger, 20130902, acquirer.switch, [acquirer.close_file()])
    assert clearing.cleared == 1 and issuer.ec_float_fen == EC_FEN - FARE == chip.state.ec_balance_fen
    pay = {i.party: i.pay_fen for i in settle(ledger, clearing).instructions}
    assert pay == {"issuer:CCB": FARE, "merchant:bus-line-3": -FARE}  # transport: no discount


def test_above_the_ec_balance_the_tap_goes_online_and_the_answer_is_final() -> None:
    card, chip, issuer, acquirer = world()
    record = reader(acquirer).purchase(card, EC_FEN + 1, NOW)
    assert record.kind == "online" and chip.state.ec_balance_fen == EC_FEN
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN - EC_FEN - 1 and issuer.purchases_due_fen == EC_FEN + 1
    assert issuer.holds == {}


def tap_apdus() -> int:
    cut = Cut()
    card, _, _, acquirer = world(cut)
    reader(acquirer).purchase(card, FARE, NOW)
    return cut.seen


TAP_APDUS = tap_apdus()


def test_a_tap_is_ppse_aid_record_atc_gpo_then_the_records() -> None:
    # SELECT PPSE, SELECT AID, READ RECORD 1, GET DATA 9F36, GPO, READ RECORD x2 + 3 certificates
    assert TAP_APDUS == 5 + 5


@pytest.mark.parametrize("phase", list(TearPhase))
@pytest.mark.parametrize("at", range(TAP_APDUS))
def test_a_torn_tap_is_paid_once_or_not_at_all(at: int, phase: TearPhase) -> None:
    cut = Cut()
    card, chip, issuer, acquirer = world(cut)
    r = reader(acquirer)
    r.purchase(card, FARE, NOW)  # one tap to learn the AIP (the reader's first of the day)
    spent_before = EC_FEN - chip.state.ec_balance_fen
    cut.seen, cut.at, cut.phase = 0, at, phase
    records = []
    try:
        records.append(r.purchase(card, FARE, NOW))
    except (TransactionTornError, OdaError):
        card.insert()
        got = r.recover(card)
        records += [got] if got is not None else []
    spent = EC_FEN - chip.state.ec_balance_fen - spent_before
    assert spent in (0, FARE) and r.pending == {}
    assert sum(x.amount_fen for x in records) == spent  # every fen the card gave is in a record, once
    for x in records:
        data = x.dol_data + x.aip + x.atc.to_bytes(2, "big") + x.iad[3:7]
        assert issuer.tc_verifies(PAN, 0, x.atc, x.cryptogram, data)
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN


def test_a_tampered_card_certificate_is_refused_with_no_record() -> None:
    card, chip, _, acquirer = world()
    assert chip.oda is not None
    c = chip.oda.certificates
    chip.oda = OdaKeys(
        replace(c, icc_certificate=c.icc_certificate[:50] + b"\x00" + c.icc_certificate[51:]), chip.oda.icc
    )
    with pytest.raises(OdaError, match="ICC certificate 9F46"):
        reader(acquirer).purchase(card, FARE, NOW)
    assert acquirer.close_file() == ()


def test_a_contact_terminal_on_the_same_card_is_not_qpboc() -> None:
    card, chip, issuer, _ = world(oda=False)
    chip.contactless = False
    from model.bankcard import BankPos

    record = BankPos("POS-1", issuer, seed=1).purchase_ec(card, FARE, NOW)
    assert record.kind == "ec-offline" and chip.state.ec_balance_fen == EC_FEN - FARE
