"""One shard's services back office: the ledger, the fund, the accounts, the lists, the desks.

The services post to their own in-memory ledger (the clearing house's SQLite ledger and its
tables, `model.backoffice`), opened per shard for the day: the day's card purse is cleared at
night by the clearing house as before, and nothing here moves purse money. The opening
positions are posted first, so the day's money can be checked against them at close:

- the medical fund receives a pool contribution and every insured citizen's personal account;
- funded citizen accounts hold yesterday's allowance, and voucher holders receive a voucher
  that expires at the end of the day (a payer's batch).

A citizen's personal medical account and allowance are posted (dated the day before, as every
opening) when the day first uses them (`open_medical_account`, `open_citizen_account`); until
then each is its opening in a column (`Unposted`), and the close's checks count the columns as
such. A day's visits touch ~2% of the medical accounts and its payments ~15% of the citizen
accounts, and the ledger's rows and index took ~60 bytes an account, ~200 a credit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from model.backoffice import CitizenAccounts, Ledger, Participant, Registry, Sector, open_database
from model.backoffice.clearing_schema import ensure_schema
from model.services import AccountBook, Entitlements, Listed, LoanDesk, MedicalFund, PayerBatch, StatusList
from scenarios.services_schema import Services
from sim.city import institution_participant

LIBRARY_DEADLINE_S = 30 * 86_400.0  # ASSUMPTION: a book is due in 30 days (never within one day)
LIBRARY_LOANS_PER_CARD_MAX_DEFAULT = 5
POOL_HEADROOM = 4  # the pool opens with four times the day's expected fund share: it never runs dry


def citizen_id(index: int) -> str:
    return f"c{index}"


def institution_id(number: int) -> str:
    """The institution's name in the fund, the same as its clearing participant's."""
    return institution_participant(number)


def merchant_id(number: int) -> str:
    return f"acct-shop-{number}"


@dataclass(slots=True)
class Openings:
    """What the back office held at the start of the day, for the close's invariants."""

    pool_fen: int
    medical_accounts_fen: int
    accounts_fen: int
    vouchers_fen: int


@dataclass(slots=True)
class Unposted:
    """Opening balances by the shard's row not yet in the ledger: each is posted the first time
    the day needs it (`take`), and its row then reads 0."""

    fen: np.ndarray

    @staticmethod
    def of(fen: np.ndarray) -> Unposted:
        """The openings `fen` (int64), held in 4 bytes a citizen when they fit."""
        if fen.max(initial=0) <= np.iinfo(np.int32).max:
            fen = fen.astype(np.int32)
        return Unposted(fen)

    def take(self, row: int) -> int:
        """The row's opening to post now: its balance the first time, then 0."""
        fen = int(self.fen[row])
        self.fen[row] = 0
        return fen

    def unposted_fen(self) -> int:
        """What the openings not yet in the ledger hold (untouched today: as they opened)."""
        return int(self.fen.sum())


@dataclass(slots=True)
class Backend:
    ledger: Ledger
    fund: MedicalFund
    claim_keys: dict[str, bytes]
    book: AccountBook
    status: StatusList
    bikes: LoanDesk
    library: LoanDesk
    entitlements: Entitlements
    openings: Openings
    day: date
    index: np.ndarray  # the rows' citizens
    medical: Unposted  # personal medical accounts
    allowance: Unposted  # citizen accounts' opening balances


def _registry(services: Services) -> Registry:
    """Institutions take own payments from the account like public-service merchants
    (ASSUMPTION: the utilities fee class); online acceptors are retail."""
    bank = "ICBC"  # ASSUMPTION: the services settle through the operator's first bank
    out = [
        Participant(institution_id(i), f"Medical institution {i}", Sector.UTILITIES, bank)
        for i in range(services.medical.institutions)
    ]
    out += [
        Participant(merchant_id(m), f"Online acceptor {m}", Sector.RETAIL, bank)
        for m in range(services.account.merchants)
    ]
    return Registry(out, [])


def open_backend(
    services: Services, seed: int, day: date, index: np.ndarray, insured: np.ndarray, funded: np.ndarray,
    voucher: np.ndarray, medical_fen: np.ndarray, account_fen: np.ndarray, expected_fund_fen: int,
) -> Backend:  # fmt: skip
    """Open the shard's back office with its citizens' opening positions (rows of `index`)."""
    ledger = Ledger(open_database(":memory:"))
    ensure_schema(ledger.db, "services ledger")
    master = hashlib.sha256(b"cardtwin medical fund master %d" % seed).digest()
    fund = MedicalFund(ledger, master, services.medical.fund_share_bp)
    keys = {
        institution_id(i): fund.add_institution(institution_id(i))
        for i in range(services.medical.institutions)
    }
    pool = max(1, POOL_HEADROOM * expected_fund_fen)
    fund.contribute(day - timedelta(days=1), pool, ())
    medical = Unposted.of(np.where(insured & (medical_fen > 0), medical_fen, 0))
    medical_accounts_fen = int(medical.fen.sum())
    book = AccountBook(CitizenAccounts(ledger, _registry(services)))
    allowance = Unposted.of(np.where(funded & (account_fen > 0), account_fen, 0))
    accounts_fen = int(allowance.fen.sum())
    a = services.account
    vouchers = tuple((citizen_id(int(index[r])), a.voucher_fen) for r in np.flatnonzero(funded & voucher))
    if vouchers and a.voucher_fen > 0:
        book.credit(PayerBatch("gov-hz", 2, "voucher", vouchers, expires=day), day - timedelta(days=1))
    status = StatusList()
    i = services.identity
    online = i.bike_credit_check == "online"
    bikes = LoanDesk("bikes", Listed.BIKE_NOT_RETURNED, 1, i.bike_deadline_s, status, online=online)
    bikes.refresh_copy()
    library = LoanDesk(
        "library", Listed.BOOK_OVERDUE, i.library_loans_per_card_max, LIBRARY_DEADLINE_S, status
    )
    openings = Openings(
        pool_fen=pool,
        medical_accounts_fen=medical_accounts_fen,
        accounts_fen=accounts_fen,
        vouchers_fen=sum(fen for _, fen in vouchers) if a.voucher_fen > 0 else 0,
    )
    entitlements = Entitlements(status)
    return Backend(
        ledger,
        fund,
        keys,
        book,
        status,
        bikes,
        library,
        entitlements,
        openings,
        day,
        index,
        medical,
        allowance,
    )


def open_medical_account(b: Backend, row: int) -> None:
    """Post the row's personal medical account to the fund, once, before its first use."""
    fen = b.medical.take(row)
    if fen:
        b.fund.contribute(b.day - timedelta(days=1), 0, [(citizen_id(int(b.index[row])), fen)])


def open_citizen_account(b: Backend, row: int) -> None:
    """Post the row's citizen account opening (yesterday's allowance), once, before its first use."""
    fen = b.allowance.take(row)
    if fen:
        b.book.accounts.pay_in(citizen_id(int(b.index[row])), fen, "allowance", b.day - timedelta(days=1))
