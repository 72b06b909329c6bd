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

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import numpy as np

from devices.card_os import COUNTER_MAX
from model.backoffice import Bank, Registry, SettlementReport, book_opening_float, reconcile
from model.backoffice.gc_pause import paused_gc
from model.records import (
    HEADER_SIZE,
    RECORD_HEAD,
    RECORD_SIZE,
    TransactionRecord,
    TxType,
    decode_record,
    read_body,
    write_batch_body,
)
from model.security import IssuerKeys
from sim.city import SECTORS, kind_of, load_participant
from sim.day.back_office import BackOffice

BATCH_RECORDS_MAX = 200_000  # a terminal journal's size: a batch is at most one full journal


@dataclass(frozen=True, slots=True)
class Batch:
    """One upload: a terminal's drained journal, its records in the upload format as the
    journal held them (`Journal.drain_wire`). (terminal_id, sequence) identifies it."""

    terminal_id: bytes
    sequence: int
    wire: bytes  # the records, RECORD_SIZE bytes each: the batch file's body
    sent_s: float

    def __post_init__(self) -> None:
        assert len(self.wire) % RECORD_SIZE == 0 and self.count <= BATCH_RECORDS_MAX

    @property
    def count(self) -> int:
        return len(self.wire) // RECORD_SIZE

    @property
    def records(self) -> list[TransactionRecord]:
        """The records decoded (for checks and fault injectors; the day's ports read `wire`)."""
        return read_body(self.wire, f"upload {self.terminal_id.hex()}-{self.sequence}")

    def amounts_fen(self) -> int:
        """The sum of the records' amounts, loads and purchases alike."""
        return sum(head[2] for head in RECORD_HEAD.iter_unpack(self.wire))


