"""What every card-accepting terminal does before a transaction, whatever it sells.

On each card: SELECT the e-purse, read the public file, refuse a card outside its validity,
and resolve any torn transaction this terminal still holds for the card, before a new one may
start. The torn-transaction book and the journal live here: one place owns each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from model.card import CardChannel, PublicInfo, commands, exchange, open_epurse
from model.errors import CardExpiredError, CardRemovedError, CardTwinError, TransactionTornError
from model.records import TransactionRecord, TxType
from model.terminal.journal import Journal
from model.terminal.recovery import PendingBook, PendingTransaction, Recovery, RecoveryOutcome, resolve
from model.timefmt import card_time


@dataclass(frozen=True, slots=True)
class Opened:
    """A card opened for a load or a purchase: who it is, the transaction's type and moment (to
    the card's second), and the record if resolving a torn attempt showed it already done."""

    public: PublicInfo
    tx_type: TxType
    moment: datetime
    done: TransactionRecord | None


class CardAcceptor:
    """Base of the load and purchase terminals: identity, journal, torn-transaction recovery."""

    def __init__(self, terminal_id: bytes, journal: Journal | None, pending: PendingBook | None) -> None:
        if len(terminal_id) != 6:
            raise ValueError(f"terminal ID: {len(terminal_id)} bytes, expected 6")
        self.terminal_id = terminal_id
        self._where = f"terminal {terminal_id.hex()}"
        self.journal = journal if journal is not None else Journal()
        self.pending = pending if pending is not None else PendingBook()
        self.recoveries: dict[RecoveryOutcome, int] = dict.fromkeys(RecoveryOutcome, 0)
        # The record's one write to flash, an attribute so that a fault injector can cut the
        # power around it on one terminal (`sim.verify`'s PowerCut): a method of a class compiled
        # by mypyc (`model.native`) cannot be replaced on an instance.
        self.record_committed: Callable[[PendingTransaction, TransactionRecord], None] = (
            self._record_committed
        )

    def open_card(self, card: CardChannel, moment: datetime) -> tuple[PublicInfo, list[Recovery]]:
        """Select and identify the card, refuse it if expired, resolve its torn transactions."""
        self.journal.check_room(self._where)
        public = open_epurse(card)
        if not public.valid_on(moment.date()):
            raise CardExpiredError(
                f"card {public.asn.hex()}: valid {public.start} to {public.expiry}, presented {moment.date()}"
            )
        try:
            recoveries = [self._resolve(card, p) for p in self.pending.for_card(public.asn)]
        except CardRemovedError:
            # The card left while its torn transaction was being resolved: the entry is still
            # pending, so the terminal asks for the card again, as after the tear itself.
            raise TransactionTornError(
                f"card {public.asn.hex()}: removed while resolving a torn transaction; present it again"
            ) from None
        return public, recoveries

    def begin(
        self, card: CardChannel, moment: datetime, amount_fen: int, tx_type: int
    ) -> tuple[PublicInfo, list[Recovery], TransactionRecord | None]:
        """Open the card; if resolving a torn transaction shows that the card already made
        this very charge, return its record too, so the caller does not make it twice."""
        public, recoveries = self.open_card(card, moment)
        return public, recoveries, matching(recoveries, amount_fen, tx_type)

    def open_purse(
        self,
        card: CardChannel,
        moment: datetime,
        amount_fen: int,
        purse: int,
        pin: bytes | None,
        types: tuple[TxType, TxType],
    ) -> Opened:
        """The opening every load and purchase shares: the type by purse (`types` is (EP, ED)),
        the moment to the card's second, `begin`, and the holder's PIN for the ED (not needed
        when the charge turned out already made)."""
        tx_type = types[1] if purse == commands.PURSE_ED else types[0]
        moment = card_time(moment)
        public, _, done = self.begin(card, moment, amount_fen, tx_type)
        if done is None and purse == commands.PURSE_ED:
            exchange(card, commands.verify_pin(pin or b""), "VERIFY PIN")
        return Opened(public, tx_type, moment, done)

    def recover(self, card: CardChannel, moment: datetime) -> list[Recovery]:
        """Present a card only to resolve what this terminal holds for it."""
        return self.open_card(card, moment)[1]

    def _resolve(self, card: CardChannel, pending: PendingTransaction) -> Recovery:
        recovery = resolve(card, pending)
        self.recoveries[recovery.outcome] += 1
        if recovery.outcome is RecoveryOutcome.UNKNOWN:
            return recovery
        if recovery.record is not None:
            self.journal.append(recovery.record)
        self.pending.remove(pending)
        self.settle_recovery(pending, recovery)
        return recovery

    def settle_recovery(self, pending: PendingTransaction, recovery: Recovery) -> None:
        """Hook: what else must happen once a torn transaction is resolved (host, PSAM)."""

    def commit_or_tear(
        self,
        card: CardChannel,
        command: bytes,
        name: str,
        pending: PendingTransaction,
        expect_len: int,
    ) -> bytes:
        """Send the committing command; if the card does not answer, keep it pending.

        The pending entry is written ahead, before the card can commit, and leaves the book only
        with the record's journal write (`record_committed`): a terminal that loses power after
        the card answered and before it wrote the record still holds the entry on restart, and
        recovers the record from the card. (Without it the card's money left on no record: found
        by the verify campaign's power-loss fault.)"""
        for stale in self.pending.for_card(pending.asn):
            if (stale.tx_type, stale.counter) == (pending.tx_type, pending.counter):
                # The card's INITIALIZE just gave this very counter again, so the earlier attempt
                # under it never committed (a commit moves the counter on), even where its
                # recovery could not tell from a log full of the other family (found by the
                # verify campaign, seed 73).
                self.pending.remove(stale)
                self.recoveries[RecoveryOutcome.NOT_COMMITTED] += 1
                self.settle_recovery(stale, Recovery(RecoveryOutcome.NOT_COMMITTED))
        self.pending.add(pending)
        try:
            return exchange(card, command, name, expect_len)
        except CardTwinError as exc:
            # No answer, a refusal, or a malformed answer: after the committing command none of
            # them proves the card did not commit (a corrupted or relayed answer can say "refused"
            # for a card that committed; found by tests/test_fuzz.py). The card's log decides, so
            # the entry stays pending (and a load's funding open) until recovery reads it.
            raise TransactionTornError(
                f"{name} to card {pending.asn.hex()} counter {pending.counter}: "
                f"{'no answer' if isinstance(exc, CardRemovedError) else f'answer not trusted ({exc})'}; "
                "present the card again to complete"
            ) from None

    def _record_committed(self, pending: PendingTransaction, record: TransactionRecord) -> None:
        """Journal the committed record and drop its written-ahead pending entry: one write to
        the terminal's flash, so either both happen or (power lost before it) neither."""
        self.pending.remove(pending)
        try:
            self.journal.append(record)
        except BaseException:
            self.pending.add(pending)  # the write did not happen: the entry stays for recovery
            raise


def matching(recoveries: list[Recovery], amount_fen: int, tx_type: int) -> TransactionRecord | None:
    """A recovered committed record for the same charge as the one asked for now, if any."""
    for recovery in recoveries:
        record = recovery.record
        if record is not None and record.amount_fen == amount_fen and record.tx_type == tx_type:
            return record
    return None
