"""Holding records in quarantine, and releasing those whose gap a later upload closed.

A held record is staged as a quarantine row with its reason and bytes; one held for a gap is
also remembered (`identity.Spent.hold_gap`) by the number it waits for, so that the upload
carrying that number finds it at once. A reused serial or a spent counter under a valid TAC is
someone's dishonesty or a clone: an alert for a person, kept beside the hold.

A no-proof hold asks whether its transaction happened; the TAC-proven record that spends its
serial or counter answers it: the hold is closed at once as superseded (a rejections row whose
note names what took its identity), since no review could ever post it. If the proven record
is another transaction (another card at that serial, or the card's counter spent elsewhere), the
no-proof record was someone's invention: an alert too.

Releasing is posting: the record gets its own ledger posting (memo `release quarantine N`), a
records row under the batch that brought it, and a releases row naming the posting, all staged
with the group that closed the gap (model.backoffice.stage), so they commit or vanish with it.
"""

from __future__ import annotations

from collections import deque
from datetime import date
from typing import NamedTuple

from model.backoffice.clearing_schema import record_identity
from model.backoffice.house import House
from model.backoffice.registry import Sector
from model.backoffice.terms import (
    FAMILY_BYTE,
    LOAD_TYPES,
    ClearingError,
    IngestReport,
    Reason,
    day_int,
    record_key,
)
from model.records import WireRecord

QUARANTINE_MAX = 1_000_000

GAP_CLOSED_NOTE = "gap closed by a later upload"
Release = tuple[int, WireRecord, str, int]  # quarantine id, record, participant, batch id
# Tuples, not sets: `in` a tuple compares by identity, a set would call Enum's Python __hash__.
_ALERTING = (Reason.SERIAL_REUSED, Reason.COUNTER_CONFLICT)
_GAPS = (Reason.COUNTER_GAP, Reason.SERIAL_GAP)


class Held(NamedTuple):
    """One record (or a whole file, index -1) on its way to quarantine. (A tuple: a night of
    small files holds thousands of records for gaps, and a frozen dataclass costs three times
    as much to make.)"""

    position: int  # in the batch, from 0 (`index` would hide the tuple's method)
    reason: Reason
    detail: str
    chunk: bytes | None  # the record's bytes; None for a whole file (its bytes go on the batch row)
    key: bytes | None  # the card key it keeps: those that may still be posted (or close a gap)
    record: WireRecord | None = None


def stage_holds(house: House, batch_id: int, participant: str, held: list[Held]) -> None:
    """Stage the quarantine rows of one batch; remember its gap holds. O(held)."""
    if not held:
        return
    if house.quarantine_rows + len(held) > QUARANTINE_MAX:
        raise ClearingError(
            f"quarantine would exceed {QUARANTINE_MAX} entries: review it before ingesting more"
        )
    first = house.stage.quarantine_ids(len(held))
    house.stage.quarantine += [
        (first + n, batch_id, h.position, h.reason.value, h.detail, h.chunk, h.key)
        for n, h in enumerate(held)
    ]
    house.quarantine_rows += len(held)
    for n, h in enumerate(held):
        if h.record is None or h.key is None:
            continue
        if h.reason in _GAPS:
            house.spent.hold_gap(first + n, h.reason.value, h.record, participant, batch_id)
        elif h.reason is Reason.NO_PROOF:
            house.spent.hold_no_proof(first + n, h.record)


SUPERSEDED_NOTE = "superseded"


def stage_superseded(house: House, batch_id: int, touched: list[WireRecord]) -> tuple[int, list[str]]:
    """Close every undecided no-proof hold whose serial or counter `touched` (records just
    spent, or just held) gave to a TAC-proven record: how many, and the alerts (another card's
    record holds the serial). O(touched + closed)."""
    spent = house.spent
    closed = spent.superseded(touched)
    alerts: list[str] = []
    for qid, record, why in closed:
        house.stage.rejections.append((qid, f"{SUPERSEDED_NOTE}: {why}"))
        # A load is known by its counter alone, so a proven load with it is this transaction; a
        # purchase is this transaction only if its serial's proven record is this card's counter.
        holder = None if record.is_load else spent.serials[record.terminal_id].get(record.terminal_serial)
        if not record.is_load and holder != record_key(record.asn, record.tx_type, record.counter):
            detail = f"no-proof quarantine {qid} contradicts a TAC-proven record: {why}"
            house.stage.alerts.append((batch_id, Reason.SERIAL_REUSED.value, detail))
            alerts.append(f"{Reason.SERIAL_REUSED.value}: {detail}")
        spent.drop_no_proof(qid)
    return len(closed), alerts


