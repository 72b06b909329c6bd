"""Reading one batch file into the stage: its header, its terminal's owner, its records' fate.

The file is parsed (model.records.parse_batch: never raises on damage), its terminal checked
against the registry, its records proven one by one (`record_checks`), the cleared ones posted
(`posting`), the others held (`holds`), and the gaps its records close released. Everything
goes to the house's stage; the caller owns the transaction and the flush
(model.backoffice.clearing).
"""

from __future__ import annotations

from datetime import date

from model.backoffice.holds import (
    Held,
    release_closed_gaps,
    stage_alerts,
    stage_gap_releases,
    stage_holds,
    stage_superseded,
)
from model.backoffice.house import House
from model.backoffice.posting import BatchPosting, posting_id_for, stage_batch_posting, stage_group_postings
from model.backoffice.record_checks import check_records
from model.backoffice.registry import Participant, Sector
from model.backoffice.terms import IngestReport, Reason, day_int
from model.records import BatchHeader, parse_batch


def ingest_batch(house: House, raw: bytes, digest: bytes, name: str, clearing_day: date) -> IngestReport:
    """One file's batch row, records, holds and releases, staged. O(records + released)."""
    report = IngestReport(name)
    parsed = parse_batch(raw, name)
    header = parsed.header
    stage = house.stage
    batch_id = stage.batch_id()
    stage.digests[digest] = batch_id
    held = [Held(-1, Reason(fault.value), detail, None, None) for fault, detail in parsed.batch_faults]
    owner = None
    if header is not None:
        report.notes += upload_order(house, header.terminal_id, header.batch_seq, name)
        owner = terminal_owner(house, header, name, held)
    # A readable header is enough to go on: each record is proven by its own CRC and TAC.
    if owner is not None and header is not None:
        held += [Held(f.index, Reason(f.fault.value), f.detail, f.raw, None) for f in parsed.faults]
        debit = "transfer" if owner.sector is Sector.TRANSFER else f"receivable:{owner.participant_id}"
        posting = BatchPosting(
            batch_id, owner.participant_id, debit, posting_id_for(house, owner.participant_id)
        )
        check_records(house, parsed.records, header.terminal_id, clearing_day, name, held, posting)
        stage_batch_posting(house, name, clearing_day, posting, report)
    report.quarantined += [(h.reason, h.detail) for h in held]
    stage_holds(house, batch_id, owner.participant_id if owner is not None else "", held)
    if owner is not None:
        report.superseded, alerts = stage_superseded(house, batch_id, [r for _, _, r in parsed.records])
        report.alerts += alerts
    stage_alerts(house, batch_id, report)
    stage.batches.append(
        (
            batch_id,
            digest,
            name,
            header.terminal_id if header else None,
            header.batch_seq if header else None,
            day_int(clearing_day),
            header.load_total_fen if header else 0,
            header.purchase_total_fen if header else 0,
            # Clean files stay in the terminal archive; a file with anything held is kept here whole.
            raw if held else None,
        )
    )
    if owner is not None:
        report.auto_released = release_closed_gaps(house, clearing_day, parsed.records)
    return report


def stage_group_end(house: House, clearing_day: date) -> None:
    """Once every file of a group is on the stage (`ingest_batch`): the group's postings, one
    per participant (posting.stage_group_postings), and the gap releases its files made
    (holds.stage_gap_releases). The stage refuses to flush before. O(batches + released)."""
    stage_group_postings(house, clearing_day)
    stage_gap_releases(house, clearing_day)


def terminal_owner(house: House, header: BatchHeader, name: str, held: list[Held]) -> Participant | None:
    """The participant a file's terminal belongs to, or None (the whole file held) when the
    terminal is not registered or its PSAM is not the one registered to it."""
    owner = house.registry.owner(header.terminal_id)
    if owner is None:
        detail = f"{name}: terminal {header.terminal_id.hex()} is not registered"
        held.append(Held(-1, Reason.UNKNOWN_TERMINAL, detail, None, None))
        return None
    entry = house.registry.terminals[header.terminal_id]
    if entry.psam_id != header.psam_id:
        detail = (
            f"{name}: PSAM {header.psam_id.hex()} is not the one registered to terminal "
            f"{header.terminal_id.hex()} ({entry.psam_id.hex()})"
        )
        held.append(Held(-1, Reason.UNKNOWN_TERMINAL, detail, None, None))
        return None
    return owner


def upload_order(house: House, terminal_id: bytes, batch_seq: int, name: str) -> list[str]:
    """Say when a terminal's uploads arrive out of their sequence: the records tell the rest
    (a later batch's first records wait for gaps, a repeated one's are duplicates). O(1):
    each terminal's highest batch is remembered."""
    highest = house.batch_seqs.get(terminal_id)
    if highest is None or batch_seq > highest:
        house.batch_seqs[terminal_id] = batch_seq
    if highest is None:
        return []
    if batch_seq <= highest:
        return [f"{name}: batch {batch_seq} of terminal {terminal_id.hex()} arrives after batch {highest}"]
    if batch_seq > highest + 1:
        return [f"{name}: terminal {terminal_id.hex()} skipped from batch {highest} to {batch_seq}"]
    return []
