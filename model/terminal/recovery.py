"""Recovering a torn transaction: did the card commit the command that got no answer?

When CREDIT FOR LOAD or DEBIT FOR PURCHASE gets no response, the terminal keeps a
`PendingTransaction`. When the same card is presented again the terminal reads the card's
cyclic log and looks for the pending counter:

- an entry with that counter that matches the pending transaction (type, terminal, amount,
  time): the card committed. GET TRANSACTION PROOF gives its TAC and the record is written
  (COMMITTED); if later transactions overwrote the card's single proof slot, the record is
  written with an empty TAC and the clearing house holds it for review
  (COMMITTED_WITHOUT_PROOF);
- an entry with that counter from another transaction (another terminal reused the counter
  after our INITIALIZE was torn), or a log whose counters never reached it: the card did not
  commit (NOT_COMMITTED);
- otherwise the log no longer reaches back far enough and the pending transaction is kept
  (UNKNOWN), never guessed.

A terminal therefore never charges twice (it learns of the commit before it retries) and never
loses a committed debit (the pending entry survives until resolved).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from model.card import LOG_RECORDS_MAX, CardChannel, get_proof, read_log
from model.errors import CardTwinError
from model.records import TransactionRecord, TxType
from model.security import Algorithm

PENDING_MAX = 256


class RecoveryOutcome(Enum):
    COMMITTED = "committed"
    COMMITTED_WITHOUT_PROOF = "committed-without-proof"
    NOT_COMMITTED = "not-committed"
    UNKNOWN = "unknown"


class PendingBookFullError(CardTwinError):
    """Too many unresolved torn transactions: the terminal stops until they are resolved."""


@dataclass(frozen=True, slots=True)
class PendingTransaction:
    """Everything the terminal knew when the committing command went unanswered."""

    asn: bytes
    tx_type: TxType
    counter: int
    amount_fen: int
    terminal_id: bytes
    terminal_serial: int
    moment: datetime
    balance_before_fen: int
    algorithm: Algorithm
    key_index: int

    def to_record(self, tac: bytes) -> TransactionRecord:
        amount = self.amount_fen if self.tx_type.is_load else -self.amount_fen
        return TransactionRecord(  # (positional, in the record's field order: every tap makes one)
            self.asn,
            self.counter,
            self.amount_fen,
            self.tx_type,
            self.terminal_id,
            self.terminal_serial,
            self.moment,
            self.balance_before_fen,
            self.balance_before_fen + amount,
            tac,
            self.algorithm,
            self.key_index,
        )


@dataclass(frozen=True, slots=True)
class Recovery:
    outcome: RecoveryOutcome
    record: TransactionRecord | None = None
    mac: bytes = b""


_TYPES = frozenset(int(t) for t in TxType)


def _same_family(a: int, b: int) -> bool:
    # ED and EP purses, loads and purchases, each have their own counter.
    ed = {TxType.ED_LOAD, TxType.ED_PURCHASE}
    return TxType(a).is_load == TxType(b).is_load and (a in ed) == (b in ed)


def resolve(card: CardChannel, pending: PendingTransaction) -> Recovery:
    """Find out whether the card committed `pending` (the e-purse must be selected).

    The log decides, not the proof alone: the proof slot is addressed by type and counter only,
    and after a torn INITIALIZE-DEBIT another terminal may have committed its own transaction
    under the very same counter. Only a log entry that matches the pending transaction field by
    field (terminal, amount, time) makes it ours; the proof then supplies the TAC.
    """
    log = read_log(card)
    family = [e for e in log if e.tx_type in _TYPES and _same_family(e.tx_type, pending.tx_type)]
    for entry in family:
        if entry.counter != pending.counter:
            continue
        mine = (
            entry.tx_type == pending.tx_type
            and entry.terminal_id == pending.terminal_id
            and entry.amount_fen == pending.amount_fen
            and entry.moment == pending.moment
        )
        if not mine:
            return Recovery(RecoveryOutcome.NOT_COMMITTED)
        proof = get_proof(card, pending.tx_type, pending.counter)
        if proof is None:
            return Recovery(RecoveryOutcome.COMMITTED_WITHOUT_PROOF, pending.to_record(b""))
        mac, tac = proof
        return Recovery(RecoveryOutcome.COMMITTED, pending.to_record(tac), mac)
    # Counters only grow and the log is in order: if the newest entry of the family is older
    # than the pending counter, or the log still holds the card's whole history, it never ran.
    if family and max(e.counter for e in family) < pending.counter:
        return Recovery(RecoveryOutcome.NOT_COMMITTED)
    if not family and len(log) < LOG_RECORDS_MAX:
        return Recovery(RecoveryOutcome.NOT_COMMITTED)
    return Recovery(RecoveryOutcome.UNKNOWN)


class PendingBook:
    """The terminal's unresolved torn transactions, bounded. Every tap asks for its card's
    entries (twice), so they are also kept by ASN: found by one look-up, not a scan of the book."""

    __slots__ = ("_by_asn", "_items", "limit")

    def __init__(self, limit: int = PENDING_MAX) -> None:
        self.limit = limit
        self._items: dict[tuple[bytes, int, int], PendingTransaction] = {}
        self._by_asn: dict[bytes, list[PendingTransaction]] = {}  # each card's, in the order added

    def __len__(self) -> int:
        return len(self._items)

    def for_card(self, asn: bytes) -> list[PendingTransaction]:
        entries = self._by_asn.get(asn)
        return list(entries) if entries else []

    def add(self, pending: PendingTransaction) -> None:
        if len(self._items) >= self.limit:
            raise PendingBookFullError(f"{self.limit} torn transactions unresolved")
        key = (pending.asn, pending.tx_type, pending.counter)
        assert key not in self._items, "one counter torn twice"
        self._items[key] = pending
        self._by_asn.setdefault(pending.asn, []).append(pending)

    def remove(self, pending: PendingTransaction) -> None:
        stored = self._items.pop((pending.asn, pending.tx_type, pending.counter))
        entries = self._by_asn[pending.asn]
        entries.remove(stored)  # (a card has one or two entries at most)
        if not entries:
            del self._by_asn[pending.asn]

    def values(self) -> tuple[PendingTransaction, ...]:
        return tuple(self._items.values())
