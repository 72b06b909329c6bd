"""One visit at the counter on a real simulated card: the own part by e-purse (a real PBOC
purchase through a PSAM), by citizen account, or in cash when either is short."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.backoffice import CitizenAccounts, Ledger, LoadHost, Participant, Registry, Sector, open_database
from model.backoffice.clearing_schema import ensure_schema
from model.card import get_balance, open_epurse
from model.security import IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.services import AccountBook, IdentityError, MedicalCashier, MedicalFund, OwnPayment, PayerBatch
from model.terminal import LoadTerminal, PurchaseTerminal

KEYS = generate_issuer_keys(seed=1, issuer_id=bytes.fromhex("3301000000000001"))
NOW = datetime(2009, 3, 2, 9, 30)


def _card(blocked: bool = False) -> SimChannel:
    profile = CardProfile(
        asn=bytes.fromhex("3301200900000007"), start=date(2008, 1, 1), expiry=date(2018, 1, 1)
    )
    state = CardFactory(KEYS).personalise(profile)
    state.blocked = blocked
    card = SimChannel(CardOS(state))
    if not blocked:
        LoadTerminal(bytes.fromhex("330100000901"), LoadHost(IssuerKeyStore(KEYS))).load(card, 5_000, NOW)
    return card


@pytest.fixture()
def cashier() -> MedicalCashier:
    ledger = Ledger(open_database(":memory:"))
    ensure_schema(ledger.db, "test")
    fund = MedicalFund(ledger, bytes(32), 7000)
    fund.add_institution("hosp-1")
    fund.contribute(NOW.date(), 10_000_000, [("c1", 1_000)])
    book = AccountBook(
        CitizenAccounts(ledger, Registry([Participant("hosp-1", "H", Sector.UTILITIES, "ICBC")], []))
    )
    book.credit(PayerBatch("gov", 1, "allowance", (("c1", 2_000),)), NOW.date())
    psam = Psam(
        bytes.fromhex("330107000001"),
        IssuerKeyStore(KEYS, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE})),
    )
    return MedicalCashier("hosp-1", fund, book, PurchaseTerminal(SimChannel(psam)))


def test_the_own_part_by_purse_is_a_real_purchase_of_exactly_that_amount(cashier: MedicalCashier) -> None:
    card = _card()
    receipt = cashier.visit(card, "c1", 1, 11_000, NOW, OwnPayment.PURSE)
    # 1,000 from the medical account, 7,000 of the 10,000 left from the fund, 3,000 own.
    assert (receipt.split.medical_account_fen, receipt.split.fund_fen, receipt.split.own_fen) == (
        1_000,
        7_000,
        3_000,
    )
    assert receipt.paid_by is OwnPayment.PURSE and receipt.record is not None
    assert receipt.record.amount_fen == 3_000 and len(receipt.record.tac) == 4
    open_epurse(card)
    assert get_balance(card) == 5_000 - 3_000
    assert cashier.fund.ledger.balance("meddue:hosp-1") == -8_000


def test_a_purse_too_short_leaves_the_visit_settled_and_the_own_part_in_cash(cashier: MedicalCashier) -> None:
    card = _card()
    receipt = cashier.visit(card, "c1", 1, 40_000, NOW, OwnPayment.PURSE)
    assert receipt.paid_by is OwnPayment.CASH and receipt.split.own_fen > 5_000
    open_epurse(card)
    assert get_balance(card) == 5_000  # nothing taken from the card
    assert cashier.fund.totals()["visits"] == 1


def test_the_own_part_by_citizen_account(cashier: MedicalCashier) -> None:
    receipt = cashier.visit(_card(), "c1", 1, 5_000, NOW, OwnPayment.ACCOUNT)
    assert receipt.paid_by is OwnPayment.ACCOUNT and receipt.split.own_fen == 1_200
    assert cashier.book is not None and cashier.book.accounts.balance_fen("c1") == 2_000 - 1_200


def test_a_blocked_card_settles_nothing(cashier: MedicalCashier) -> None:
    before = cashier.fund.ledger.balances()
    with pytest.raises(IdentityError, match="blocked"):
        cashier.visit(_card(blocked=True), "c1", 1, 5_000, NOW, OwnPayment.PURSE)
    assert cashier.fund.ledger.balances() == before and cashier.fund.totals()["visits"] == 0
