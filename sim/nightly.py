"""The night: terminals' uploads reach the clearing house, which clears and settles the day.

The simulation talks to the clearing house through `ClearingPort` only: it hands over each
upload batch as it arrives and asks for the night's close. The real clearing house (the back
office, model/clearing and friends) plugs in behind this port. Until it is wired in, the
`RecordInbox` stands in the same place: it receives batches, refuses a batch resent under the
same ID, and tallies what it received per card and per sector, so the day's invariants can be
checked against the records themselves. It verifies no TAC and settles nothing: that is the
back office's job, and the run report says which port ran.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import numpy as np

from model.records import TransactionRecord
from sim.terminals import SECTORS, kind_of

BATCH_RECORDS_MAX = 200_000  # a terminal journal's size: a batch is at most one full journal


@dataclass(frozen=True, slots=True)
class Batch:
    """One upload: a terminal's drained journal. (terminal_id, sequence) identifies it."""

    terminal_id: bytes
    sequence: int
    records: tuple[TransactionRecord, ...]
    sent_s: float

    def __post_init__(self) -> None:
        assert len(self.records) <= BATCH_RECORDS_MAX


@dataclass(slots=True)
class NightReport:
    port: str
    accepted_records: int
    accepted_fen_by_sector: dict[str, int]
    rejected_by_reason: dict[str, int]
    settled_records: int | None = None  # None: this port does not settle
    positions_fen: dict[str, int] = field(default_factory=dict)


class ClearingPort(Protocol):
    name: str

    def receive(self, batch: Batch) -> None: ...

    def close_day(self, business_date: date) -> NightReport: ...


@dataclass(slots=True)
class CardTally:
    """Per-card sums of records, for the conservation check. One row per citizen of the shard."""

    signed_fen: np.ndarray
    purchases: np.ndarray
    purchase_counter_sum: np.ndarray
    loads: np.ndarray
    load_counter_sum: np.ndarray
    load_fen: np.ndarray

    @staticmethod
    def zeros(n: int) -> CardTally:
        return CardTally(*(np.zeros(n, np.int64) for _ in range(6)))

    def add(self, row: int, record: TransactionRecord) -> None:
        self.signed_fen[row] += record.signed_amount_fen
        if record.tx_type.is_load:
            self.loads[row] += 1
            self.load_fen[row] += record.amount_fen
            self.load_counter_sum[row] += record.counter
        else:
            self.purchases[row] += 1
            self.purchase_counter_sum[row] += record.counter


class RecordInbox:
    """Stands in for the clearing house until the back office is wired in (see module doc)."""

    name = "record-inbox (no clearing: back office not wired)"

    def __init__(self) -> None:
        self._seen: set[tuple[bytes, int]] = set()
        self.accepted_records = 0
        self.fen_by_sector: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()

    def receive(self, batch: Batch) -> None:
        key = (batch.terminal_id, batch.sequence)
        if key in self._seen:
            self.rejected["duplicate_batch"] += len(batch.records)
            return
        self._seen.add(key)
        sector = SECTORS[kind_of(batch.terminal_id) - 1]
        self.fen_by_sector[sector] += sum(r.amount_fen for r in batch.records)
        self.accepted_records += len(batch.records)

    def close_day(self, business_date: date) -> NightReport:
        return NightReport(
            port=self.name,
            accepted_records=self.accepted_records,
            accepted_fen_by_sector=dict(self.fen_by_sector),
            rejected_by_reason=dict(self.rejected),
        )
