"""One shard's services back office: the ledger, the fund, the accounts, the lists, the desks.

The services post to their own in-memory ledger (the clearing house's SQLite ledger and its
tables, `model.backoffice`), opened per shard for the day: the day's card purse is cleared at
night by the clearing house as before, and nothing here moves purse money. The opening
positions are posted first, so the day's money can be checked against them at close:

- the medical fund receives a pool contribution and every insured citizen's personal account;
  a personal account is posted at the citizen's first visit of the day (`open_medical_account`),
  and until then it is its opening, a column (`MedicalOpenings`): a day's visits touch ~2% of
  the accounts, and the ledger's rows and index for every account took ~60 bytes each;
- funded citizen accounts receive yesterday's allowance, and voucher holders a voucher that
  expires at the end of the day.
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
class MedicalOpenings:
    """The personal medical accounts' opening balances by the shard's row, each posted to the
    fund's ledger (dated the day before, as every opening) the first time a visit needs it."""

    index: np.ndarray  # the rows' citizens
    fen: np.ndarray  # 0 for a citizen without an account
    posted: np.ndarray  # bool: in the ledger
    day: date  # the value day of the openings

    def unposted_fen(self) -> int:
        """What the accounts not yet in the ledger hold (untouched today: their openings)."""
        return int(self.fen[~self.posted].sum())


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
    medical: MedicalOpenings


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
    opening_fen = np.where(insured & (medical_fen > 0), medical_fen, 0)
    if opening_fen.max(initial=0) <= np.iinfo(np.int32).max:
        opening_fen = opening_fen.astype(np.int32)  # held all day: 4 bytes a citizen, not 8
    medical = MedicalOpenings(index, opening_fen, np.zeros(len(index), bool), day - timedelta(days=1))
    book = AccountBook(CitizenAccounts(ledger, _registry(services)))
    rows = np.flatnonzero(funded & (account_fen > 0))
    if len(rows):
        credits = tuple((citizen_id(int(index[r])), int(account_fen[r])) for r in rows)
        book.credit(PayerBatch("gov-hz", 1, "allowance", credits), day - timedelta(days=1))
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
        medical_accounts_fen=int(opening_fen.sum()),
        accounts_fen=sum(int(account_fen[r]) for r in rows),
        vouchers_fen=sum(fen for _, fen in vouchers) if a.voucher_fen > 0 else 0,
    )
    entitlements = Entitlements(status)
    return Backend(ledger, fund, keys, book, status, bikes, library, entitlements, openings, day, medical)


def open_medical_account(b: Backend, row: int) -> None:
    """Post the row's personal medical account to the fund's ledger, once, before its first use."""
    m = b.medical
    if m.posted[row]:
        return
    m.posted[row] = True
    fen = int(m.fen[row])
    if fen:
        b.fund.contribute(m.day, 0, [(citizen_id(int(m.index[row])), fen)])
