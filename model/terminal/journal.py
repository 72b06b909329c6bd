"""A terminal's journal: the records it holds until they are uploaded to the clearing house.

Bounded, because a real terminal's memory is: when full, the terminal refuses new transactions
(JournalFullError) rather than overwrite a record that carries money.

Held records are kept in the form they are uploaded in: the batch file's 51-byte records
(`model.records.batch`, each with its CRC), one after another in one buffer, as a terminal's
flash holds them. A bus keeps a whole day's taps until it reaches the depot and a city holds
millions of them at once, so a record costs its 51 bytes rather than a Python object of about
400; and an upload is those bytes as they lie (`drain_wire`), not records rebuilt and encoded
again. `drain` and `records` give back `TransactionRecord`s equal to those appended; so a
record must be one the upload format carries: card time (whole seconds, no time zone), card
sizes, a 4-byte TAC or none (committed without proof).
"""

from __future__ import annotations

from model.errors import CardTwinError
from model.records import RECORD_SIZE, TransactionRecord, encode_record, read_body

JOURNAL_RECORDS_MAX = 200_000


class JournalFullError(CardTwinError):
    """The terminal must upload before it can take another transaction."""


def _encoded(r: TransactionRecord) -> bytes:
    assert r.moment.tzinfo is None and not r.moment.microsecond, (
        "records carry card time: whole local seconds"
    )
    assert len(r.asn) == 8 and len(r.terminal_id) == 6 and len(r.tac) in (0, 4), (
        "record fields have card sizes"
    )
    return encode_record(r)


class Journal:
    """Append-only until `drain`, which hands every held record to the uploader."""

    __slots__ = ("_wire", "limit", "total_appended")

    def __init__(self, limit: int = JOURNAL_RECORDS_MAX) -> None:
        self.limit = limit
        self._wire = bytearray()
        self.total_appended = 0

    def __len__(self) -> int:
        return len(self._wire) // RECORD_SIZE

    def check_room(self, where: str) -> None:
        if len(self) >= self.limit:
            raise JournalFullError(f"{where}: journal holds {self.limit} records, upload first")

    def append(self, record: TransactionRecord) -> None:
        # Encoded first: a record that does not fit the format raises before the journal changes.
        self._wire += _encoded(record)
        self.total_appended += 1

    def records(self) -> tuple[TransactionRecord, ...]:
        return tuple(read_body(bytes(self._wire)))

    def drain(self) -> list[TransactionRecord]:
        return read_body(self.drain_wire())

    def drain_wire(self) -> bytes:
        """Every held record, oldest first, in the upload format (`model.records.batch`'s
        records, CRCs included): the body of the batch file the upload sends."""
        wire, self._wire = self._wire, bytearray()
        return bytes(wire)
