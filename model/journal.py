"""A terminal's journal: the records it holds until they are uploaded to the clearing house.

Bounded, because a real terminal's memory is: when full, the terminal refuses new transactions
(JournalFullError) rather than overwrite a record that carries money.
"""

from __future__ import annotations

from model.errors import CardTwinError
from model.records import TransactionRecord

JOURNAL_RECORDS_MAX = 200_000


class JournalFullError(CardTwinError):
    """The terminal must upload before it can take another transaction."""


class Journal:
    """Append-only until `drain`, which hands every held record to the uploader."""

    __slots__ = ("_records", "limit", "total_appended")

    def __init__(self, limit: int = JOURNAL_RECORDS_MAX) -> None:
        self.limit = limit
        self._records: list[TransactionRecord] = []
        self.total_appended = 0

    def __len__(self) -> int:
        return len(self._records)

    def check_room(self, where: str) -> None:
        if len(self._records) >= self.limit:
            raise JournalFullError(f"{where}: journal holds {self.limit} records, upload first")

    def append(self, record: TransactionRecord) -> None:
        self._records.append(record)
        self.total_appended += 1

    def records(self) -> tuple[TransactionRecord, ...]:
        return tuple(self._records)

    def drain(self) -> list[TransactionRecord]:
        records, self._records = self._records, []
        return records
