"""What the clearing house remembers of spent identities, rebuilt from the database at open.

A purchase is known by its terminal's PSAM serial, a load by its card counter (what each TAC
covers; model.backoffice.clearing_schema). The memory holds, from committed rows only:

    counters          card family key -> counters spent by TAC-proven records (cleared or held)
    serials           terminal -> PSAM serial -> the card key of the TAC-proven record that spent it
    pending_*         what held no-proof records claim: enough to close a gap, never to make a
                      TAC-proven record a duplicate (a no-proof record takes nothing)
    held_gaps         records held for a gap, released by themselves when it closes, each found
                      through `waiting` by the number it waits for
    shadow            each card's balance as the posted records say

Loading is O(records + quarantine), one pass over each table; every question asked of it
during the night is a dict or set lookup, O(1).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from model.backoffice.registry import Registry
from model.backoffice.terms import FAMILY_BYTE, LOAD_TYPES, Reason, family
from model.records import WireRecord, decode_record

DECIDED_SQL = "SELECT quarantine_id FROM releases UNION SELECT quarantine_id FROM rejections"
# Held records with a valid TAC: their counter and serial are spent (a counter-conflict's
# counter belongs to another record: it spends its serial only).
_PROVEN_HELD = frozenset(
    r.value for r in (Reason.HOTLISTED, Reason.OLDER_THAN_CUTOFF, Reason.COUNTER_GAP, Reason.SERIAL_GAP)
)
_GAPS = frozenset({Reason.COUNTER_GAP.value, Reason.SERIAL_GAP.value})
# A held gap: (reason, record, participant, batch id, the numbers it awaits (`_awaited`)).
GapHold = tuple[str, WireRecord, str, int, tuple[bytes | None, bytes | None]]


@dataclass(slots=True)
class Spent:
    counters: defaultdict[bytes, set[int]] = field(default_factory=lambda: defaultdict(set))
    serials: defaultdict[bytes, dict[int, bytes]] = field(default_factory=lambda: defaultdict(dict))
    pending_counters: defaultdict[bytes, set[int]] = field(default_factory=lambda: defaultdict(set))
    pending_serials: defaultdict[bytes, set[int]] = field(default_factory=lambda: defaultdict(set))
    # quarantine id -> (reason, record, participant, batch id, its awaited numbers (`_awaited`))
    held_gaps: dict[int, GapHold] = field(default_factory=dict)
    shadow: defaultdict[bytes, int] = field(default_factory=lambda: defaultdict(int))
    # The number a held gap waits for -> the held gaps waiting for it, by the bytes the wire
    # record carries it in (`_awaited`): a card's ASN + counter (record bytes 0..9; the counter
    # family is left out, so an other family's counter wakes a gap that `gap_open` then finds
    # still open), a terminal's ID + PSAM serial (record bytes 15..24).
    waiting_counters: dict[bytes, set[int]] = field(default_factory=dict)
    waiting_serials: dict[bytes, set[int]] = field(default_factory=dict)
    # quarantine id -> record of each undecided no-proof hold; (family key, counter) or
    # (terminal, serial) -> the no-proof holds claiming that number
    no_proof: dict[int, WireRecord] = field(default_factory=dict)
    claimants: dict[tuple[bytes, int], set[int]] = field(default_factory=dict)

    @staticmethod
    def load(db: sqlite3.Connection, registry: Registry) -> Spent:
        spent = Spent()
        for key, tx_type, terminal_id, serial, amount in db.execute(
            "SELECT key, tx_type, terminal_id, serial, amount_fen FROM records WHERE length(key) = 11"
        ):
            spent.counters[key[:9]].add(int.from_bytes(key[9:], "big"))
            spent.shadow[key[:8]] += amount if tx_type in LOAD_TYPES else -amount
            if tx_type not in LOAD_TYPES:
                spent.serials[terminal_id][serial] = key
        decided = {row[0] for row in db.execute(DECIDED_SQL)}
        rejected = {row[0] for row in db.execute("SELECT quarantine_id FROM rejections")}
        for qid, reason, raw, batch_id in db.execute(
            "SELECT id, reason, raw, batch_id FROM quarantine WHERE key IS NOT NULL"
        ):
            if qid in rejected:
                continue  # a person judged it false: it gives back its counter and serial
            if reason in _PROVEN_HELD:
                record = decode_record(raw, f"quarantine {qid}", check_crc=False)
                spent.see(record)
                if reason in _GAPS and qid not in decided:
                    owner = registry.owner(record.terminal_id)
                    participant = owner.participant_id if owner is not None else ""
                    spent.hold_gap(qid, reason, record, participant, batch_id)
            elif reason == Reason.COUNTER_CONFLICT.value:
                spent.see(decode_record(raw, f"quarantine {qid}", check_crc=False), counter=False)
            elif reason == Reason.NO_PROOF.value and qid not in decided:
                record = decode_record(raw, f"quarantine {qid}", check_crc=False)
                spent.claim(record)
                spent.hold_no_proof(qid, record)
        return spent

    def hold_gap(self, qid: int, reason: str, record: WireRecord, participant: str, batch_id: int) -> None:
        counter, serial = awaited = _awaited(record)
        self.held_gaps[qid] = (reason, record, participant, batch_id, awaited)
        if counter is not None:
            self.waiting_counters.setdefault(counter, set()).add(qid)
        if serial is not None:
            self.waiting_serials.setdefault(serial, set()).add(qid)

    def drop_gap(self, qid: int) -> None:
        entry = self.held_gaps.pop(qid, None)
        if entry is None:
            return
        waitings = (self.waiting_counters, self.waiting_serials)
        for number, waiting in zip(entry[4], waitings, strict=True):
            if number is None:
                continue
            waiters = waiting.get(number)
            if waiters is not None:
                waiters.discard(qid)
                if not waiters:
                    del waiting[number]

    def waiting_on_wire(self, records: list[tuple[int, bytes, WireRecord]]) -> list[int]:
        """The held gaps that wait for a number these parsed records (index, wire bytes, record)
        carry, in quarantine order; O(records), two lookups by slices of each record's bytes.
        (A candidate whose gap is still open is left held by the caller, `gap_open`.)"""
        counters, serials = self.waiting_counters, self.waiting_serials
        if not counters and not serials:
            return []
        found: set[int] = set()
        if counters:
            for _, chunk, _ in records:
                waiters = counters.get(chunk[:10])
                if waiters:
                    found |= waiters
        if serials:  # few serial gaps wait at a time: most batches skip this pass
            for _, chunk, _ in records:
                waiters = serials.get(chunk[15:25])
                if waiters:
                    found |= waiters
        return sorted(found)

    def waiting_on(self, records: list[WireRecord]) -> list[int]:
        """`waiting_on_wire` for decoded records; O(records)."""
        counters, serials = self.waiting_counters, self.waiting_serials
        found: set[int] = set()
        for r in records:  # the numbers a record carries: its counter, its serial
            waiters = counters.get(r.asn + r.counter.to_bytes(2, "big"))
            if waiters:
                found |= waiters
            waiters = serials.get(r.terminal_id + r.terminal_serial.to_bytes(4, "big"))
            if waiters:
                found |= waiters
        return sorted(found)

    def see(self, record: WireRecord, counter: bool = True) -> None:
        """A TAC-proven record spends its serial (purchases) and, unless told not to, its counter. O(1)."""
        key = record.asn + FAMILY_BYTE[record.tx_type] + record.counter.to_bytes(2, "big")
        if counter:
            self.counters[key[:9]].add(record.counter)
        if record.tx_type not in LOAD_TYPES:
            self.serials[record.terminal_id][record.terminal_serial] = key

    def claim(self, record: WireRecord) -> None:
        """A no-proof record: its numbers close gaps, they spend nothing."""
        self.pending_counters[record.asn + bytes((family(record.tx_type),))].add(record.counter)
        if record.tx_type not in LOAD_TYPES:
            self.pending_serials[record.terminal_id].add(record.terminal_serial)

    def hold_no_proof(self, qid: int, record: WireRecord) -> None:
        """Remember a no-proof hold by the numbers it claims (its `claim` came first)."""
        self.no_proof[qid] = record
        for number in _claimed(record):
            self.claimants.setdefault(number, set()).add(qid)

    def drop_no_proof(self, qid: int) -> None:
        """A no-proof hold decided: its claims go, as a reload would drop them (what a claim
        left behind would close gaps in this process and not after a restart)."""
        record = self.no_proof.pop(qid, None)
        if record is None:
            return
        for number in _claimed(record):
            claimants = self.claimants.get(number)
            if claimants is None:
                continue
            claimants.discard(qid)
            if claimants:
                continue
            del self.claimants[number]
            if len(number[0]) == 9:  # a family key: a counter
                self.pending_counters[number[0]].discard(number[1])
            else:
                self.pending_serials[number[0]].discard(number[1])

    def superseded(self, records: list[WireRecord]) -> list[tuple[int, WireRecord, str]]:
        """The undecided no-proof holds that can never be posted now that these records spent
        what they claim: (quarantine id, held record, why), in quarantine order. O(records)."""
        claimants = self.claimants
        if not claimants:
            return []
        found: set[int] = set()
        for r in records:
            for number in _claimed(r):
                qids = claimants.get(number)
                if qids:
                    found |= qids
        out = []
        for qid in sorted(found):
            record = self.no_proof[qid]
            why = self.taken_by(record)
            if why:
                out.append((qid, record, why))
        return out

    def gap_open(self, record: WireRecord) -> bool:
        """Whether the record still misses its card's previous counter or its PSAM's previous
        serial (neither spent nor claimed); O(1)."""
        fam_key = record.asn + FAMILY_BYTE[record.tx_type]
        previous = record.counter - 1
        if (
            record.counter > 0
            and previous not in self.counters.get(fam_key, ())
            and previous not in self.pending_counters.get(fam_key, ())
        ):
            return True
        if record.tx_type in LOAD_TYPES or record.terminal_serial == 0:
            return False
        previous = record.terminal_serial - 1
        if previous in self.serials[record.terminal_id]:
            return False
        return previous not in self.pending_serials.get(record.terminal_id, ())

    def taken_by(self, record: WireRecord) -> str:
        """Why an unproven record (no proof, or a TAC that failed) cannot take its identity: a
        TAC-proven record holds its PSAM serial or its card counter; '' when neither is held."""
        if record.tx_type not in LOAD_TYPES and record.terminal_serial in self.serials[record.terminal_id]:
            return (
                f"PSAM serial {record.terminal_serial} of {record.terminal_id.hex()} cleared with a "
                "valid TAC: that record is this transaction"
            )
        if record.counter in self.counters[record.asn + bytes((family(record.tx_type),))]:
            return f"card {record.asn.hex()} counter {record.counter} cleared with a valid TAC"
        return ""


def _claimed(r: WireRecord) -> list[tuple[bytes, int]]:
    """The numbers a record carries: its card counter and, for a purchase, its PSAM serial."""
    out = [(r.asn + bytes((family(r.tx_type),)), r.counter)]
    if r.tx_type not in LOAD_TYPES:
        out.append((r.terminal_id, r.terminal_serial))
    return out


def _awaited(r: WireRecord) -> tuple[bytes | None, bytes | None]:
    """The numbers a record's gaps wait for, as the wire record that closes them carries them
    (`Spent.waiting_counters`, `Spent.waiting_serials`): the card's previous counter, the PSAM's
    previous serial (purchases); None where there is none."""
    counter = r.asn + (r.counter - 1).to_bytes(2, "big") if r.counter > 0 else None
    serial = None
    if r.tx_type not in LOAD_TYPES and r.terminal_serial > 0:
        serial = r.terminal_id + (r.terminal_serial - 1).to_bytes(4, "big")
    return counter, serial
