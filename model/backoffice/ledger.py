"""The double-entry ledger of the back office, on SQLite (stdlib sqlite3, WAL journal).

Every money movement is a *posting*: a set of entries, each an account and a signed amount in
fen (debit positive, credit negative), that sums to zero. Postings are append-only: triggers
refuse UPDATE and DELETE, and a correction is a new posting that reverses an old one.

Chart of accounts (names are `kind` or `kind:owner`):

    float                 the stored value on cards (liability; credit balance)
    reserve               the reserve fund at the custodian bank, 备付金 (asset; debit balance)
    fees                  the operator's fee revenue (income; credit balance)
    payable:<participant> owed to a transport company or merchant until settlement (liability)
    receivable:<part.>    owed by a recharge point (cash window, bank 圈存) until settlement (asset)
    bank:<bank>           settlement in transit with a bank; zero once its instruction executes
    deposits              card deposits held (liability)
    account:<citizen>     the citizen's online account (liability)
    transfer              a replaced card's balance between write-off and reload (zero at rest)

The ledger does not commit: its caller owns the transaction (`Ledger.transaction`), so one
ingest's records and postings become durable together or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from model.errors import CardTwinError

ENTRIES_PER_POSTING_MAX = 100_000
ACCOUNT_NAME_MAX = 80

_SCHEMA = """
CREATE TABLE IF NOT EXISTS postings (
    id INTEGER PRIMARY KEY,
    day INTEGER NOT NULL,          -- value day YYYYMMDD
    memo TEXT NOT NULL,
    reverses INTEGER REFERENCES postings(id)
);
CREATE TABLE IF NOT EXISTS entries (
    posting_id INTEGER NOT NULL REFERENCES postings(id),
    account TEXT NOT NULL,
    amount_fen INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_account ON entries(account);
CREATE UNIQUE INDEX IF NOT EXISTS postings_reversal ON postings(reverses) WHERE reverses IS NOT NULL;
CREATE TRIGGER IF NOT EXISTS postings_append_only_u BEFORE UPDATE ON postings
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS postings_append_only_d BEFORE DELETE ON postings
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_append_only_u BEFORE UPDATE ON entries
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_append_only_d BEFORE DELETE ON entries
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
"""


class LedgerError(CardTwinError):
    """A posting that cannot be made (unbalanced, empty, reversing twice) or an unusable DB."""


def open_database(path: Path | str) -> sqlite3.Connection:
    """A connection in WAL mode; see `Ledger.transaction` for when a commit is synced."""
    try:
        db = sqlite3.connect(str(path), isolation_level=None, timeout=30.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        # The records index is written in card order, not time order: keep its pages in memory.
        db.execute("PRAGMA cache_size=-262144")
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"{path}: cannot open the clearing database: {exc}") from None
    return db


def balanced(memo: str, lines: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """A posting's non-zero lines, checked: integer fen, named accounts, summing to zero.

    The one rule of every posting, whether written now (`Ledger.post`) or staged by the
    clearing house and written with its group (model.backoffice.stage)."""
    kept = [(account, amount) for account, amount in lines if amount != 0]
    if not kept:
        raise LedgerError(f"posting {memo!r}: no non-zero entries")
    if len(kept) > ENTRIES_PER_POSTING_MAX:
        raise LedgerError(f"posting {memo!r}: {len(kept)} entries, at most {ENTRIES_PER_POSTING_MAX}")
    for account, amount in kept:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise LedgerError(f"posting {memo!r}: {account}: {amount!r} is not integer fen")
        if not account or len(account) > ACCOUNT_NAME_MAX:
            raise LedgerError(f"posting {memo!r}: account name {account!r} empty or too long")
    total = sum(amount for _, amount in kept)
    if total != 0:
        raise LedgerError(f"posting {memo!r}: entries sum to {total} fen, not 0")
    return kept


class Ledger:
    """Postings and balances over one SQLite connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(_SCHEMA)
        self._synchronous = ""  # the mode last set on this connection: a PRAGMA costs a statement

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[None]:
        """BEGIN IMMEDIATE .. COMMIT, ROLLBACK on any exception. Not reentrant.

        `durable=False` (synchronous=NORMAL in WAL) may lose the last commits on a power cut,
        never on a process crash, and never leaves the file inconsistent. The clearing house
        ingests that way: its inputs stay in the ingest folder and a rerun redoes a lost commit
        (batches are idempotent by content). Anything with an effect outside the database
        (settlement instructions, cash refunds, account payments) commits durably (FULL)."""
        mode = "FULL" if durable else "NORMAL"
        if mode != self._synchronous:
            self.db.execute(f"PRAGMA synchronous={mode}")
            self._synchronous = mode
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            # SQLite rolls the transaction back by itself on some errors (an interrupt, a full
            # disk, I/O): a second ROLLBACK would fail and hide the first error (found by the
            # verify campaign's clearing-crash fault).
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def post(self, day: int, memo: str, lines: Sequence[tuple[str, int]], reverses: int | None = None) -> int:
        """Append one balanced posting; returns its id. Zero lines are dropped."""
        kept = balanced(memo, lines)
        assert self.db.in_transaction, "postings are made inside the caller's transaction"
        cursor = self.db.execute(
            "INSERT INTO postings(day, memo, reverses) VALUES (?, ?, ?)", (day, memo, reverses)
        )
        posting_id = cursor.lastrowid
        assert posting_id is not None
        self.db.executemany(
            "INSERT INTO entries(posting_id, account, amount_fen) VALUES (?, ?, ?)",
            [(posting_id, account, amount) for account, amount in kept],
        )
        return posting_id

    def next_posting_id(self) -> int:
        """The id the next posting will get; stable only inside the caller's write transaction."""
        assert self.db.in_transaction, "a posting id is reserved under the write lock"
        return int(self.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM postings").fetchone()[0])

    def reverse(self, posting_id: int, day: int, memo: str) -> int:
        """A correction: a new posting with every entry of `posting_id` negated."""
        rows = self.db.execute(
            "SELECT account, amount_fen FROM entries WHERE posting_id = ?", (posting_id,)
        ).fetchall()
        if not rows:
            raise LedgerError(f"reverse: no posting {posting_id}")
        if self.db.execute("SELECT 1 FROM postings WHERE reverses = ?", (posting_id,)).fetchone():
            raise LedgerError(f"reverse: posting {posting_id} is already reversed")
        return self.post(day, memo, [(account, -amount) for account, amount in rows], reverses=posting_id)

    def balance(self, account: str) -> int:
        row = self.db.execute(
            "SELECT COALESCE(SUM(amount_fen), 0) FROM entries WHERE account = ?", (account,)
        )
        return int(row.fetchone()[0])

    def balances(self, prefix: str = "") -> dict[str, int]:
        """Balances of every account whose name starts with `prefix` (debit positive)."""
        rows = self.db.execute(
            "SELECT account, SUM(amount_fen) FROM entries "
            "WHERE account >= ? AND account < ? GROUP BY account",
            (prefix, prefix + "\uffff"),
        )
        return {account: int(total) for account, total in rows}

    def check(self) -> None:
        """Invariants over the whole ledger: every posting balances, so the ledger does."""
        unbalanced = self.db.execute(
            "SELECT posting_id, SUM(amount_fen) FROM entries GROUP BY posting_id HAVING SUM(amount_fen) != 0"
        ).fetchall()
        if unbalanced:
            raise LedgerError(f"ledger: postings out of balance: {unbalanced[:5]}")
        total = self.db.execute("SELECT COALESCE(SUM(amount_fen), 0) FROM entries").fetchone()[0]
        assert total == 0, total
