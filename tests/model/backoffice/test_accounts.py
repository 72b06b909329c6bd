"""Bank-funded loads (圈存, two-phase), unloads (圈提) and the citizen online account."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from devices.card_os import CardOS, TearPhase
from devices.sim_channel import SimChannel
from model.backoffice.accounts import AccountError
from model.backoffice.bank import Bank, BankError, BankFunding
from model.backoffice.load_host import LoadHost
from model.backoffice.registry import Participant, Sector
from model.errors import LoadDeclinedError, TransactionTornError
from model.security.keys import IssuerKeys, IssuerKeyStore
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal
from tests.backoffice_kit import office
from tests.conftest import MOMENT

Maker = Callable[..., tuple[CardOS, SimChannel]]
KIOSK = bytes.fromhex("000000000902")


@pytest.fixture
def bank() -> Bank:
    bank = Bank("ICBC")
    bank.open_account("acct-1", 10_000)
    return bank


@pytest.fixture
def kiosk(bank: Bank, issuer_keys: IssuerKeys) -> LoadTerminal:
    funding = BankFunding(bank, lambda asn: "acct-1")
    return LoadTerminal(KIOSK, LoadHost(IssuerKeyStore(issuer_keys), funding))


def _tear(card: CardOS, ins: int, phase: TearPhase) -> None:
    def hook(raw: bytes, when: TearPhase) -> bool:
        if raw[1] == ins and when is phase:
            card.tear_hook = None
            return True
        return False

    card.tear_hook = hook


def test_bank_load_captures_only_after_the_card_committed(
    make_card: Maker, bank: Bank, kiosk: LoadTerminal
) -> None:
    card, channel = make_card(asn_int=1)
    kiosk.load(channel, 3_000, MOMENT)
    assert bank.balances_fen["acct-1"] == 7_000 and bank.holds == {}
    assert bank.captured_fen == card.state.ep_balance_fen == 3_000


def test_bank_load_refused_without_funds_touches_nothing(
    make_card: Maker, bank: Bank, kiosk: LoadTerminal
) -> None:
    card, channel = make_card(asn_int=1)
    with pytest.raises(LoadDeclinedError, match="insufficient funds in acct-1"):
        kiosk.load(channel, 20_000, MOMENT)
    assert bank.balances_fen["acct-1"] == 10_000 and bank.holds == {} and card.state.ep_balance_fen == 0


def test_torn_load_that_did_not_commit_releases_the_hold(
    make_card: Maker, bank: Bank, kiosk: LoadTerminal
) -> None:
    card, channel = make_card(asn_int=1)
    _tear(card, 0x52, TearPhase.BEFORE_COMMIT)
    with pytest.raises(TransactionTornError):
        kiosk.load(channel, 3_000, MOMENT)
    # The card's fate is unknown: the money is held, not taken.
    assert bank.balances_fen["acct-1"] == 10_000 and bank.available_fen("acct-1") == 7_000
    channel.insert()
    kiosk.recover(channel, MOMENT + timedelta(minutes=1))
    assert bank.holds == {} and bank.balances_fen["acct-1"] == 10_000 and card.state.ep_balance_fen == 0


def test_torn_load_that_committed_is_captured_on_recovery(
    make_card: Maker, bank: Bank, kiosk: LoadTerminal
) -> None:
    card, channel = make_card(asn_int=1)
    _tear(card, 0x52, TearPhase.AFTER_COMMIT)
    with pytest.raises(TransactionTornError):
        kiosk.load(channel, 3_000, MOMENT)
    assert card.state.ep_balance_fen == 3_000 and bank.balances_fen["acct-1"] == 10_000
    channel.insert()
    kiosk.recover(channel, MOMENT + timedelta(minutes=1))
    assert bank.holds == {} and bank.balances_fen["acct-1"] == 7_000 and bank.captured_fen == 3_000


def test_unload_credits_the_account_once_per_proven_debit(
    make_card: Maker, bank: Bank, kiosk: LoadTerminal, purchase_terminal: PurchaseTerminal
) -> None:
    _, channel = make_card(asn_int=1)
    load = kiosk.load(channel, 3_000, MOMENT)
    unload = purchase_terminal.purchase(channel, 1_000, MOMENT + timedelta(minutes=1))
    bank.credit_unload("acct-1", unload)
    assert bank.balances_fen["acct-1"] == 8_000 and bank.unloads_fen == 1_000
    with pytest.raises(BankError, match="credited already"):
        bank.credit_unload("acct-1", unload)
    with pytest.raises(BankError, match="proven purchase"):
        bank.credit_unload("acct-1", load)
    with pytest.raises(BankError, match="unknown account"):
        bank.credit_unload("acct-9", unload)


def test_online_account_pays_merchants_who_are_settled_t_plus_one(
    issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    back.clearing.registry.participants["shop"] = Participant("shop", "Shop", Sector.RETAIL, "ABC")
    accounts = back.accounts
    day = MOMENT.date()
    accounts.pay_in("citizen-1", 5_000, "subsidy", day)
    accounts.pay("citizen-1", "shop", 1_200, day)
    assert accounts.balance_fen("citizen-1") == 3_800
    with pytest.raises(AccountError, match="3800 fen in the account"):
        accounts.pay("citizen-1", "shop", 4_000, day)
    with pytest.raises(AccountError, match="not a registered merchant"):
        accounts.pay("citizen-1", "window", 100, day)
    with pytest.raises(AccountError, match="source 'gift'"):
        accounts.pay_in("citizen-1", 100, "gift", day)
    with pytest.raises(AccountError, match="amount 0"):
        accounts.pay_in("citizen-1", 0, "voucher", day)
    report = back.settlement.run(day + timedelta(days=1))
    [line] = report.lines
    fee = (1_200 * 60 + 5_000) // 10_000 + 1  # retail: 60 bp + 1 fen per payment
    assert (line.participant, line.gross_fen, line.fee_fen, line.position_fen) == (
        "shop",
        1_200,
        fee,
        1_200 - fee,
    )
    assert back.ledger.balance("payable:shop") == 0
    back.ledger.check()
