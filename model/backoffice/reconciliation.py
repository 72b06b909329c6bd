"""The reconciliation report: card-side totals against the ledger against the banks.

Three independent views of the same money must agree:

- card side: what the terminals declared in their batch headers, per batch, equals what was
  cleared from the batch plus what is held in quarantine from it (for batches whose bytes are
  whole); and, when the caller knows them (a simulation does), the cards' own balances equal
  the float;
- ledger: the float equals the opening float (model.backoffice.opening_float) + cleared loads -
  cleared purchases - refunds - balances written off by replacement; each payable and
  receivable equals its participant's unsettled items; every posting balances;
- banks: every `bank:` transit account is flat after settlement, and what each bank captured
  for loads equals the loads cleared from its load terminals.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from model.backoffice.bank import Bank
from model.backoffice.gc_pause import paused_gc
from model.backoffice.ledger import Ledger
from model.backoffice.opening_float import opening_float_fen
from model.backoffice.registry import Registry, Sector
from model.money import format_fen
from model.records import RECORD_SIZE, decode_record

_SUMS = (
    "SELECT COALESCE(SUM(CASE WHEN tx_type IN (1, 2) THEN amount_fen END), 0), "
    "COALESCE(SUM(CASE WHEN tx_type NOT IN (1, 2) THEN amount_fen END), 0) FROM records"
)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    left_fen: int
    right_fen: int
    is_count: bool = False  # the two sides count records: printed as numbers, never as money

    @property
    def ok(self) -> bool:
        return self.left_fen == self.right_fen


@dataclass(slots=True)
class ReconciliationReport:
    checks: list[Check] = field(default_factory=list)
    held: dict[str, tuple[int, int]] = field(default_factory=dict)  # reason -> (count, fen)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def text(self) -> list[str]:
        out = ["reconciliation:"]
        for check in self.checks:
            mark = "ok" if check.ok else "MISMATCH"
            show = str if check.is_count else format_fen
            out.append(f"  {mark:<8} {check.name}: {show(check.left_fen)} vs {show(check.right_fen)}")
        for reason, (count, amount) in sorted(self.held.items()):
            out.append(f"  held     {reason}: {count} entries, {format_fen(amount)}")
        return out


def _table_exists(db: sqlite3.Connection, name: str) -> bool:
    return (
        db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        is not None
    )


def reconcile(
    ledger: Ledger,
    registry: Registry,
    card_balances_fen: int | None = None,
    bank_load_participants: dict[str, Bank] | None = None,
) -> ReconciliationReport:
    """Run every check over the clearing database behind `ledger`."""
    with paused_gc():
        return _reconcile(ledger, registry, card_balances_fen, bank_load_participants)


def _reconcile(
    ledger: Ledger,
    registry: Registry,
    card_balances_fen: int | None,
    bank_load_participants: dict[str, Bank] | None,
) -> ReconciliationReport:
    ledger.check()
    report = ReconciliationReport()
    report.checks += _float_checks(ledger, card_balances_fen)
    held_by_batch = _held(ledger.db, report.held)
    report.checks.append(_batches_check(ledger.db, held_by_batch))
    report.checks += _ledger_checks(ledger, registry)
    report.checks.append(_cleared_twice_check(ledger.db))
    report.checks += _bank_checks(ledger, bank_load_participants or {})
    return report


def _float_checks(ledger: Ledger, card_balances_fen: int | None) -> list[Check]:
    db = ledger.db
    loads, purchases = db.execute(_SUMS + " WHERE length(key) = 11").fetchone()
    refunds = written_off = 0
    if _table_exists(db, "card_events"):
        refunds, written_off = db.execute(
            "SELECT COALESCE(SUM(CASE WHEN kind = 'refund' THEN amount_fen END), 0), "
            "COALESCE(SUM(CASE WHEN kind = 'replace-out' THEN amount_fen END), 0) FROM card_events"
        ).fetchone()
    float_fen = -ledger.balance("float")
    opening = opening_float_fen(ledger)
    checks = [
        Check(
            "float = opening float + cleared loads - cleared purchases - refunds - replaced",
            float_fen,
            opening + loads - purchases - refunds - written_off,
        )
    ]
    if card_balances_fen is not None:
        checks.append(Check("float = balances on the live cards", float_fen, card_balances_fen))
    return checks


def _held(db: sqlite3.Connection, held: dict[str, tuple[int, int]]) -> dict[int, list[int]]:
    """Fill `held` (reason -> entries, fen) with what is still in quarantine; return the held
    amounts per batch, [loads, purchases], for the batch check."""
    held_by_batch: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    # Released entries are on the books as cleared records: nothing held to count or decode (a
    # night of small files releases most of its gap holds). O(quarantine), releases by its key.
    for qid, batch_id, index, reason, raw in db.execute(
        "SELECT id, batch_id, idx, reason, raw FROM quarantine q "
        "WHERE NOT EXISTS (SELECT 1 FROM releases r WHERE r.quarantine_id = q.id)"
    ):
        count_fen = held.get(reason, (0, 0))
        amount = 0
        # A record's own bytes (index >= 0) that decoded at ingest; a file's tail (index -1) of
        # a record's length is not a record (found by tests/test_fuzz.py).
        whole = index >= 0 and len(raw or b"") == RECORD_SIZE
        if raw is not None and reason not in ("corrupt-record", "truncated") and whole:
            record = decode_record(raw, f"quarantine {qid}", check_crc=False)
            amount = record.amount_fen
            held_by_batch[batch_id][0 if record.is_load else 1] += amount
        held[reason] = (count_fen[0] + 1, count_fen[1] + amount)
    return held_by_batch


def _batches_check(db: sqlite3.Connection, held_by_batch: dict[int, list[int]]) -> Check:
    """Card side, over the batches whose bytes are whole: declared = cleared + held.

    O(records + batches): the declared and the cleared totals are each one SUM over the whole
    batches (the check compares totals; summing per batch in Python first, 3,400 rows for a
    night of small files, cost as much as the rest of the reconciliation), the held ones come
    from the quarantine pass (`_held`). A query per batch, with no index on the record's batch,
    made the night's end quadratic."""
    broken_sql = "SELECT batch_id FROM quarantine WHERE idx = -1 OR reason = 'corrupt-record'"
    declared, cleared = db.execute(
        "SELECT (SELECT COALESCE(SUM(declared_load_fen + declared_purchase_fen), 0) FROM batches "
        f"WHERE id NOT IN ({broken_sql})), "
        "(SELECT COALESCE(SUM(amount_fen), 0) FROM records "
        f"WHERE batch_id IN (SELECT id FROM batches WHERE id NOT IN ({broken_sql})))"
    ).fetchone()
    # A quarantine row's batch is always a batches row: both are staged and written together
    # (model.backoffice.stage).
    broken = {int(row[0]) for row in db.execute(broken_sql)}
    held = sum(sum(fen) for batch_id, fen in held_by_batch.items() if batch_id not in broken)
    return Check("declared in whole batches = cleared + held from them", int(declared), int(cleared) + held)


