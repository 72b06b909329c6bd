"""The citizen account (市民卡账户) in use: payers credit it in batches, vouchers expire.

Seed 003: the account system serves civil servants' car allowances, consumption vouchers,
welfare payments and low-income subsidies, spent online at malls, fuel stations, car repair
and websites. The balance is `model.backoffice.CitizenAccounts` (`account:<citizen>` on the
ledger, backed by the reserve); this module adds what a payer and a voucher need:

- a payer's batch (a government office, an employer) credits many accounts in one posting
  series and is applied once: the same batch id again is refused, nothing credited twice;
- a voucher credit carries an expiry day; spending takes valid vouchers first (earliest
  expiry first) and never touches an expired one; at expiry the unspent part goes back to
  its payer (`Dr account:<c>, Cr payback:<payer>`), so it leaves the citizen's balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from model.backoffice import CitizenAccounts, Ledger
from model.backoffice.accounts import AccountError
from model.backoffice.terms import day_int

CREDITS_PER_BATCH_MAX = 1_000_000
PAYER_MAX = 40

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payer_batches (
    payer TEXT NOT NULL, batch_id INTEGER NOT NULL, credits INTEGER NOT NULL, amount_fen INTEGER NOT NULL,
    PRIMARY KEY (payer, batch_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vouchers (
    id INTEGER PRIMARY KEY, citizen TEXT NOT NULL, payer TEXT NOT NULL,
    remaining_fen INTEGER NOT NULL CHECK (remaining_fen >= 0), expires INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS vouchers_citizen ON vouchers(citizen, expires);
"""


@dataclass(frozen=True, slots=True)
class PayerBatch:
    """One payer's credits: `source` is subsidy, voucher, allowance or welfare."""

    payer: str
    batch_id: int
    source: str
    credits: tuple[tuple[str, int], ...]
    expires: date | None = None  # vouchers only: the last day they may be spent


class AccountBook:
    """Payer batches, voucher tranches and spending over the citizen accounts."""

    def __init__(self, accounts: CitizenAccounts) -> None:
        self.accounts = accounts
        self.ledger: Ledger = accounts.ledger
        self.ledger.db.executescript(_SCHEMA)

    def credit(self, batch: PayerBatch, day: date) -> int:
        """Apply a payer's batch once; returns the fen credited. A replayed batch is refused."""
        where = f"payer batch {batch.payer!r}/{batch.batch_id}"
        if not batch.payer or len(batch.payer) > PAYER_MAX or ":" in batch.payer:
            raise AccountError(f"{where}: payer must be 1..{PAYER_MAX} chars, no ':'")
        if not 0 < len(batch.credits) <= CREDITS_PER_BATCH_MAX:
            raise AccountError(f"{where}: {len(batch.credits)} credits, must be 1..{CREDITS_PER_BATCH_MAX}")
        if (batch.source == "voucher") != (batch.expires is not None):
            raise AccountError(f"{where}: a voucher batch, and only one, has an expiry day")
        if batch.expires is not None and batch.expires < day:
            raise AccountError(f"{where}: vouchers expiring {batch.expires} before they are given ({day})")
        db = self.ledger.db
        total = sum(fen for _, fen in batch.credits)
        # CitizenAccounts commits each credit itself: the batch row is written first, under its
        # own transaction, so a crash between credits leaves a batch marked and visibly partial
        # rather than one that a retry would pay twice.
        with self.ledger.transaction():
            if db.execute(
                "SELECT 1 FROM payer_batches WHERE payer = ? AND batch_id = ?", (batch.payer, batch.batch_id)
            ).fetchone():
                raise AccountError(f"{where}: already applied (a replay)")
            db.execute(
                "INSERT INTO payer_batches VALUES (?, ?, ?, ?)",
                (batch.payer, batch.batch_id, len(batch.credits), total),
            )
        for citizen, fen in batch.credits:
            self.accounts.pay_in(citizen, fen, batch.source, day)
            if batch.expires is not None:
                with self.ledger.transaction():
                    db.execute(
                        "INSERT INTO vouchers(citizen, payer, remaining_fen, expires) VALUES (?, ?, ?, ?)",
                        (citizen, batch.payer, fen, day_int(batch.expires)),
                    )
        return total

    def expired_fen(self, citizen: str, day: date) -> int:
        """Voucher value past its expiry and not yet swept back: never spendable."""
        row = self.ledger.db.execute(
            "SELECT COALESCE(SUM(remaining_fen), 0) FROM vouchers WHERE citizen = ? AND expires < ?",
            (citizen, day_int(day)),
        ).fetchone()
        return int(row[0])

    def spendable_fen(self, citizen: str, day: date) -> int:
        return self.accounts.balance_fen(citizen) - self.expired_fen(citizen, day)

    def spend(self, citizen: str, merchant: str, amount_fen: int, day: date) -> int:
        """Pay a merchant online; valid vouchers are used first. Returns the payment id."""
        spendable = self.spendable_fen(citizen, day)
        if amount_fen > spendable:
            raise AccountError(
                f"payment by {citizen}: {amount_fen} fen asked, {spendable} fen spendable "
                f"({self.expired_fen(citizen, day)} fen of expired vouchers)"
            )
        payment = self.accounts.pay(citizen, merchant, amount_fen, day)
        self._use_vouchers(citizen, amount_fen, day)
        return payment

    def _use_vouchers(self, citizen: str, amount_fen: int, day: date) -> None:
        db = self.ledger.db
        rows = db.execute(
            "SELECT id, remaining_fen FROM vouchers WHERE citizen = ? AND expires >= ? AND remaining_fen > 0 "
            "ORDER BY expires, id",
            (citizen, day_int(day)),
        ).fetchall()
        left = amount_fen
        with self.ledger.transaction():
            for voucher_id, remaining in rows:
                if left == 0:
                    break
                used = min(left, int(remaining))
                db.execute(
                    "UPDATE vouchers SET remaining_fen = remaining_fen - ? WHERE id = ?", (used, voucher_id)
                )
                left -= used

    def expire(self, day: date) -> int:
        """Sweep every voucher that expired before `day` back to its payer; returns the fen swept."""
        db = self.ledger.db
        swept = 0
        with self.ledger.transaction():
            rows = db.execute(
                "SELECT id, citizen, payer, remaining_fen FROM vouchers "
                "WHERE expires < ? AND remaining_fen > 0 "
                "ORDER BY id",
                (day_int(day),),
            ).fetchall()
            for voucher_id, citizen, payer, remaining in rows:
                self.ledger.post(
                    day_int(day),
                    f"voucher {voucher_id} expired",
                    [(f"account:{citizen}", int(remaining)), (f"payback:{payer}", -int(remaining))],
                )
                db.execute("UPDATE vouchers SET remaining_fen = 0 WHERE id = ?", (voucher_id,))
                swept += int(remaining)
        return swept

    def credited_fen(self) -> int:
        return int(
            self.ledger.db.execute("SELECT COALESCE(SUM(amount_fen), 0) FROM payer_batches").fetchone()[0]
        )
