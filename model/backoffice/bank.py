"""A bank's customer accounts, and the two-phase funding of a load from them (圈存).

`BankFunding` is the load host's `Funding` for loads paid from a bank account. The load host
calls it in two phases around the card's commit:

    reserve  at authorisation (MAC2 sent): the amount is held, the balance is not touched;
    capture  when the card committed (TAC back, or GET TRANSACTION PROOF says so): debit;
    release  when the card did not commit: the hold goes, nothing was debited.

So a bank account is never debited for a load the card did not take; a torn load keeps its hold
until the terminal learns the card's fate. Captured loads are what the bank owes the reserve at
the next settlement (the bank's load terminals are `load` participants).

Unload (圈提) is the other way: the card is debited first (a purchase at the bank's unload
terminal, proven by its TAC), then `credit_unload` credits the account once per record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from model.backoffice.load_host import LoadRequest
from model.errors import CardTwinError, LoadDeclinedError
from model.records import TransactionRecord

HOLDS_MAX = 10_000


class BankError(CardTwinError):
    """A bank operation that cannot be done (unknown account, unload credited twice)."""


@dataclass(slots=True)
class Bank:
    """One bank's view: customer balances, holds, and what it moved for the card system."""

    name: str
    balances_fen: dict[str, int] = field(default_factory=dict)
    holds: dict[int, tuple[str, int]] = field(default_factory=dict)  # host serial -> (account, fen)
    captured_fen: int = 0
    captured_count: int = 0
    unloads_fen: int = 0
    _unloaded: set[bytes] = field(default_factory=set)

    def open_account(self, account: str, balance_fen: int) -> None:
        if account in self.balances_fen:
            raise BankError(f"{self.name}: account {account} exists")
        if balance_fen < 0:
            raise BankError(f"{self.name}: account {account}: opening balance {balance_fen} fen is negative")
        self.balances_fen[account] = balance_fen

    def held_fen(self, account: str) -> int:
        return sum(amount for held_account, amount in self.holds.values() if held_account == account)

    def available_fen(self, account: str) -> int:
        return self.balances_fen[account] - self.held_fen(account)

    def credit_unload(self, account: str, record: TransactionRecord) -> None:
        """Credit what the card gave up at the bank's unload terminal, once per record."""
        if account not in self.balances_fen:
            raise BankError(f"{self.name}: unload to unknown account {account}")
        if record.tx_type.is_load or record.tac == b"":
            raise BankError(f"{self.name}: unload needs a proven purchase record of the card")
        key = record.asn + record.counter.to_bytes(2, "big")
        if key in self._unloaded:
            raise BankError(
                f"{self.name}: unload of card {record.asn.hex()} counter {record.counter} credited already"
            )
        self._unloaded.add(key)
        self.balances_fen[account] += record.amount_fen
        self.unloads_fen += record.amount_fen


class BankFunding:
    """The `Funding` of loads paid from a bank account (the load host's two-phase protocol)."""

    def __init__(self, bank: Bank, account_of: Callable[[bytes], str]) -> None:
        self.bank = bank
        self.account_of = account_of  # which account pays for a card (the citizen's binding)

    def reserve(self, host_serial: int, request: LoadRequest) -> None:
        bank = self.bank
        account = self.account_of(request.asn)
        where = f"{bank.name}: load of {request.amount_fen} fen to card {request.asn.hex()}"
        if account not in bank.balances_fen:
            raise LoadDeclinedError(f"{where}: account {account} unknown")
        if len(bank.holds) >= HOLDS_MAX:
            raise LoadDeclinedError(f"{where}: {HOLDS_MAX} holds open")
        if bank.available_fen(account) < request.amount_fen:
            raise LoadDeclinedError(f"{where}: insufficient funds in {account}")
        assert host_serial not in bank.holds
        bank.holds[host_serial] = (account, request.amount_fen)

    def capture(self, host_serial: int) -> None:
        account, amount = self.bank.holds.pop(host_serial)
        self.bank.balances_fen[account] -= amount
        assert self.bank.balances_fen[account] >= 0, "a hold guaranteed the funds"
        self.bank.captured_fen += amount
        self.bank.captured_count += 1

    def release(self, host_serial: int) -> None:
        self.bank.holds.pop(host_serial)
