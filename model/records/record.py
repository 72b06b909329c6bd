"""Transaction records: what a terminal keeps of every completed load and purchase.

A record is the unit the clearing house settles. Its TAC, computed by the card with its DTK,
proves the card took part; the back office re-derives the DTK from the issuer master key and
recomputes the TAC from the record's own fields (`verify_tac`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from model.security import Algorithm, KeyStore, KeyUsage, load_tac_data, purchase_tac_data, tac
from model.timefmt import encode_datetime


class TxType(IntEnum):
    """Transaction type byte, as it appears in MAC inputs, the card log and the record."""

    ED_LOAD = 0x01
    EP_LOAD = 0x02
    ED_PURCHASE = 0x05
    EP_PURCHASE = 0x06
    CAPP_PURCHASE = 0x09

    @property
    def is_load(self) -> bool:
        return self in _LOAD_VALUES  # (plain ints: a member looked up on the class costs ~0.2 us)


_LOAD_VALUES = (int(TxType.ED_LOAD), int(TxType.EP_LOAD))


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    """One completed card transaction, as uploaded by the terminal.

    `counter` is the card's counter returned by INITIALIZE (online for loads, offline for
    purchases): unique per card and type family. `terminal_serial` is the PSAM's serial for
    purchases and the load host's authorisation serial for loads.
    """

    asn: bytes
    counter: int
    amount_fen: int
    tx_type: TxType
    terminal_id: bytes
    terminal_serial: int
    moment: datetime
    balance_before_fen: int
    balance_after_fen: int
    tac: bytes
    algorithm: Algorithm
    key_index: int

    def __post_init__(self) -> None:
        # Money is conserved inside a record: loads add, purchases subtract, exactly the amount.
        sign = 1 if self.tx_type.is_load else -1
        assert self.balance_after_fen == self.balance_before_fen + sign * self.amount_fen, self

    @property
    def signed_amount_fen(self) -> int:
        """The record's effect on the card balance: + for loads, - for purchases."""
        return self.amount_fen if self.tx_type.is_load else -self.amount_fen

    def tac_data(self) -> bytes:
        date_time = encode_datetime(self.moment)
        if self.tx_type.is_load:
            return load_tac_data(
                self.balance_after_fen,
                self.counter,
                self.amount_fen,
                self.tx_type,
                self.terminal_id,
                date_time,
            )
        return purchase_tac_data(
            self.amount_fen, self.tx_type, self.terminal_id, self.terminal_serial, date_time
        )


def verify_tac(record: TransactionRecord, key_store: KeyStore) -> bool:
    """Recompute the record's TAC from the issuer keys and compare."""
    dtk = key_store.card_key(KeyUsage.TAC, record.algorithm, record.key_index, record.asn)
    return tac(record.algorithm, dtk, record.tac_data()) == record.tac