def _ledger_checks(ledger: Ledger, registry: Registry) -> list[Check]:
    """The ledger against the unsettled items, per participant."""
    db = ledger.db
    unsettled_sql = "SELECT participant, tx_type IN (1, 2), SUM(amount_fen) FROM records r"
    if _table_exists(db, "settled"):
        unsettled_sql += " WHERE NOT EXISTS (SELECT 1 FROM settled s WHERE s.record_id = r.id)"
    owed: dict[str, int] = defaultdict(int)
    for participant, is_load, amount in db.execute(unsettled_sql + " GROUP BY 1, 2"):
        owner = registry.participants.get(participant)
        if is_load:
            if owner is not None and owner.sector is Sector.TRANSFER:
                continue  # reloads of replaced cards post to `transfer`, checked on its own below
            owed[f"receivable:{participant}"] += amount
        else:
            owed[f"payable:{participant}"] -= amount
    book = {**ledger.balances("payable:"), **ledger.balances("receivable:")}
    difference = sum(abs(book.get(k, 0) - owed.get(k, 0)) for k in set(book) | set(owed))
    return [
        Check("payables and receivables = unsettled items (total difference)", difference, 0),
        Check("transfer account (replaced balances not yet reloaded)", ledger.balance("transfer"), 0),
    ]


def _cleared_twice_check(db: sqlite3.Connection) -> Check:
    # Exactly once, by identity: a purchase's PSAM serial, any other record's key (the unique
    # indexes guard it; this proves it). A released counter-conflict shares a card key, not a serial.
    twice = db.execute(
        "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM records WHERE tx_type IN (5, 6, 9) "
        "GROUP BY terminal_id, serial HAVING COUNT(*) > 1)) + (SELECT COUNT(*) FROM (SELECT 1 FROM "
        "records WHERE tx_type NOT IN (5, 6, 9) GROUP BY key HAVING COUNT(*) > 1))"
    )
    return Check("records cleared twice (count)", int(twice.fetchone()[0]), 0, is_count=True)


def _bank_checks(ledger: Ledger, bank_load_participants: dict[str, Bank]) -> list[Check]:
    """Transit flat; each bank's captured loads against its participant's cleared loads, from
    one pass over the cleared loads (a query per bank cost a pass over the records each):
    O(records + banks)."""
    transit = sum(abs(v) for v in ledger.balances("bank:").values())
    checks = [Check("bank transit accounts flat after settlement", transit, 0)]
    if not bank_load_participants:
        return checks
    loads_by_participant = {
        participant: int(fen)
        for participant, fen in ledger.db.execute(
            "SELECT participant, SUM(amount_fen) FROM records WHERE tx_type IN (1, 2) GROUP BY participant"
        )
    }
    for participant, bank in sorted(bank_load_participants.items()):
        cleared_loads = loads_by_participant.get(participant, 0)
        checks.append(
            Check(
                f"{bank.name} captured for loads = cleared loads of {participant}",
                bank.captured_fen,
                cleared_loads,
            )
        )
    return checks
