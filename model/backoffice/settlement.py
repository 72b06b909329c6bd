"""Daily T+1 settlement: who pays whom for the records cleared, after the operator's fees.

The settlement of business day S covers every cleared item (card record or account payment)
dated S-1 or earlier that no settlement covered yet (so a late upload settles the next day, and
never twice: `settled.key` is a primary key). Per participant:

    purchase takings  gross G (records n)  -> fee F by the sector's schedule, net G - F owed to it
    loads collected   L                     -> owed by it (cash window, bank 圈存) to the reserve

Positions (+ receives, - pays): each participant `G - F - L`; the reserve (备付金 at the
custodian bank) `sum(L) - sum(G - F)`. They sum to zero (asserted). Fees stay in the reserve as
the operator's revenue (ledger account `fees`).

Ledger, one posting each:
- accrual: `Dr payable:p G, Cr fees F, Cr bank:<p's bank> G-F` and `Dr bank:<q's bank> L,
  Cr receivable:q L`;
- execution of the instructions: per bank, `Dr bank:B, Cr reserve` for what the reserve pays
  it (or the reverse for what it pays in), which brings every `bank:B` back to zero.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from model.backoffice.fees import FeeSchedule
from model.backoffice.gc_pause import paused_gc
from model.backoffice.ledger import Ledger
from model.backoffice.registry import Registry, Sector
from model.backoffice.terms import day_int
from model.errors import CardTwinError
from model.money import format_fen

RESERVE = "reserve"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settlements (
    id INTEGER PRIMARY KEY,
    business_day INTEGER NOT NULL UNIQUE,
    through_day INTEGER NOT NULL,
    floor_record_id INTEGER         -- every record below this id is settled: the next run starts here
);
CREATE TABLE IF NOT EXISTS settled (
    record_id INTEGER PRIMARY KEY,  -- records.id: a cleared item is settled once, by construction
    settlement_id INTEGER NOT NULL REFERENCES settlements(id)
);
CREATE TABLE IF NOT EXISTS settlement_lines (
    settlement_id INTEGER NOT NULL,
    participant TEXT NOT NULL,
    bank TEXT NOT NULL,
    loads_fen INTEGER NOT NULL,
    load_count INTEGER NOT NULL,
    gross_fen INTEGER NOT NULL,
    purchase_count INTEGER NOT NULL,
    fee_fen INTEGER NOT NULL,
    position_fen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS instructions (
    settlement_id INTEGER NOT NULL,
    bank TEXT NOT NULL,
    amount_fen INTEGER NOT NULL   -- + the reserve pays the bank, - the bank pays the reserve
);
"""


class SettlementError(CardTwinError):
    """A settlement that cannot be run (a day settled already, an unknown participant)."""


@dataclass(frozen=True, slots=True)
class ParticipantLine:
    participant: str
    bank: str
    loads_fen: int
    load_count: int
    gross_fen: int
    purchase_count: int
    fee_fen: int
    position_fen: int


@dataclass(slots=True)
class SettlementReport:
    business_day: date
    through_day: int
    lines: list[ParticipantLine] = field(default_factory=list)
    reserve_position_fen: int = 0
    instructions: dict[str, int] = field(default_factory=dict)
    items: int = 0

    @property
    def fees_fen(self) -> int:
        return sum(line.fee_fen for line in self.lines)

    def text(self) -> list[str]:
        out = [
            f"settlement {self.business_day} (T+1, items dated to {self.through_day}): {self.items} items",
            f"  {'participant':<20} {'bank':<8} {'loads':>12} {'gross':>12} {'n':>6} {'fee':>10} "
            f"{'position':>12}",
        ]
        for line in self.lines:
            out.append(
                f"  {line.participant:<20} {line.bank:<8} {format_fen(line.loads_fen):>12} "
                f"{format_fen(line.gross_fen):>12} {line.purchase_count:>6} {format_fen(line.fee_fen):>10} "
                f"{format_fen(line.position_fen):>12}"
            )
        out.append(f"  {'reserve (custodian)':<20} {'':<8} {'':>12} {'':>12} {'':>6} {'':>10} "
                   f"{format_fen(self.reserve_position_fen):>12}")  # fmt: skip
        out.append(f"  fees kept by the operator: {format_fen(self.fees_fen)}")
        for bank, amount in sorted(self.instructions.items()):
            way = f"reserve pays {bank}" if amount >= 0 else f"{bank} pays reserve"
            out.append(f"  instruction: {way} {format_fen(abs(amount))}")
        return out


