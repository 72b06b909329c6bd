"""Proving each record of a batch: the checks of model.backoffice.clearing's docstring, in order.

A record that passes every check joins its batch's posting (`posting.BatchPosting`); the first
check that fails holds it (`holds.Held`) with that reason and the batch goes on. Every check is
a set or dict lookup by the record's own counter or serial, so a batch costs O(records).
"""

from __future__ import annotations

from datetime import date

from model.backoffice.holds import Held
from model.backoffice.house import House
from model.backoffice.posting import BatchPosting
from model.backoffice.terms import FAMILY_BYTE, LOAD_TYPES, Reason, cutoff_day_int, hold_detail
from model.records import WireRecord


def check_records(
    house: House,
    records: list[tuple[int, bytes, WireRecord]],
    terminal_id: bytes,
    clearing_day: date,
    name: str,
    held: list[Held],
    posting: BatchPosting,
) -> None:
    """Each record's checks, in the clearing house's order. O(records)."""
    # The hot loop of the night: locals for everything it touches, messages only on faults.
    cutoff = cutoff_day_int(clearing_day, house.cutoff_days)
    # Every TAC of the batch in one call (the verifier's batch path); a TAC is a function of
    # the record and the keys alone, so proving them before the other checks changes nothing.
    tacs_ok = house.verifier.verify_batch(records)
    effective = house.hotlist.effective
    spent = house.spent
    counters = spent.counters
    pending = spent.pending_counters
    shadow = spent.shadow
    # The parser checked that every record carries the header's terminal ID.
    terminal_serials = spent.serials[terminal_id]
    pending_serials = spent.pending_serials.get(terminal_id, ())
    append = posting.rows.append
    batch_id, participant, posting_id = posting.batch_id, posting.participant, posting.posting_id
    days: dict[bytes, int] = {}
    load_total = purchase_total = 0
    for (index, chunk, r), tac_ok in zip(records, tacs_ok, strict=True):
        tx_type, counter, asn = r.tx_type, r.counter, r.asn
        fam_key = asn + FAMILY_BYTE[tx_type]
        is_load = tx_type in LOAD_TYPES
        serial = r.terminal_serial
        seen = counters[fam_key]
        key = fam_key + chunk[8:10]  # the counter as the wire carries it: 2 bytes big-endian
        # identity_fault's answer is None for a proven record with a fresh counter and serial:
        # that common case is decided here, without the call.
        if r.flags or not tac_ok or counter in seen or (not is_load and serial in terminal_serials):
            reason = identity_fault(r, key, seen, terminal_serials, is_load, tac_ok)
        else:
            reason = None
        if reason is not None:
            kept = key if reason in (Reason.NO_PROOF, Reason.COUNTER_CONFLICT) else None
            held.append(Held(index, reason, hold_detail(reason, name, index, r), chunk, kept, r))
            if reason is Reason.NO_PROOF:
                spent.claim(r)
            elif reason is Reason.COUNTER_CONFLICT:
                terminal_serials[serial] = key
            continue
        date_time = r.date_time
        day = days.get(date_time[:4])
        if day is None:
            day = days[date_time[:4]] = int(date_time[:4].hex())
        listed = effective(asn)
        if listed is not None and date_time >= listed:
            reason = Reason.HOTLISTED
        elif day < cutoff:
            reason = Reason.OLDER_THAN_CUTOFF
        elif counter > 0 and (counter - 1) not in seen and (counter - 1) not in pending.get(fam_key, ()):
            reason = Reason.COUNTER_GAP
        elif (
            not is_load
            and serial > 0
            and (serial - 1) not in terminal_serials
            and (serial - 1) not in pending_serials
        ):
            reason = Reason.SERIAL_GAP
        seen.add(counter)
        if not is_load:
            terminal_serials[serial] = key
        if reason is not None:
            detail = hold_detail(reason, name, index, r, listed, cutoff)
            held.append(Held(index, reason, detail, chunk, key, r))
            continue
        amount = r.amount_fen
        # clearing_schema.record_identity; a purchase's is its terminal ID and serial as the wire
        # carries them (bytes 15..24: the parser checked the terminal is the header's).
        identity = key if is_load else chunk[15:25]
        after = r.balance_after_fen
        append(
            (
                key,
                batch_id,
                participant,
                tx_type,
                amount,
                day,
                terminal_id,
                serial,
                posting_id,
                identity,
                date_time,
                after,
            )
        )
        if is_load:
            load_total += amount
            shadow[asn] += amount
        else:
            purchase_total += amount
            shadow[asn] -= amount
    posting.load_fen += load_total
    posting.purchase_fen += purchase_total


def identity_fault(
    r: WireRecord,
    key: bytes,
    seen: set[int],
    terminal_serials: dict[int, bytes],
    is_load: bool,
    tac_ok: bool,
) -> Reason | None:
    """No proof, a forged TAC (`tac_ok` False), or an identity already spent; O(1). A purchase
    is known by its PSAM serial (its TAC covers it), a load by its card counter (its TAC covers that)."""
    if r.flags:  # the only flag: committed without proof
        taken = r.counter in seen if is_load else r.terminal_serial in terminal_serials
        return Reason.DUPLICATE if taken else Reason.NO_PROOF
    if not tac_ok:
        return Reason.FORGED_TAC
    if is_load:
        return Reason.DUPLICATE if r.counter in seen else None
    holder = terminal_serials.get(r.terminal_serial)
    if holder is not None:
        return Reason.DUPLICATE if holder == key else Reason.SERIAL_REUSED
    return Reason.COUNTER_CONFLICT if r.counter in seen else None
