"""Medical-insurance settlement with the citizen card (医保结算), on the double-entry ledger.

Hangzhou made the citizen card the credential of basic medical insurance from 2007-01-01
(seed 003): the hospital or pharmacy reads the card, the insurance system splits the visit's
cost at once, and the institution later claims the insured part from the fund.

The split (ASSUMPTION, a simplified outpatient rule; the seeds give no rule): the citizen's
personal medical account (个人账户) pays first, up to its balance; of the rest the pooled fund
pays `fund_share_bp` (rounded down to the fen) and the citizen pays the remainder ("own
payment", 自负), from the citizen account, the e-purse or in cash, outside this module.

Accounts (names `kind` or `kind:owner`, as `model.backoffice.ledger` lists them):

    medfund               the fund's money at its bank (asset; debit balance)
    medpool               the pooled fund's contributions not yet spent (credit balance)
    medacct:<citizen>     a citizen's personal medical account (liability; credit balance)
    meddue:<institution>  owed by the fund to an institution for settled visits (liability)

    contribution          Dr medfund            Cr medpool | medacct:<c>
    visit                 Dr medacct:<c> (A), Dr medpool (F)   Cr meddue:<inst> (A + F)
    claim paid            Dr meddue:<inst>      Cr medfund

A claim is a list of the institution's visits, MACed (HMAC-SHA256) with the institution's own
key; the fund pays a claim once, only for visits it settled itself, for exactly the insured part
it computed. A forged, replayed or inflated claim is refused whole, and nothing is posted.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from model.backoffice import Ledger
from model.backoffice.terms import day_int
from model.errors import CardTwinError

VISIT_FEN_MAX = 100_000_000  # CNY 1 million: beyond any single visit
# A day's contribution to the pool is the whole city's (a full-scale Hangzhou day is ~CNY 18M),
# so it cannot share the visit's limit; CNY 100 billion is beyond any city's yearly fund.
CONTRIBUTION_FEN_MAX = 10_000_000_000_000
# A posting's lines are Python tuples while SQLite takes them: small postings keep that peak
# small, and with it the allocator's pools the tuples leave behind (a single 7,000-line posting
# left ~3 MB resident after it was freed; 256-line postings leave ~0.1 MB).
CONTRIBUTION_LINES_PER_POSTING = 256
BP_ONE = 10_000
CLAIM_VISITS_MAX = 100_000
ID_MAX = 40
MAC_BYTES = 32

_SCHEMA = """
CREATE TABLE IF NOT EXISTS med_visits (
    institution TEXT NOT NULL,
    visit_id INTEGER NOT NULL,
    citizen TEXT NOT NULL,
    insured_fen INTEGER NOT NULL,       -- fund + medical account: what a claim may ask
    claim_id INTEGER,                   -- the claim that paid it; NULL until claimed
    PRIMARY KEY (institution, visit_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS med_claims (
    institution TEXT NOT NULL,
    claim_id INTEGER NOT NULL,
    amount_fen INTEGER NOT NULL,
    posting_id INTEGER NOT NULL,
    PRIMARY KEY (institution, claim_id)
) WITHOUT ROWID;
"""


class MedicalError(CardTwinError):
    """A visit the fund cannot settle (bad amount, unknown citizen, pool exhausted)."""


class ClaimError(MedicalError):
    """A claim refused: forged, replayed, for visits not settled or not the institution's."""


@dataclass(frozen=True, slots=True)
class VisitSplit:
    """One visit's cost: fund + medical account + own payment = cost, each >= 0."""

    cost_fen: int
    fund_fen: int
    medical_account_fen: int
    own_fen: int

    @property
    def insured_fen(self) -> int:
        return self.fund_fen + self.medical_account_fen


def _check_id(text: str, what: str) -> str:
    if not text or len(text) > ID_MAX or ":" in text:
        raise MedicalError(f"{what} {text!r}: 1..{ID_MAX} chars, no ':'")
    return text


def _check_fen(amount_fen: int, what: str, fen_max: int = VISIT_FEN_MAX) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or not 0 < amount_fen <= fen_max:
        raise MedicalError(f"{what}: {amount_fen!r} fen must be 1..{fen_max}")
    return amount_fen


def split_visit(cost_fen: int, medical_account_fen: int, fund_share_bp: int) -> VisitSplit:
    """The personal account first, then the fund's share of the rest; the citizen pays the rest."""
    _check_fen(cost_fen, "visit cost")
    if not 0 <= fund_share_bp <= BP_ONE:
        raise MedicalError(f"fund share {fund_share_bp} bp: must be 0..{BP_ONE}")
    account = min(max(0, medical_account_fen), cost_fen)
    fund = (cost_fen - account) * fund_share_bp // BP_ONE
    split = VisitSplit(cost_fen, fund, account, cost_fen - account - fund)
    assert split.fund_fen + split.medical_account_fen + split.own_fen == cost_fen and split.own_fen >= 0
    return split


@dataclass(frozen=True, slots=True)
class Claim:
    """An institution's request to be paid for its settled visits: (visit id, insured fen)."""

    institution: str
    claim_id: int
    day: date
    visits: tuple[tuple[int, int], ...]
    mac: bytes

    @property
    def amount_fen(self) -> int:
        return sum(fen for _, fen in self.visits)

    def signed_bytes(self) -> bytes:
        """What the MAC covers: every field but the MAC, in a fixed binary layout."""
        head = self.institution.encode() + b"\x00" + struct.pack(">QI", self.claim_id, day_int(self.day))
        return head + b"".join(struct.pack(">Qq", v, fen) for v, fen in self.visits)


def institution_key(master: bytes, institution: str) -> bytes:
    """An institution's claim key, derived from the fund's master key by its id."""
    return hmac.new(master, b"claim-key:" + institution.encode(), hashlib.sha256).digest()


def sign_claim(
    key: bytes, institution: str, claim_id: int, day: date, visits: list[tuple[int, int]]
) -> Claim:
    unsigned = Claim(institution, claim_id, day, tuple(visits), b"")
    return Claim(institution, claim_id, day, tuple(visits), _mac(key, unsigned))


def _mac(key: bytes, claim: Claim) -> bytes:
    return hmac.new(key, claim.signed_bytes(), hashlib.sha256).digest()


class MedicalFund:
    """The insurance fund's side: contributions, visits split at the card read, claims, payments."""

    def __init__(self, ledger: Ledger, master_key: bytes, fund_share_bp: int) -> None:
        if len(master_key) < 16:
            raise MedicalError("medical fund: master key of at least 16 bytes")
        self.ledger = ledger
        self._master = master_key
        self.fund_share_bp = fund_share_bp
        self.institutions: set[str] = set()
        ledger.db.executescript(_SCHEMA)

    def add_institution(self, institution: str) -> bytes:
        """Register a hospital or pharmacy; returns its claim key (given to it once)."""
        self.institutions.add(_check_id(institution, "institution"))
        return institution_key(self._master, institution)

    def contribute(self, day: date, pool_fen: int, accounts: Iterable[tuple[str, int]]) -> int:
        """Money arrives in the fund: to the pool and to personal medical accounts. A city's
        accounts outnumber one posting's entries, so they go in balanced postings of at most
        `CONTRIBUTION_LINES_PER_POSTING` lines, all in one transaction (all or none); returns
        the first posting's id. `accounts` is taken a posting at a time (a generator need not
        hold the city's accounts at once)."""
        lines: Iterator[tuple[str, int]] = (
            (f"medacct:{_check_id(c, 'citizen')}", -_check_fen(fen, f"account of {c}")) for c, fen in accounts
        )
        if pool_fen:
            pool = ("medpool", -_check_fen(pool_fen, "pool contribution", CONTRIBUTION_FEN_MAX))
            lines = itertools.chain((pool,), lines)
        ids: list[int] = []
        with self.ledger.transaction():
            while part := list(itertools.islice(lines, CONTRIBUTION_LINES_PER_POSTING)):
                total = -sum(fen for _, fen in part)
                ids.append(
                    self.ledger.post(day_int(day), "medical contributions", [("medfund", total), *part])
                )
            if not ids:
                raise MedicalError("medical contributions: no pool and no account to credit")
        return ids[0]

    def medical_account_fen(self, citizen: str) -> int:
        return -self.ledger.balance(f"medacct:{_check_id(citizen, 'citizen')}")

    def pool_fen(self) -> int:
        return -self.ledger.balance("medpool")

    def settle_visit(
        self, institution: str, visit_id: int, citizen: str, cost_fen: int, day: date
    ) -> VisitSplit:
        """The card was read at `institution`: split the cost and owe the insured part to it."""
        if institution not in self.institutions:
            raise MedicalError(f"visit {visit_id}: {institution!r} is not a registered institution")
        account = f"medacct:{_check_id(citizen, 'citizen')}"
        with self.ledger.transaction():
            split = split_visit(cost_fen, -self.ledger.balance(account), self.fund_share_bp)
            if split.fund_fen > self.pool_fen():
                raise MedicalError(
                    f"visit {visit_id}: pool holds {self.pool_fen()} fen, fund share {split.fund_fen}"
                )
            try:
                self.ledger.db.execute(
                    "INSERT INTO med_visits VALUES (?, ?, ?, ?, NULL)",
                    (institution, visit_id, citizen, split.insured_fen),
                )
            except Exception as exc:  # sqlite3.IntegrityError: the same visit settled twice
                raise MedicalError(f"visit {visit_id} at {institution}: already settled ({exc})") from None
            if split.insured_fen:
                self.ledger.post(
                    day_int(day),
                    f"visit {institution}/{visit_id}",
                    [(account, split.medical_account_fen), ("medpool", split.fund_fen),
                     (f"meddue:{institution}", -split.insured_fen)],
                )  # fmt: skip
        return split

    def pay_claim(self, claim: Claim) -> int:
        """Verify a claim and pay it from the fund; returns the amount paid. All or nothing."""
        where = f"claim {claim.claim_id} of {claim.institution!r}"
        if claim.institution not in self.institutions:
            raise ClaimError(f"{where}: not a registered institution")
        if not 0 < len(claim.visits) <= CLAIM_VISITS_MAX:
            raise ClaimError(f"{where}: {len(claim.visits)} visits, must be 1..{CLAIM_VISITS_MAX}")
        key = institution_key(self._master, claim.institution)
        if len(claim.mac) != MAC_BYTES or not hmac.compare_digest(_mac(key, claim), claim.mac):
            raise ClaimError(f"{where}: MAC does not verify (forged or altered)")
        ids = [v for v, _ in claim.visits]
        if len(set(ids)) != len(ids):
            raise ClaimError(f"{where}: a visit listed twice")
        db = self.ledger.db
        with self.ledger.transaction():
            if db.execute(
                "SELECT 1 FROM med_claims WHERE institution = ? AND claim_id = ?",
                (claim.institution, claim.claim_id),
            ).fetchone():
                raise ClaimError(f"{where}: already paid (a replay)")
            for visit_id, fen in claim.visits:
                self._check_line(claim.institution, visit_id, fen, where)
            amount = claim.amount_fen
            posting = self.ledger.post(
                day_int(claim.day), f"claim {claim.institution}/{claim.claim_id}",
                [(f"meddue:{claim.institution}", amount), ("medfund", -amount)],
            )  # fmt: skip
            db.execute(
                "INSERT INTO med_claims VALUES (?, ?, ?, ?)",
                (claim.institution, claim.claim_id, amount, posting),
            )
            db.executemany(
                "UPDATE med_visits SET claim_id = ? WHERE institution = ? AND visit_id = ?",
                [(claim.claim_id, claim.institution, v) for v in ids],
            )
        return amount

    def _check_line(self, institution: str, visit_id: int, fen: int, where: str) -> None:
        row = self.ledger.db.execute(
            "SELECT insured_fen, claim_id FROM med_visits WHERE institution = ? AND visit_id = ?",
            (institution, visit_id),
        ).fetchone()
        if row is None:
            raise ClaimError(f"{where}: visit {visit_id} was never settled at {institution}")
        if row[1] is not None:
            raise ClaimError(f"{where}: visit {visit_id} already paid by claim {row[1]}")
        if fen != row[0]:
            raise ClaimError(f"{where}: visit {visit_id} asks {fen} fen, the fund settled {row[0]}")

    def unclaimed(self, institution: str) -> list[tuple[int, int]]:
        """The institution's settled visits no claim has paid yet: (visit id, insured fen)."""
        rows = self.ledger.db.execute(
            "SELECT visit_id, insured_fen FROM med_visits WHERE institution = ? AND claim_id IS NULL "
            "AND insured_fen > 0 ORDER BY visit_id",
            (institution,),
        )
        return [(int(v), int(f)) for v, f in rows]

    def totals(self) -> dict[str, int]:
        """Visits settled and claims paid, from the fund's own tables (for the invariants)."""
        db = self.ledger.db
        insured = db.execute("SELECT COALESCE(SUM(insured_fen), 0), COUNT(*) FROM med_visits").fetchone()
        paid = db.execute("SELECT COALESCE(SUM(amount_fen), 0), COUNT(*) FROM med_claims").fetchone()
        return {
            "insured_fen": int(insured[0]),
            "visits": int(insured[1]),
            "paid_fen": int(paid[0]),
            "claims": int(paid[1]),
        }
