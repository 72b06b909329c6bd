"""The citizen-card online account (账户系统): subsidies and vouchers in, payments at merchants.

Unlike the e-purse, the account lives in the back office: its balance is the ledger account
`account:<citizen>`, a liability backed by the reserve. Money comes in from public bodies
(car allowances, consumption vouchers, welfare and low-income subsidies: `Dr reserve,
Cr account:c`); a payment at a merchant (`Dr account:c, Cr payable:m`) becomes a cleared item
that the daily settlement pays out like a card purchase, with the merchant's sector fee.
"""

from __future__ import annotations

from datetime import date

from model.backoffice.ledger import Ledger
from model.backoffice.registry import Registry, Sector
from model.backoffice.terms import ACCOUNT_PAYMENT_TX_TYPE, day_int
from model.errors import CardTwinError

PAYMENT_FEN_MAX = 10_000_000  # CNY 100,000 in one payment
CITIZEN_ID_MAX = 40
_SOURCES = frozenset({"subsidy", "voucher", "allowance", "welfare"})


class AccountError(CardTwinError):
    """An account operation that cannot be done (no funds, unknown merchant, bad amount)."""


class CitizenAccounts:
    """Online accounts over the ledger; payments are cleared items for settlement."""

    def __init__(self, ledger: Ledger, registry: Registry) -> None:
        self.ledger = ledger
        self.registry = registry
        ledger.db.execute(
            "CREATE TABLE IF NOT EXISTS account_payments (id INTEGER PRIMARY KEY, citizen TEXT)"
        )

    @staticmethod
    def _account(citizen: str) -> str:
        if not citizen or len(citizen) > CITIZEN_ID_MAX or ":" in citizen:
            raise AccountError(f"account: citizen id {citizen!r} must be 1..{CITIZEN_ID_MAX} chars, no ':'")
        return f"account:{citizen}"

    @staticmethod
    def _amount(amount_fen: int, where: str) -> None:
        if (
            isinstance(amount_fen, bool)
            or not isinstance(amount_fen, int)
            or not 0 < amount_fen <= PAYMENT_FEN_MAX
        ):
            raise AccountError(f"{where}: amount {amount_fen!r} fen must be 1..{PAYMENT_FEN_MAX}")

    def balance_fen(self, citizen: str) -> int:
        return -self.ledger.balance(self._account(citizen))

    def pay_in(self, citizen: str, amount_fen: int, source: str, day: date) -> None:
        """A public body pays into the account (its money arrives in the reserve)."""
        account = self._account(citizen)
        self._amount(amount_fen, f"pay in to {citizen}")
        if source not in _SOURCES:
            raise AccountError(f"pay in to {citizen}: source {source!r} is not one of {sorted(_SOURCES)}")
        with self.ledger.transaction():
            self.ledger.post(
                day_int(day), f"{source} to {citizen}", [("reserve", amount_fen), (account, -amount_fen)]
            )

    def pay(self, citizen: str, merchant: str, amount_fen: int, day: date) -> int:
        """Pay a merchant from the account; returns the payment id. Refused beyond the balance."""
        account = self._account(citizen)
        self._amount(amount_fen, f"payment by {citizen}")
        participant = self.registry.participants.get(merchant)
        if participant is None or participant.sector in (Sector.LOAD, Sector.TRANSFER):
            raise AccountError(f"payment by {citizen}: {merchant!r} is not a registered merchant")
        with self.ledger.transaction():
            balance = -self.ledger.balance(account)
            if balance < amount_fen:
                raise AccountError(
                    f"payment by {citizen}: {amount_fen} fen asked, {balance} fen in the account"
                )
            cursor = self.ledger.db.execute("INSERT INTO account_payments(citizen) VALUES (?)", (citizen,))
            payment_id = cursor.lastrowid
            assert payment_id is not None
            posting = self.ledger.post(
                day_int(day),
                f"account payment {payment_id}",
                [(account, amount_fen), (f"payable:{merchant}", -amount_fen)],
            )
            # A 12-byte key never collides with a card record's 11-byte key (its identity too).
            key = b"ACCT" + payment_id.to_bytes(8, "big")
            self.ledger.db.execute(
                "INSERT INTO records(key, batch_id, participant, tx_type, amount_fen, day, terminal_id, "
                "serial, posting_id, identity) VALUES (?, 0, ?, ?, ?, ?, ?, 0, ?, ?)",
                (key, merchant, ACCOUNT_PAYMENT_TX_TYPE, amount_fen, day_int(day), bytes(6), posting, key),
            )
            assert self.balance_fen(citizen) == balance - amount_fen >= 0
        return payment_id
