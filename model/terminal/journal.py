"""A terminal's journal: the records it holds until they are uploaded to the clearing house.

Bounded, because a real terminal's memory is: when full, the terminal refuses new transactions
(JournalFullError) rather than overwrite a record that carries money.

Held records are packed, as a terminal's flash holds them: a bus keeps a whole day's taps until
it reaches the depot, and a city holds millions of them at once, so a record costs its 51 bytes
in one buffer rather than a Python object of about 400 bytes. `drain` and `records` give back
`TransactionRecord`s equal to those appended.
"""

from __future__ import annotations

import struct
from datetime import datetime, timedelta
from typing import Any

from model.errors import CardTwinError
from model.records import TransactionRecord, TxType
from model.security import Algorithm

JOURNAL_RECORDS_MAX = 200_000

# ASN, counter, amount, type, terminal, serial, day ordinal, microseconds of the day,
# balance before and after, TAC length and bytes (empty when recovered without proof),
# algorithm, key index.
_PACKED = struct.Struct(">8sHIB6sIIQiiB4sBB")
_TX_TYPES = {int(t): t for t in TxType}
_ALGORITHMS = {int(a): a for a in Algorithm}
_US_PER_DAY = 86_400_000_000


class JournalFullError(CardTwinError):
    """The terminal must upload before it can take another transaction."""


def _pack(r: TransactionRecord) -> bytes:
    assert r.moment.tzinfo is None, "records carry local card time"
    assert len(r.asn) == 8 and len(r.terminal_id) == 6 and len(r.tac) <= 4, "record fields have card sizes"
    day_us = (
        (r.moment.hour * 60 + r.moment.minute) * 60 + r.moment.second
    ) * 1_000_000 + r.moment.microsecond
    return _PACKED.pack(
        r.asn,
        r.counter,
        r.amount_fen,
        r.tx_type,
        r.terminal_id,
        r.terminal_serial,
        r.moment.toordinal(),
        day_us,
        r.balance_before_fen,
        r.balance_after_fen,
        len(r.tac),
        r.tac,
        r.algorithm,
        r.key_index,
    )


def _unpack(fields: tuple[Any, ...]) -> TransactionRecord:
    (
        asn,
        counter,
        amount,
        tx_type,
        terminal_id,
        serial,
        ordinal,
        day_us,
        before,
        after,
        tac_len,
        tac,
        algo,
        ki,
    ) = fields
    assert 0 <= day_us < _US_PER_DAY
    moment = datetime.fromordinal(ordinal) + timedelta(microseconds=day_us)
    return TransactionRecord(
        asn,
        counter,
        amount,
        _TX_TYPES[tx_type],
        terminal_id,
        serial,
        moment,
        before,
        after,
        tac[:tac_len],
        _ALGORITHMS[algo],
        ki,
    )


class Journal:
    """Append-only until `drain`, which hands every held record to the uploader."""

    __slots__ = ("_packed", "limit", "total_appended")

    def __init__(self, limit: int = JOURNAL_RECORDS_MAX) -> None:
        self.limit = limit
        self._packed = bytearray()
        self.total_appended = 0

    def __len__(self) -> int:
        return len(self._packed) // _PACKED.size

    def check_room(self, where: str) -> None:
        if len(self) >= self.limit:
            raise JournalFullError(f"{where}: journal holds {self.limit} records, upload first")

    def append(self, record: TransactionRecord) -> None:
        # Packed first: a record that does not fit the format raises before the journal changes.
        self._packed += _pack(record)
        self.total_appended += 1

    def records(self) -> tuple[TransactionRecord, ...]:
        return tuple(_unpack(f) for f in _PACKED.iter_unpack(self._packed))

    def drain(self) -> list[TransactionRecord]:
        packed, self._packed = self._packed, bytearray()
        return [_unpack(f) for f in _PACKED.iter_unpack(packed)]
