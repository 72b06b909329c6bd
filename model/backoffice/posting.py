"""Posting one batch: its cleared records and the one ledger posting that carries them.

Loads post `Dr receivable:<recharge point> / Cr float` (`Dr transfer` for a replaced card's
balance reloaded at the operator's transfer window); purchases `Dr float /
Cr payable:<participant>`, aggregated per batch (each record row names the posting that
carries it, so every record is on the ledger exactly once). A batch of 0-fen records (metro
entries) clears its records, spends their counters, and posts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from model.backoffice.house import House
from model.backoffice.stage import RecordRow
from model.backoffice.terms import IngestReport, day_int


@dataclass(slots=True)
class BatchPosting:
    """One batch's records on their way to the ledger: one participant, one posting."""

    batch_id: int
    participant: str
    debit_account: str  # of the loads: the recharge point's receivable, or `transfer`
    posting_id: int  # the stage's next posting id: nothing is posted between the checks and here
    rows: list[RecordRow] = field(default_factory=list)
    load_fen: int = 0
    purchase_fen: int = 0


def stage_batch_posting(
    house: House, name: str, clearing_day: date, posting: BatchPosting, report: IngestReport
) -> None:
    """Stage the batch's posting and its record rows (nothing when no record cleared)."""
    if not posting.rows:
        return
    lines = [
        (posting.debit_account, posting.load_fen),
        ("float", -posting.load_fen),
        ("float", posting.purchase_fen),
        (f"payable:{posting.participant}", -posting.purchase_fen),
    ]
    rows = posting.rows
    if posting.load_fen or posting.purchase_fen:  # a line is non-zero
        posting_id = house.stage.post(day_int(clearing_day), f"batch {posting.batch_id} {name}", lines)
        assert posting_id == posting.posting_id, "the rows named the posting before it was made"
    else:
        rows = [(*row[:8], 0, *row[9:]) for row in rows]  # no posting carries them
    house.stage.records += rows
    report.posted = len(posting.rows)
    report.posted_load_fen = posting.load_fen
    report.posted_purchase_fen = posting.purchase_fen
    # Money is conserved through the checks: what went in is what the posting carries.
    assert posting.load_fen + posting.purchase_fen == sum([row[4] for row in posting.rows])
