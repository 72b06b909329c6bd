"""The clearing house's vocabulary: reason codes, record keys and days, the hotlist it asks,
and the report of one ingested batch. Kept apart from `model.backoffice.clearing` so that readers of
cleared data (settlement, lifecycle, the clone watch, the twin) need not import the house.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from typing import Protocol

from model.errors import CardTwinError
from model.records import BatchFault, WireRecord

REPORT_LINES_MAX = 50  # quarantine lines printed per batch; the table keeps every entry
LOAD_TYPES = (0x01, 0x02)  # EP and ED loads: money onto the card
_ED_TYPES = (0x01, 0x05)


class ClearingError(CardTwinError):
    """An ingest or review request the clearing house refuses."""


class Reason(Enum):
    """Why a record or batch is in quarantine."""

    CORRUPT_BATCH = BatchFault.CORRUPT_BATCH.value
    BAD_CHECKSUM = BatchFault.BAD_CHECKSUM.value
    TRUNCATED = BatchFault.TRUNCATED.value
    TOTALS_MISMATCH = BatchFault.TOTALS_MISMATCH.value
    CORRUPT_RECORD = BatchFault.CORRUPT_RECORD.value
    UNKNOWN_TERMINAL = "unknown-terminal"
    NO_PROOF = "no-proof"
    FORGED_TAC = "forged-tac"
    DUPLICATE = "duplicate"
    SERIAL_REUSED = "serial-reused"
    COUNTER_CONFLICT = "counter-conflict"
    HOTLISTED = "hotlisted"
    OLDER_THAN_CUTOFF = "older-than-cutoff"
    COUNTER_GAP = "counter-gap"
    SERIAL_GAP = "serial-gap"


RELEASABLE = frozenset(
    {
        Reason.NO_PROOF,
        Reason.HOTLISTED,
        Reason.OLDER_THAN_CUTOFF,
        Reason.COUNTER_GAP,
        Reason.SERIAL_GAP,
        Reason.COUNTER_CONFLICT,
    }
)
# Released only once the TAC verifies with the keys loaded now (a key file put right).
REVERIFIABLE = frozenset({Reason.FORGED_TAC})


class HotlistLookup(Protocol):
    """What the clearing house needs of the hotlist: when a card's listing took effect."""

    def effective(self, asn: bytes) -> bytes | None:
        """BCD YYYYMMDDhhmmss from which the card's records are refused, or None."""
        ...


class NoHotlist:
    def effective(self, asn: bytes) -> bytes | None:
        return None


def family(tx_type: int) -> int:
    """The card counter a transaction type uses: 0 EP offline, 1 EP online, 2 ED offline, 3 ED online."""
    return (2 if tx_type in _ED_TYPES else 0) + (1 if tx_type in LOAD_TYPES else 0)


# The counter-family byte of each card transaction type, looked up once per record in ingest.
FAMILY_BYTE = {t: bytes((family(t),)) for t in (0x01, 0x02, 0x05, 0x06, 0x09)}


def record_key(asn: bytes, tx_type: int, counter: int) -> bytes:
    return asn + bytes((family(tx_type),)) + counter.to_bytes(2, "big")


ACCOUNT_PAYMENT_TX_TYPE = 0x80  # a cleared item that is an online-account payment, not a card record


def day_int(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


@functools.lru_cache(maxsize=64)
def cutoff_day_int(clearing_day: date, cutoff_days: int) -> int:
    """The first day (YYYYMMDD) a record may carry on `clearing_day` without being held as
    older than the cut-off. Cached: asked once per batch, a night of small files asked it
    thousands of times for one answer."""
    return day_int(clearing_day - timedelta(days=cutoff_days))


@dataclass(slots=True)
class IngestReport:
    """The outcome of one batch file."""

    name: str
    already_ingested: bool = False
    posted: int = 0
    posted_load_fen: int = 0
    posted_purchase_fen: int = 0
    auto_released: int = 0
    superseded: int = 0  # no-proof holds closed: a TAC-proven record took their identity
    quarantined: list[tuple[Reason, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)  # a terminal's upload contradicts what cleared

    def lines(self) -> list[str]:
        if self.already_ingested:
            return [f"{self.name}: already ingested (same bytes), nothing posted"]
        out = [
            f"{self.name}: posted {self.posted} records (loads {self.posted_load_fen} fen, purchases "
            f"{self.posted_purchase_fen} fen), quarantined {len(self.quarantined)}"
            + (f", released {self.auto_released} held for gaps" if self.auto_released else "")
            + (f", closed {self.superseded} no-proof holds as superseded" if self.superseded else "")
        ]
        out += [f"  note: {note}" for note in self.notes]
        out += [f"  ALERT {alert}" for alert in self.alerts[:REPORT_LINES_MAX]]
        out += [
            f"  quarantine {reason.value}: {detail}" for reason, detail in self.quarantined[:REPORT_LINES_MAX]
        ]
        if len(self.quarantined) > REPORT_LINES_MAX:
            out.append(
                f"  ... and {len(self.quarantined) - REPORT_LINES_MAX} more (the quarantine table keeps all)"
            )
        return out


def hold_detail(
    reason: Reason, name: str, index: int, r: WireRecord, listed: bytes | None = None, cutoff: int = 0
) -> str:
    """The one-line reason of a held record; built only for the few records that are held."""
    where = f"{name} record {index} (card {r.asn.hex()} counter {r.counter})"
    if reason is Reason.NO_PROOF:
        return (
            f"{where}: committed without proof (no TAC), needs review; takes no counter or serial meanwhile"
        )
    if reason is Reason.FORGED_TAC:
        return f"{where}: TAC does not verify with the issuer keys"
    if reason is Reason.DUPLICATE:
        return f"{where}: already cleared or held"
    if reason is Reason.SERIAL_REUSED:
        return (
            f"{where}: PSAM serial {r.terminal_serial} of {r.terminal_id.hex()} already cleared "
            "with other card fields: a record re-encoded after its TAC"
        )
    if reason is Reason.COUNTER_CONFLICT:
        return (
            f"{where}: valid TAC at PSAM serial {r.terminal_serial} of {r.terminal_id.hex()}, but the "
            "card's counter was spent by another transaction (a re-encoded counter or a cloned card)"
        )
    if reason is Reason.HOTLISTED:
        return f"{where}: at {r.date_time.hex()}, hotlisted from {listed.hex() if listed else '?'}"
    if reason is Reason.OLDER_THAN_CUTOFF:
        return f"{where}: day {r.day} is before the cut-off {cutoff}"
    if reason is Reason.COUNTER_GAP:
        return f"{where}: the card's counter {r.counter - 1} was not seen (held until it is)"
    return f"{where}: PSAM serial {r.terminal_serial - 1} of {r.terminal_id.hex()} was not seen"
