"""Utility bills (便民缴费) at the convenience terminals: look the bill up at the biller, pay it by
bank card online through the acquirer, confirm it to the biller, clear it to the biller.

A `Biller` (water, electricity, gas, telecom, cable TV) keeps the bills due by account number.
`ConvenienceTerminal.pay_bill` is an online purchase of exactly the amount due (the terminal
never lets the cardholder type it), then the biller marks the bill paid with the record's PAN
and ATC, and the record goes into the acquirer's clearing file with the biller as the merchant
(merchant class `utilities`, discount 0: ASSUMPTION, see `fees.DISCOUNT_BP`). A torn
purchase is reversed by the POS (`terminals.BankPos`), so the bill stays due and nothing is owed;
a bill is paid once: a second payment is refused before the card is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from model.bankcard.network import Acquirer
from model.bankcard.terminals import BankPos, BankRecord
from model.card import CardChannel
from model.errors import CardTwinError

BILLS_MAX = 1_000_000
UTILITIES = "utilities"


class BillError(CardTwinError):
    """An unknown account, a bill already paid, a biller full."""


@dataclass(slots=True)
class Bill:
    account: str
    amount_fen: int
    paid_by: tuple[str, int] | None = None  # (PAN, ATC) of the payment


class Biller:
    """One utility company: its bills by account number, and what it was paid."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bills: dict[str, Bill] = {}

    def issue(self, account: str, amount_fen: int) -> None:
        if amount_fen <= 0 or account in self.bills or len(self.bills) >= BILLS_MAX:
            raise BillError(f"biller {self.name}: bill {account!r} of {amount_fen} fen refused")
        self.bills[account] = Bill(account, amount_fen)

    def look_up(self, account: str) -> int:
        """The amount due on `account` (fen); a paid or unknown bill is a BillError."""
        bill = self.bills.get(account)
        if bill is None:
            raise BillError(f"biller {self.name}: no bill for account {account!r}")
        if bill.paid_by is not None:
            raise BillError(f"biller {self.name}: account {account!r} already paid by {bill.paid_by[0]}")
        return bill.amount_fen

    def confirm(self, account: str, record: BankRecord) -> None:
        bill = self.bills[account]
        assert bill.paid_by is None and record.amount_fen == bill.amount_fen, "paid once, in full"
        bill.paid_by = (record.pan, record.atc)

    def paid_fen(self) -> int:
        return sum(bill.amount_fen for bill in self.bills.values() if bill.paid_by is not None)


class ConvenienceTerminal:
    """A convenience payment terminal of the third-party acquirer: a bank POS with bill lookup."""

    def __init__(self, terminal_id: str, acquirer: Acquirer, seed: int) -> None:
        self.acquirer = acquirer
        self.pos = BankPos(terminal_id, acquirer, seed)

    def pay_bill(
        self, card: CardChannel, biller: Biller, account: str, now: datetime, pin_block: bytes = b""
    ) -> BankRecord:
        amount_fen = biller.look_up(account)
        record = self.pos.purchase_online(card, amount_fen, now, pin_block)
        biller.confirm(account, record)
        self.acquirer.submit(record, biller.name, UTILITIES)
        return record