class Settlement:
    """Runs the daily settlement over a clearing database."""

    def __init__(self, ledger: Ledger, registry: Registry, fees: FeeSchedule) -> None:
        self.ledger = ledger
        self.db: sqlite3.Connection = ledger.db
        self.registry = registry
        self.fees = fees
        self.db.executescript(_SCHEMA)

    def run(self, business_day: date) -> SettlementReport:
        """Settle every unsettled item dated before `business_day`. Once per day."""
        if self.db.execute(
            "SELECT 1 FROM settlements WHERE business_day = ?", (day_int(business_day),)
        ).fetchone():
            raise SettlementError(f"settlement {business_day}: already run")
        with paused_gc(), self.ledger.transaction():
            return self._run(business_day)

    def _run(self, business_day: date) -> SettlementReport:
        through = day_int(business_day - timedelta(days=1))
        cursor = self.db.execute(
            "INSERT INTO settlements(business_day, through_day) VALUES (?, ?)",
            (day_int(business_day), through),
        )
        settlement_id = cursor.lastrowid
        assert settlement_id is not None
        cursor = self.db.execute(
            "INSERT INTO settled(record_id, settlement_id) SELECT id, ? FROM records r WHERE r.day <= ? "
            "AND NOT EXISTS (SELECT 1 FROM settled s WHERE s.record_id = r.id)",
            (settlement_id, through),
        )
        report = SettlementReport(business_day, through, items=cursor.rowcount)
        accrual: list[tuple[str, int]] = []
        by_bank: dict[str, int] = defaultdict(int)
        for participant_id, totals in sorted(self._totals(settlement_id).items()):
            line, postings = self._line(business_day, participant_id, totals)
            report.lines.append(line)
            accrual += postings
            if postings:
                by_bank[line.bank] += line.position_fen
        report.reserve_position_fen = -sum(line.position_fen for line in report.lines)
        # Net positions sum to zero: what the participants receive, the reserve pays.
        assert report.reserve_position_fen + sum(line.position_fen for line in report.lines) == 0
        report.instructions = {bank: amount for bank, amount in by_bank.items() if amount}
        assert sum(report.instructions.values()) == -report.reserve_position_fen
        self._post(business_day, accrual, report.instructions)
        for bank in by_bank:
            assert self.ledger.balance(f"bank:{bank}") == 0, f"bank:{bank} not flat after settlement"
        self._store(settlement_id, report)
        return report

    def _totals(self, settlement_id: int) -> dict[str, list[int]]:
        """Per participant: [loads fen, load count, purchases fen, purchase count] settled now."""
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for participant, is_load, amount, count in self.db.execute(
            "SELECT r.participant, r.tx_type IN (1, 2), SUM(r.amount_fen), COUNT(*) FROM settled s "
            "JOIN records r ON r.id = s.record_id WHERE s.settlement_id = ? GROUP BY 1, 2 ORDER BY 1, 2",
            (settlement_id,),
        ):
            slot = totals[participant]
            offset = 0 if is_load else 2
            slot[offset] += amount
            slot[offset + 1] += count
        return totals

    def _line(
        self, business_day: date, participant_id: str, totals: list[int]
    ) -> tuple[ParticipantLine, list[tuple[str, int]]]:
        """One participant's settlement line and the accrual postings it needs."""
        participant = self.registry.participants.get(participant_id)
        if participant is None:
            raise SettlementError(f"settlement {business_day}: participant {participant_id!r} not registered")
        loads, load_count, gross, purchase_count = totals
        if participant.sector is Sector.TRANSFER:
            # A replaced card's balance reloaded: the money never left the float, nobody pays.
            assert gross == 0
            return ParticipantLine(participant_id, participant.bank, loads, load_count, 0, 0, 0, 0), []
        fee = self.fees.fee_fen(participant.sector, gross, purchase_count) if gross else 0
        if participant.sector is Sector.LOAD:
            assert fee == 0
        position = gross - fee - loads
        line = ParticipantLine(
            participant_id, participant.bank, loads, load_count, gross, purchase_count, fee, position
        )
        return line, [
            (f"payable:{participant_id}", gross),
            ("fees", -fee),
            (f"bank:{participant.bank}", -(gross - fee)),
            (f"bank:{participant.bank}", loads),
            (f"receivable:{participant_id}", -loads),
        ]

    def _post(self, business_day: date, accrual: list[tuple[str, int]], instructions: dict[str, int]) -> None:
        day = day_int(business_day)
        if any(amount for _, amount in accrual):
            self.ledger.post(day, f"settlement {business_day}: accrual", accrual)
        execution: list[tuple[str, int]] = []
        for bank, amount in instructions.items():
            execution += [(f"bank:{bank}", amount), (RESERVE, -amount)]
        if execution:
            self.ledger.post(day, f"settlement {business_day}: instructions executed", execution)

    def _store(self, settlement_id: int, report: SettlementReport) -> None:
        self.db.executemany(
            "INSERT INTO settlement_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    settlement_id,
                    ln.participant,
                    ln.bank,
                    ln.loads_fen,
                    ln.load_count,
                    ln.gross_fen,
                    ln.purchase_count,
                    ln.fee_fen,
                    ln.position_fen,
                )
                for ln in report.lines
            ],
        )
        self.db.executemany(
            "INSERT INTO instructions VALUES (?, ?, ?)",
            [(settlement_id, bank, amount) for bank, amount in sorted(report.instructions.items())],
        )