@dataclass(slots=True)
class NightReport:
    port: str
    accepted_records: int
    accepted_fen_by_sector: dict[str, int]
    rejected_by_reason: dict[str, int]
    settled_records: int | None = None  # None: this port does not settle
    positions_fen: dict[str, int] = field(default_factory=dict)
    # The back office's night, from opening the database to the last check: ingest, end-of-night
    # gap releases, settlement, reconciliation and the twin's books checks.
    night_cpu_s: float = 0.0
    night_wall_s: float = 0.0
    batches: int = 0
    batch_records: int = 0  # records in the uploads, held or cleared


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
        """Each column in the narrowest dtype no card's day can overflow (a row is one card):
        - counts: a card refuses a transaction once a counter reaches COUNTER_MAX (0xFFFF), so
          its e-purse and e-deposit each make at most 0xFFFF records of a kind: int32;
        - counter sums: one application's counters are each of 0..0xFFFE at most once, summing
          to at most 0xFFFF * 0xFFFE / 2 (just under 2**31), two applications' to under 2**32:
          uint32;
        - fen: a record's amount is up to the card's cap (<= 2**31 - 1) and a day may hold many,
          so a sum of them has no bound under 2**31: int64.
        (Six int64 columns took 48 bytes a citizen; these take 32.)"""
        assert np.iinfo(np.uint32).max >= 2 * (COUNTER_MAX * (COUNTER_MAX - 1) // 2)
        assert np.iinfo(np.int32).max >= 2 * COUNTER_MAX
        return CardTally(
            signed_fen=np.zeros(n, np.int64),
            purchases=np.zeros(n, np.int32),
            purchase_counter_sum=np.zeros(n, np.uint32),
            loads=np.zeros(n, np.int32),
            load_counter_sum=np.zeros(n, np.uint32),
            load_fen=np.zeros(n, np.int64),
        )

    def add(self, row: int, record: TransactionRecord) -> None:
        self.add_fields(row, record.tx_type, record.amount_fen, record.counter)

    def add_fields(self, row: int, tx_type: int, amount_fen: int, counter: int) -> None:
        """`add` from a record's fields as an upload carries them (`RECORD_HEAD`)."""
        if tx_type in _LOAD_TYPES:
            self.signed_fen[row] += amount_fen
            self.loads[row] += 1
            self.load_fen[row] += amount_fen
            self.load_counter_sum[row] += counter
        else:
            self.signed_fen[row] -= amount_fen
            self.purchases[row] += 1
            self.purchase_counter_sum[row] += counter


_LOAD_TYPES = (int(TxType.ED_LOAD), int(TxType.EP_LOAD))


class RecordInbox:
    """Stands in for the clearing house until the back office is wired in (see module doc)."""

    name = "record-inbox (no clearing: back office not wired)"

    def __init__(self) -> None:
        # The sequences seen, by terminal, as the bits of one int (a terminal numbers its batches
        # 0, 1, 2, ..., so a day's are a few hundred bits): a set of them cost ~60 bytes a batch,
        # a (terminal, sequence) tuple ~100.
        self._seen: dict[bytes, int] = {}
        self.accepted_records = 0
        self.fen_by_sector: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()

    def receive(self, batch: Batch) -> None:
        seen = self._seen.get(batch.terminal_id, 0)
        if seen >> batch.sequence & 1:
            self.rejected["duplicate_batch"] += batch.count
            return
        self._seen[batch.terminal_id] = seen | 1 << batch.sequence
        sector = SECTORS[kind_of(batch.terminal_id) - 1]
        self.fen_by_sector[sector] += batch.amounts_fen()
        self.accepted_records += batch.count

    def close_day(self, business_date: date) -> NightReport:
        return NightReport(
            port=self.name,
            accepted_records=self.accepted_records,
            accepted_fen_by_sector=dict(self.fen_by_sector),
            rejected_by_reason=dict(self.rejected),
        )


# -- the real back office ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Upload:
    """One batch file as the terminal sent it, in the back office's upload format."""

    arrived_s: float
    shard: int
    order: int
    name: str
    raw: bytes


class BatchCollector:
    """The clearing port of a shard when the back office clears: each upload is written as a
    batch file (`model.records.batch.write_batch`) and kept until the night, when every shard's files are
    ingested at one clearing house (`clear_night`). A resent batch is the same bytes again."""

    name = "back office (clearing house, ledger, T+1 settlement)"

    def __init__(self, shard: int, day_start: datetime, psam_of: Callable[[bytes], bytes]) -> None:
        self.shard = shard
        self.day_start = day_start
        self.psam_of = psam_of
        self.uploads: list[Upload] = []
        self._records: dict[tuple[bytes, int], int] = {}

    def receive(self, batch: Batch) -> None:
        created = self.day_start + timedelta(seconds=batch.sent_s)
        raw = write_batch_body(
            batch.terminal_id, self.psam_of(batch.terminal_id), batch.sequence + 1, created, batch.wire
        )
        name = f"{self.shard:02d}-{len(self.uploads):08d}-{batch.terminal_id.hex()}-{batch.sequence:06d}.ctb"
        self.uploads.append(Upload(batch.sent_s, self.shard, len(self.uploads), name, raw))
        self._records[(batch.terminal_id, batch.sequence)] = batch.count

    def close_day(self, business_date: date) -> NightReport:
        # The shard's part ends here: the files go to the one clearing house (`clear_night`).
        return NightReport(
            port=self.name,
            accepted_records=sum(self._records.values()),
            accepted_fen_by_sector={},
            rejected_by_reason={},
        )


@dataclass(slots=True)
class NightCheck:
    name: str
    ok: bool
    detail: str


@paused_gc()
def clear_night(
    db_path: Path,
    business_date: date,
    registry: Registry,
    issuer_keys: IssuerKeys,
    uploads: list[Upload],
    sent_records: int,
    card_balances_fen: int,
    in_terminals_net_fen: int,
    bank_captured_fen: dict[str, int],
    opening_float_fen: int,
) -> tuple[NightReport, list[NightCheck], SettlementReport, list[str]]:
    """The night: every shard's uploads, in arrival order, into one clearing house; then T+1
    settlement of the day and the back office's reconciliation, plus the twin's own checks of
    the clearing house's books against the cards.

    `opening_float_fen`, the balances the cards held before the day, is booked first as the
    opening float (model.backoffice.opening_float): a liability carried in, not a load, so the
    day's settlement moves only the day's money.

    The cycle collector is paused for the whole night (model.backoffice.gc_pause): paused only
    inside each group of files, it walked every object a group had left alive at the first
    allocation after it, and again when they reached the next generation (11 collections,
    2.5% of a twin night's CPU); the night makes no reference cycle, and its survivors are
    walked once, by the first collection after it."""
    started_s, started_cpu_s = time.perf_counter(), time.process_time()
    office = BackOffice.open(db_path, registry, issuer_keys)
    book_opening_float(office.ledger, business_date, opening_float_fen)
    arrivals = sorted(uploads, key=lambda u: (u.arrived_s, u.shard, u.order))
    reports = office.clearing.ingest_files(((u.name, u.raw) for u in arrivals), business_date)
    settlement = office.settlement.run(business_date + timedelta(days=1))
    banks = {load_participant(name): Bank(name, captured_fen=fen) for name, fen in bank_captured_fen.items()}
    reconciliation = reconcile(office.ledger, registry, None, banks)
    books = _read_books(office, settlement)
    checks = [
        NightCheck(f"reconciliation: {c.name}", c.ok, f"{c.left_fen} vs {c.right_fen}")
        for c in reconciliation.checks
    ]
    checks += _books_checks(books, sent_records, card_balances_fen, in_terminals_net_fen)
    already = sum(1 for r in reports if r.already_ingested)
    report = NightReport(
        port=BatchCollector.name,
        accepted_records=books.card_records,
        accepted_fen_by_sector={},
        rejected_by_reason={
            **books.held_by_reason,
            **({"batch-already-ingested": already} if already else {}),
        },
        settled_records=settlement.items,
        positions_fen=books.positions_fen,
        batches=len(uploads),
        batch_records=sum(max(0, len(u.raw) - HEADER_SIZE) // RECORD_SIZE for u in uploads),
    )
    office.close()
    report.night_cpu_s = time.process_time() - started_cpu_s
    report.night_wall_s = time.perf_counter() - started_s
    return report, checks, settlement, reconciliation.text()


# Quarantined for one of these, a record is still a card's own transaction: its money moved on
# the card, only the clearing house has not cleared it yet.
_HELD_CARD_RECORD_REASONS = ("counter-gap", "serial-gap", "no-proof", "older-than-cutoff", "counter-conflict")


@dataclass(frozen=True, slots=True)
class _Books:
    """The clearing house's books after the night, as the twin reads them."""

    card_records: int  # card records cleared (key: ASN, family, counter)
    account_records: int  # account payments cleared (a longer key)
    held_by_reason: dict[str, int]  # every quarantine entry not released
    held_card_records: int
    held_card_net_fen: int
    float_fen: int
    positions_fen: dict[str, int]  # each participant's settlement position, and the reserve's
    settled_items: int


def _read_books(office: BackOffice, settlement: SettlementReport) -> _Books:
    db = office.ledger.db
    # Card records have 11-byte keys, account payments longer ones: both counted in one pass.
    card_records, account_records = (
        int(n or 0)
        for n in db.execute("SELECT SUM(length(key) = 11), SUM(length(key) != 11) FROM records").fetchone()
    )
    held: Counter[str] = Counter()
    for _qid, reason, _detail in office.clearing.held():
        held[reason] += 1
    held_card_records = 0
    held_card_net_fen = 0
    for raw, reason in db.execute(
        "SELECT raw, reason FROM quarantine WHERE id NOT IN (SELECT quarantine_id FROM releases)"
    ):
        if reason in _HELD_CARD_RECORD_REASONS and raw is not None:
            record = decode_record(raw, "quarantine")
            held_card_records += 1
            held_card_net_fen += record.amount_fen if record.is_load else -record.amount_fen
    positions_fen = {line.participant: line.position_fen for line in settlement.lines}
    positions_fen["reserve"] = settlement.reserve_position_fen
    return _Books(
        card_records=card_records,
        account_records=account_records,
        held_by_reason=dict(held),
        held_card_records=held_card_records,
        held_card_net_fen=held_card_net_fen,
        float_fen=-office.ledger.balance("float"),
        positions_fen=positions_fen,
        settled_items=settlement.items,
    )


def _books_checks(
    books: _Books, sent_records: int, card_balances_fen: int, in_terminals_net_fen: int
) -> list[NightCheck]:
    """The clearing house's books against the day: the records uploaded and the cards' money."""
    positions = books.positions_fen
    return [
        NightCheck(
            "every uploaded record cleared once or held for review",
            books.card_records + books.held_card_records == sent_records,
            f"uploaded {sent_records}, cleared {books.card_records}, held {books.held_card_records}",
        ),
        NightCheck(
            "ledger float + records not yet cleared = balances on the cards",
            books.float_fen + books.held_card_net_fen + in_terminals_net_fen == card_balances_fen,
            f"float {books.float_fen} + held {books.held_card_net_fen} + in terminals {in_terminals_net_fen} "
            f"vs cards {card_balances_fen}",
        ),
        NightCheck(
            "settlement positions net to zero",
            sum(positions.values()) == 0,
            f"sum {sum(positions.values())} over {len(positions)} positions",
        ),
        NightCheck(
            "every cleared record of the day settled once",
            books.settled_items == books.card_records + books.account_records,
            f"settled {books.settled_items}, cleared {books.card_records}",
        ),
    ]
