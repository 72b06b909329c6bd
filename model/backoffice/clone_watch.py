"""Clone detection: the clearing house's rule for two cards answering to one identity.

A cloned card carries the same ASN and keys as the genuine one, so its records verify. Both
cards count from the same counters, so the two soon spend one counter each on different
transactions: the clearing house then holds the second as a `counter-conflict` (a purchase: a
fresh PSAM serial under a valid TAC) or a `duplicate` (a load) (model.backoffice.clearing). A
genuine duplicate (a batch re-sent, a record uploaded twice) is the same transaction: same
terminal, same PSAM serial, same amount. A duplicate that differs in any of those is a second
card spending the same counter: a clone. This module reads the night's duplicates against
what was cleared or held for the same counter, names the cards, and can hotlist them.

Run it after each night's ingest: a clone that spent one counter twice is caught within the
clearing cycle in which both records arrive.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from model.backoffice.terms import Reason, record_key
from model.records import WireRecord, decode_record

SUSPECTS_MAX = 10_000  # duplicates examined per call; the rest wait for the next call


@dataclass(frozen=True, slots=True)
class CloneSuspect:
    asn: bytes
    counter: int
    tx_type: int
    first: tuple[bytes, int, int]  # (terminal, serial, amount) cleared or held first
    second: tuple[bytes, int, int]  # the duplicate's

    def line(self) -> str:
        return (
            f"card {self.asn.hex()}: counter {self.counter} spent twice, at terminal {self.first[0].hex()} "
            f"serial {self.first[1]} ({self.first[2]} fen) and at {self.second[0].hex()} serial "
            f"{self.second[1]} ({self.second[2]} fen): cloned card"
        )


def _identity(r: WireRecord) -> tuple[bytes, int, int]:
    return (r.terminal_id, r.terminal_serial, r.amount_fen)


def find_clones(db: sqlite3.Connection) -> list[CloneSuspect]:
    """Every card with a counter spent on two different transactions, from the clearing
    database's cleared records and quarantine (one suspect per card and counter)."""
    duplicates = db.execute(
        "SELECT raw FROM quarantine WHERE reason IN (?, ?) AND raw IS NOT NULL ORDER BY id LIMIT ?",
        (Reason.DUPLICATE.value, Reason.COUNTER_CONFLICT.value, SUSPECTS_MAX),
    ).fetchall()
    if not duplicates:
        return []
    wanted: dict[bytes, list[WireRecord]] = {}
    for (raw,) in duplicates:
        r = decode_record(bytes(raw), "quarantine duplicate", check_crc=False)
        if r.no_proof:
            continue  # no TAC, no proof of any card: a terminal's claim is no clone's sign
        wanted.setdefault(record_key(r.asn, r.tx_type, r.counter), []).append(r)
    # The first holder of each counter: a cleared record, or a record held with its key.
    first: dict[bytes, tuple[bytes, int, int]] = {}
    for key, terminal, serial, amount in db.execute(
        "SELECT key, terminal_id, serial, amount_fen FROM records WHERE length(key) = 11"
    ):
        if bytes(key) in wanted:
            first.setdefault(bytes(key), (bytes(terminal), int(serial), int(amount)))
    for key, raw in db.execute(
        "SELECT key, raw FROM quarantine WHERE key IS NOT NULL AND reason NOT IN (?, ?) ORDER BY id",
        (Reason.COUNTER_CONFLICT.value, Reason.NO_PROOF.value),
    ):
        if bytes(key) in wanted and bytes(key) not in first:
            first[bytes(key)] = _identity(decode_record(bytes(raw), "quarantine", check_crc=False))
    out: list[CloneSuspect] = []
    for key, records in wanted.items():
        seen = first.get(key)
        if seen is None:
            continue  # a duplicate of a record that was itself corrupt or forged: not a clone sign
        for r in records:
            if _identity(r) != seen:
                out.append(CloneSuspect(r.asn, r.counter, r.tx_type, seen, _identity(r)))
                break
    return out


class HotlistSink(Protocol):
    """What `hotlist_clones` needs of the hotlist (model.backoffice.lifecycle.Hotlist fits)."""

    def add(self, asn: bytes, reported_at: datetime, effective_at: datetime) -> None: ...

    def effective(self, asn: bytes) -> bytes | None: ...


def hotlist_clones(db: sqlite3.Connection, hotlist: HotlistSink, at: datetime) -> list[CloneSuspect]:
    """Find clones and hotlist every card found (from `at`) that is not listed yet."""
    suspects = find_clones(db)
    for asn in sorted({s.asn for s in suspects}):
        if hotlist.effective(asn) is None:
            hotlist.add(asn, at, at)
    return suspects
