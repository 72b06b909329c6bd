"""The operator's review of held records: release, reject, re-verify, reingest.

Records held as no-proof, hotlisted, older-than-cutoff or counter-conflict are released only by
review; forged TACs only once their TAC verifies with the keys loaded (a key file put right);
duplicates, reused serials and corrupt bytes never. A record held for a gap that stays held
needs a person too; a no-proof hold whose serial or counter a TAC-proven record took is closed
by the house itself (holds.stage_superseded). Any held record can be rejected with a note; a
rejected one gives back what it held (its counter, its serial). Every refusal says why, in one
line.
"""

from __future__ import annotations

import hashlib
from datetime import date

from model.backoffice.batch_ingest import ingest_batch, stage_group_end
from model.backoffice.holds import release_closed_gaps, stage_release, stage_superseded
from model.backoffice.house import House
from model.backoffice.identity import DECIDED_SQL
from model.backoffice.terms import RELEASABLE, REVERIFIABLE, ClearingError, IngestReport, Reason
from model.records import WireRecord, decode_record


def held(house: House) -> list[tuple[int, str, str]]:
    """Quarantine entries neither released nor rejected: (id, reason, detail)."""
    return [
        (int(q), str(r), str(d))
        for q, r, d in house.db.execute(
            f"SELECT id, reason, detail FROM quarantine WHERE id NOT IN ({DECIDED_SQL}) ORDER BY id"
        )
    ]


def refusal(house: House, reason: Reason, record: WireRecord) -> str:
    """Why a held record cannot be posted now, or '' when it can (re-verified against the
    keys and the books as they are now)."""
    if reason not in RELEASABLE and reason not in REVERIFIABLE:
        return f"a {reason.value} record can never be posted: its transaction is paid or unproven"
    if reason in REVERIFIABLE and not house.verifier.verify(record):
        return "its TAC still does not verify with the issuer keys loaded (correct the key file first)"
    if reason in (Reason.NO_PROOF, Reason.FORGED_TAC):
        return house.spent.taken_by(record)  # the counter or serial a proven record holds
    return ""


def release(house: House, quarantine_id: int, note: str, clearing_day: date) -> None:
    """A person reviewed the held record and accepts it: post it now, or say why not."""
    reason, raw, batch_id = _undecided(house, "release", quarantine_id, note)
    if raw is None:
        raise ClearingError(
            f"release: quarantine {quarantine_id} ({reason.value}) is a whole file or unreadable "
            "bytes: it can never be posted"
        )
    record = decode_record(raw, f"quarantine {quarantine_id}", check_crc=False)
    why = refusal(house, reason, record)
    if why:
        raise ClearingError(f"release: quarantine {quarantine_id} ({reason.value}): {why}")
    owner = house.registry.owner(record.terminal_id)
    if owner is None:
        raise ClearingError(
            f"release: quarantine {quarantine_id}: terminal {record.terminal_id.hex()} unknown"
        )
    with house.staged():
        stage_release(house, quarantine_id, record, owner.participant_id, batch_id, clearing_day, note)
        stage_superseded(house, batch_id, [record])
        release_closed_gaps(house, clearing_day)


def reject(house: House, quarantine_id: int, note: str) -> None:
    """A person reviewed the held record and refuses it for good: it is never paid, and
    what it held (a counter, a serial) is given back."""
    _undecided(house, "reject", quarantine_id, note)
    with house.ledger.transaction():
        house.db.execute("INSERT INTO rejections(quarantine_id, note) VALUES (?, ?)", (quarantine_id, note))
    house.load_state()


def release_reverified(house: House, clearing_day: date) -> list[int]:
    """Every forged-tac hold whose TAC verifies with the keys loaded now, released: the
    night a key file was wrong is put right by rerunning with the corrected one."""
    released: list[int] = []
    for quarantine_id, reason, _ in held(house):
        if reason != Reason.FORGED_TAC.value:
            continue
        raw = house.db.execute("SELECT raw FROM quarantine WHERE id = ?", (quarantine_id,)).fetchone()[0]
        if raw is None:
            continue
        if refusal(house, Reason.FORGED_TAC, decode_record(bytes(raw), "held", check_crc=False)):
            continue
        release(house, quarantine_id, "re-verified with corrected issuer keys", clearing_day)
        released.append(quarantine_id)
    return released


def reingest(house: House, batch_name: str, clearing_day: date) -> IngestReport:
    """A batch quarantined whole (unknown terminal) is ingested again once the registry
    knows its terminal: the kept bytes are the input, under a new name."""
    row = house.db.execute(
        "SELECT b.raw, q.id FROM batches b JOIN quarantine q ON q.batch_id = b.id "
        "WHERE b.name = ? AND q.reason = ? AND q.idx = -1",
        (batch_name, Reason.UNKNOWN_TERMINAL.value),
    ).fetchone()
    if row is None:
        raise ClearingError(f"reingest: no batch {batch_name!r} held for an unknown terminal")
    raw, qid = bytes(row[0]), int(row[1])
    # The file's own digest is taken by its first ingest; a reingest is keyed apart from it.
    digest = hashlib.sha256(b"reingest:" + raw).digest()
    name = f"{batch_name}#reingest"
    if house.db.execute("SELECT 1 FROM batches WHERE digest = ?", (digest,)).fetchone():
        return IngestReport(name, already_ingested=True)
    with house.staged():
        report = ingest_batch(house, raw, digest, name, clearing_day)
        stage_group_end(house, clearing_day)
        house.stage.releases.append((qid, None, f"terminal registered, batch reingested as {name}"))
    return report


def _undecided(house: House, verb: str, quarantine_id: int, note: str) -> tuple[Reason, bytes | None, int]:
    row = house.db.execute(
        "SELECT reason, raw, batch_id FROM quarantine WHERE id = ?", (quarantine_id,)
    ).fetchone()
    if row is None:
        raise ClearingError(f"{verb}: no quarantine entry {quarantine_id}")
    if house.db.execute("SELECT 1 FROM releases WHERE quarantine_id = ?", (quarantine_id,)).fetchone():
        raise ClearingError(f"{verb}: quarantine {quarantine_id} is already released")
    if house.db.execute("SELECT 1 FROM rejections WHERE quarantine_id = ?", (quarantine_id,)).fetchone():
        raise ClearingError(f"{verb}: quarantine {quarantine_id} is already rejected")
    if not note.strip():
        raise ClearingError(f"{verb}: quarantine {quarantine_id}: a review note is required")
    return Reason(row[0]), None if row[1] is None else bytes(row[1]), int(row[2])