def stage_alerts(house: House, batch_id: int, report: IngestReport) -> None:
    for reason, detail in report.quarantined:
        if reason in _ALERTING:
            report.alerts.append(f"{reason.value}: {detail}")
            house.stage.alerts.append((batch_id, reason.value, detail))


def release_closed_gaps(
    house: House, clearing_day: date, touched: list[tuple[int, bytes, WireRecord]] | None = None
) -> int:
    """Post every held gap that `touched` (a batch's parsed records: index, wire bytes,
    record) closed, and the gaps those close in turn; all held gaps when `touched` is None
    (after a review).

    O(touched + released): a held gap is found by the counter or serial it waits for, never
    by scanning every held gap at every batch (which made the night quadratic). Memory takes
    each release at once (the batch's next records and the next file see it); the rows of a
    batch's releases wait on the stage (`Stage.gap_releases`) and the whole group's share one
    posting per participant (`stage_gap_releases`). After a review they are staged at once."""
    spent = house.spent
    if not spent.held_gaps:
        return 0
    queue = deque(sorted(spent.held_gaps) if touched is None else spent.waiting_on_wire(touched))
    released: list[Release] = []
    while queue:
        qid = queue.popleft()
        entry = spent.held_gaps.get(qid)
        if entry is None or spent.gap_open(entry[1]):
            continue
        _, record, participant, batch_id, _ = entry
        _spend(house, qid, record)
        released.append((qid, record, participant, batch_id))
        queue.extend(spent.waiting_on([record]))
    if touched is None:
        stage_releases(house, released, clearing_day, GAP_CLOSED_NOTE)
    else:
        house.stage.gap_releases += released
    return len(released)


def stage_gap_releases(house: House, clearing_day: date) -> None:
    """The rows of the gap releases the group's files made: one posting per participant. O(released)."""
    released = house.stage.gap_releases
    if released:
        stage_releases(house, released, clearing_day, GAP_CLOSED_NOTE)
        house.stage.gap_releases = []


def stage_release(
    house: House, qid: int, record: WireRecord, participant: str, batch_id: int, day: date, note: str
) -> None:
    """Post one held record now (a person's release): memory first, then its rows."""
    _spend(house, qid, record)
    stage_releases(house, [(qid, record, participant, batch_id)], day, note)


def _spend(house: House, qid: int, record: WireRecord) -> None:
    """Memory follows a release at once: the next gap's check must see this record."""
    house.spent.shadow[record.asn] += (
        record.amount_fen if record.tx_type in LOAD_TYPES else -record.amount_fen
    )
    house.spent.see(record)
    house.spent.drop_gap(qid)
    house.spent.drop_no_proof(qid)


def stage_releases(house: House, released: list[Release], day: date, note: str) -> None:
    """The rows of released records: one posting per participant carries all of its records
    (each records row and each releases row names it), so a night of many small gaps costs a
    posting per batch, not per record. Money is conserved: the posting's lines sum the
    records. O(released)."""
    by_participant: dict[str, list[Release]] = {}
    for item in released:
        by_participant.setdefault(item[2], []).append(item)
    for participant, items in by_participant.items():
        loads = sum([r.amount_fen for _, r, _, _ in items if r.tx_type in LOAD_TYPES])
        purchases = sum([r.amount_fen for _, r, _, _ in items if r.tx_type not in LOAD_TYPES])
        owner = house.registry.participants[participant]
        debit = "transfer" if owner.sector is Sector.TRANSFER else f"receivable:{participant}"
        lines = [
            (debit, loads),
            ("float", -loads),
            ("float", purchases),
            (f"payable:{participant}", -purchases),
        ]
        first = items[0][0]
        memo = f"release quarantine {first}" + (f" and {len(items) - 1} more" if len(items) > 1 else "")
        posting_id = house.stage.post(day_int(day), f"{memo}: {note}", lines) if loads or purchases else 0
        records, releases = house.stage.records, house.stage.releases
        for qid, record, _, batch_id in items:
            key = record.asn + FAMILY_BYTE[record.tx_type] + record.counter.to_bytes(2, "big")
            records.append(
                (
                    key,
                    batch_id,
                    participant,
                    record.tx_type,
                    record.amount_fen,
                    record.day,
                    record.terminal_id,
                    record.terminal_serial,
                    posting_id if record.amount_fen else 0,
                    record_identity(record.tx_type, key, record.terminal_id, record.terminal_serial),
                    record.date_time,
                    record.balance_after_fen,
                )
            )
            releases.append((qid, posting_id if record.amount_fen else None, note))
