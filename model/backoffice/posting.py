"""Posting a group's batches: their cleared records and the ledger postings that carry them.

Loads post `Dr receivable:<recharge point> / Cr float` (`Dr transfer` for a replaced card's
balance reloaded at the operator's transfer window); purchases `Dr float /
Cr payable:<participant>`, aggregated per participant over the group of files that commit
together (model.backoffice.clearing): each record row names the posting that carries it (and
the batch that brought it), so every record is on the ledger exactly once. A group of one file
(`ingest_file`) posts per batch, as before; a night of 5-record files paid a posting and its
entries per file (half of what a file's records cost to write). A batch of 0-fen records (metro
entries) clears its records, spends their counters, and posts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from model.backoffice.house import House
from model.backoffice.stage import BatchMoney, RecordRow
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
    """Stage the batch's record rows and its money for its participant's posting of the group
    (`stage_group_postings`); nothing when no record cleared. O(records)."""
    if not posting.rows:
        return
    rows = posting.rows
    stage = house.stage
    if posting.load_fen or posting.purchase_fen:  # money moves
        posting_id = stage.posting_of.get(posting.participant)
        if posting_id is None:
            posting_id = stage.posting_of[posting.participant] = stage.reserve_posting()
        assert posting_id == posting.posting_id, "the rows named the posting before it was made"
        stage.batch_money.append(
            (
                posting_id,
                posting.participant,
                posting.debit_account,
                posting.batch_id,
                name,
                posting.load_fen,
                posting.purchase_fen,
            )
        )
    else:
        rows = [(*row[:8], 0, *row[9:]) for row in rows]  # no posting carries them
    stage.records += rows
    report.posted = len(posting.rows)
    report.posted_load_fen = posting.load_fen
    report.posted_purchase_fen = posting.purchase_fen
    # Money is conserved through the checks: what went in is what the posting carries.
    assert posting.load_fen + posting.purchase_fen == sum([row[4] for row in posting.rows])


def posting_id_for(house: House, participant: str) -> int:
    """The posting a batch of `participant` will name in its record rows: its posting of the
    group, or the next id (reserved by `stage_batch_posting` if the batch moves money)."""
    posting_id = house.stage.posting_of.get(participant)
    return house.stage.posting_id_next if posting_id is None else posting_id


def stage_group_postings(house: House, clearing_day: date) -> None:
    """The group's postings: one per participant whose batches moved money, its lines the sums
    of those batches (money is conserved: each batch's sum was checked against its rows). The
    memo names the first batch and how many more. O(batches)."""
    stage = house.stage
    if not stage.batch_money:
        return
    by_posting: dict[int, list[BatchMoney]] = {}
    for money in stage.batch_money:
        by_posting.setdefault(money[0], []).append(money)
    day = day_int(clearing_day)
    for posting_id, items in sorted(by_posting.items()):
        _, participant, debit, batch_id, name, _, _ = items[0]
        loads = sum(item[5] for item in items)
        purchases = sum(item[6] for item in items)
        memo = f"batch {batch_id} {name}" + (f" and {len(items) - 1} more" if len(items) > 1 else "")
        lines = [
            (debit, loads),
            ("float", -loads),
            ("float", purchases),
            (f"payable:{participant}", -purchases),
        ]
        stage.post_reserved(posting_id, day, memo, lines)
    stage.batch_money.clear()
    stage.posting_of.clear()
