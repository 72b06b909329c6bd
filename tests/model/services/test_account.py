"""The citizen account in use: payer batches once, vouchers first, expired vouchers never spent."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from model.backoffice import CitizenAccounts, Ledger, Participant, Registry, Sector, open_database
from model.backoffice.accounts import AccountError
from model.backoffice.clearing_schema import ensure_schema
from model.services import AccountBook, PayerBatch

DAY = date(2009, 3, 2)


@pytest.fixture()
def book() -> AccountBook:
    ledger = Ledger(open_database(":memory:"))
    ensure_schema(ledger.db, "test")
    registry = Registry([Participant("mall", "Mall", Sector.RETAIL, "ICBC")], [])
    return AccountBook(CitizenAccounts(ledger, registry))


def test_a_batch_credits_once_and_a_replay_is_refused(book: AccountBook) -> None:
    batch = PayerBatch("gov", 1, "allowance", (("c1", 60_000), ("c2", 30_000)))
    assert book.credit(batch, DAY) == 90_000
    before = book.ledger.balances()
    with pytest.raises(AccountError, match="already applied"):
        book.credit(batch, DAY)
    assert book.ledger.balances() == before
    assert book.accounts.balance_fen("c1") == 60_000 and book.ledger.balance("reserve") == 90_000


def test_vouchers_are_spent_first_and_expire_back_to_the_payer(book: AccountBook) -> None:
    book.credit(PayerBatch("gov", 1, "allowance", (("c1", 1_000),)), DAY)
    book.credit(PayerBatch("gov", 2, "voucher", (("c1", 5_000),), expires=DAY), DAY)
    book.spend("c1", "mall", 4_000, DAY)  # from the voucher: 1,000 of it left, the 1,000 allowance intact
    assert book.accounts.balance_fen("c1") == 2_000
    next_day = DAY + timedelta(days=1)
    assert book.spendable_fen("c1", next_day) == 1_000  # the voucher's rest is not spendable any more
    assert book.expire(next_day) == 1_000
    assert book.ledger.balance("payback:gov") == -1_000
    assert book.accounts.balance_fen("c1") == 1_000
    assert book.expire(next_day) == 0  # swept once
    book.ledger.check()


def test_an_expired_voucher_cannot_be_spent_before_or_after_the_sweep(book: AccountBook) -> None:
    book.credit(PayerBatch("gov", 2, "voucher", (("c1", 5_000),), expires=DAY), DAY)
    later = DAY + timedelta(days=1)
    before = book.ledger.balances()
    with pytest.raises(AccountError, match="5000 fen of expired vouchers"):
        book.spend("c1", "mall", 100, later)  # the sweep has not run yet
    assert book.ledger.balances() == before
    book.expire(later)
    with pytest.raises(AccountError, match="0 fen spendable"):
        book.spend("c1", "mall", 100, later)


@pytest.mark.parametrize(
    ("batch", "match"),
    [
        (PayerBatch("gov", 1, "voucher", (("c1", 100),)), "expiry"),
        (PayerBatch("gov", 1, "allowance", (("c1", 100),), expires=DAY), "expiry"),
        (
            PayerBatch("gov", 1, "voucher", (("c1", 100),), expires=DAY - timedelta(days=1)),
            "before they are given",
        ),
        (PayerBatch("g:v", 1, "allowance", (("c1", 100),)), "payer"),
        (PayerBatch("gov", 1, "allowance", ()), "credits"),
        (PayerBatch("gov", 1, "bribe", (("c1", 100),)), "source"),
        (PayerBatch("gov", 1, "allowance", (("c1", -100),)), "amount"),
    ],
)
def test_bad_batches_are_refused(book: AccountBook, batch: PayerBatch, match: str) -> None:
    with pytest.raises(AccountError, match=match):
        book.credit(batch, DAY)
    assert book.accounts.balance_fen("c1") == 0


def test_payments_beyond_the_balance_or_to_strangers_are_refused(book: AccountBook) -> None:
    book.credit(PayerBatch("gov", 1, "allowance", (("c1", 1_000),)), DAY)
    with pytest.raises(AccountError, match="1000 fen spendable"):
        book.spend("c1", "mall", 1_001, DAY)
    with pytest.raises(AccountError, match="not a registered merchant"):
        book.spend("c1", "nowhere", 10, DAY)
    assert book.accounts.balance_fen("c1") == 1_000
