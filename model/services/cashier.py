"""A medical institution's cashier: the card read, the fund's split, the own payment taken.

One visit at the counter, in the order the seed's settlement implies: the card identifies the
insured (`read_identity`, real APDUs), the fund splits the cost and owes the insured part to the
institution (`MedicalFund.settle_visit`), and the citizen pays the own part by one of three
means: the e-purse (a real PBOC purchase through the cashier's `PurchaseTerminal` and PSAM, a
record the clearing house clears like any merchant's), the citizen account (an online payment
to the institution, `AccountBook.spend`) or cash (outside the card system). A refused own
payment (purse short, account short) leaves the visit settled and the own part due in cash:
the fund's side never depends on how the citizen pays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from model.backoffice.accounts import AccountError
from model.card import CardChannel
from model.errors import InsufficientBalanceError
from model.records import TransactionRecord
from model.services.account import AccountBook
from model.services.identity import read_identity
from model.services.medical import MedicalFund, VisitSplit
from model.terminal import PurchaseTerminal


class OwnPayment(Enum):
    PURSE = "purse"
    ACCOUNT = "account"
    CASH = "cash"


@dataclass(frozen=True, slots=True)
class CashierReceipt:
    split: VisitSplit
    paid_by: OwnPayment
    record: TransactionRecord | None  # the purse purchase's record (with its TAC), if by purse


@dataclass(slots=True)
class MedicalCashier:
    institution: str
    fund: MedicalFund
    book: AccountBook | None = None
    terminal: PurchaseTerminal | None = None

    def visit(
        self,
        card: CardChannel,
        citizen: str,
        visit_id: int,
        cost_fen: int,
        moment: datetime,
        want: OwnPayment,
    ) -> CashierReceipt:
        info = read_identity(card, moment.date())  # refused cards raise IdentityError: nothing settled
        split = self.fund.settle_visit(self.institution, visit_id, citizen, cost_fen, moment.date())
        if split.own_fen == 0:
            return CashierReceipt(split, OwnPayment.CASH, None)
        if want is OwnPayment.PURSE and self.terminal is not None:
            try:
                record = self.terminal.purchase(card, split.own_fen, moment)
            except InsufficientBalanceError:
                return CashierReceipt(split, OwnPayment.CASH, None)
            assert record.asn == info.asn and record.amount_fen == split.own_fen
            return CashierReceipt(split, OwnPayment.PURSE, record)
        if want is OwnPayment.ACCOUNT and self.book is not None:
            try:
                self.book.spend(citizen, self.institution, split.own_fen, moment.date())
            except AccountError:
                return CashierReceipt(split, OwnPayment.CASH, None)
            return CashierReceipt(split, OwnPayment.ACCOUNT, None)
        return CashierReceipt(split, OwnPayment.CASH, None)
