"""A utility bill paid at a convenience terminal through the third-party acquirer, the switch and
the issuer, cleared to the biller; a tear at every APDU boundary leaves the bill due and no fen
moved."""

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
    Biller,
    BillError,
    ConvenienceTerminal,
    IssuerHost,
    IssuerMasterKeys,
    Switch,
    clear_day,
)
from model.errors import TransactionTornError
from tests.model.bankcard.kit import Cut

KEYS = IssuerMasterKeys.generate(4, "HSB")
PAN = "6226770000000042"
NOW = datetime(2013, 6, 1, 10, 0)
BILL_FEN = 8_765
ACCOUNT_FEN = 50_000


def world(cut: Cut | None = None) -> tuple[SimChannel, IssuerHost, Acquirer, Switch, Biller]:
    issuer = IssuerHost(KEYS)
    issuer.open_account(PAN, ACCOUNT_FEN)
    switch = Switch({"HSB": issuer}, {"622677": "HSB"})
    acquirer = Acquirer("third-party", switch)
    water = Biller("water")
    water.issue("W-1001", BILL_FEN)
    card = SimChannel(BankCardOS(personalise(KEYS, PAN, 0), tear_hook=cut))
    return card, issuer, acquirer, switch, water


def test_a_bill_paid_and_cleared_to_the_biller() -> None:
    card, issuer, acquirer, switch, water = world()
    record = ConvenienceTerminal("CONV-0042", acquirer, seed=5).pay_bill(card, water, "W-1001", NOW)
    assert record.amount_fen == BILL_FEN and water.bills["W-1001"].paid_by == (PAN, record.atc)
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN - BILL_FEN
    with pytest.raises(BillError, match="already paid"):
        ConvenienceTerminal("CONV-0042", acquirer, seed=5).pay_bill(card, water, "W-1001", NOW)
    with pytest.raises(BillError, match="no bill for account 'W-9'"):
        water.look_up("W-9")
    result = clear_day(Ledger(open_database(":memory:")), 20130601, switch, [acquirer.close_file()])
    assert result.cleared == 1
    assert result.positions_fen == {"position:issuer:HSB": BILL_FEN, "position:biller:water": -BILL_FEN}
    assert issuer.cleared_fen == BILL_FEN and issuer.purchases_due_fen == 0


def bill_apdus() -> int:
    cut = Cut()
    card, _, acquirer, _, water = world(cut)
    ConvenienceTerminal("CONV-0042", acquirer, seed=5).pay_bill(card, water, "W-1001", NOW)
    return cut.seen


BILL_APDUS = bill_apdus()


@pytest.mark.parametrize("phase", list(TearPhase))
@pytest.mark.parametrize("at", range(BILL_APDUS))
def test_a_torn_bill_payment_leaves_the_bill_due(at: int, phase: TearPhase) -> None:
    card, issuer, acquirer, _, water = world(Cut(at, phase))
    with pytest.raises(TransactionTornError):
        ConvenienceTerminal("CONV-0042", acquirer, seed=5).pay_bill(card, water, "W-1001", NOW)
    assert water.look_up("W-1001") == BILL_FEN and water.paid_fen() == 0
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN and issuer.holds == {} and acquirer.close_file() == ()
    card.insert()  # paid on the second try, once
    ConvenienceTerminal("CONV-0042", acquirer, seed=6).pay_bill(card, water, "W-1001", NOW)
    assert water.paid_fen() == BILL_FEN and issuer.accounts_fen[PAN] == ACCOUNT_FEN - BILL_FEN
