"""The batch upload file: how a terminal hands its journal to the clearing house.

Layout (all integers big-endian; `fen` amounts unsigned unless noted):

Header, 56 bytes:

    offset size field
    0      4    magic b"CTB1"
    4      1    format version (1)
    5      6    terminal ID (every record must carry the same one)
    11     6    PSAM ID (the PSAM installed in the terminal; 000000000000 for load terminals)
    17     4    batch sequence number (per terminal, from 1, one per upload)
    21     7    created, BCD YYYYMMDDhhmmss
    28     4    record count
    32     8    total of load amounts, fen
    40     8    total of purchase amounts, fen
    48     4    reserved, zero
    52     4    checksum: CRC-32 (zlib) of header bytes 0..51 followed by every record

Records follow, `RECORD_SIZE` (51) bytes each:

    0  8  ASN              8  2  card counter       10 4  amount fen
    14 1  transaction type 15 6  terminal ID        21 4  terminal serial
    25 7  BCD date+time    32 4  balance before (signed) 36 4 balance after (signed)
    40 4  TAC              44 1  algorithm id       45 1  key index
    46 1  flags (bit 0: committed without proof, TAC field is zero)
    47 4  CRC-32 of record bytes 0..46

Why a CRC per record on top of the batch checksum: a bit flip or a cut file must cost only the
records it touches. The clearing house salvages every record whose own CRC holds (each is still
proven by its TAC) and quarantines the rest with their bytes.

`parse_batch` never raises on damage: it reports every fault it finds and the records it could
read. `read_batch` is the strict form (any fault raises BatchFormatError), for tools and tests.
"""

from __future__ import annotations

import operator
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import NamedTuple

from model.errors import CardTwinError
from model.records.record import TransactionRecord, TxType
from model.security import Algorithm
from model.timefmt import decode_datetime, encode_datetime

MAGIC = b"CTB1"
FORMAT_VERSION = 1
BATCH_RECORDS_MAX = 200_000  # a terminal journal's limit: no upload can hold more
HEADER = struct.Struct(">4sB6s6sI7sIQQ4sI")
RECORD_BODY = struct.Struct(">8sHIB6sI7sii4sBBB")
RECORD_SIZE = RECORD_BODY.size + 4
# The same fields with the record's CRC skipped: `iter_unpack` over a whole proven body.
_RECORD_WHOLE = struct.Struct(RECORD_BODY.format + "4x")
HEADER_SIZE = HEADER.size
FLAG_NO_PROOF = 0x01
NO_PSAM = bytes(6)
_TX_TYPES = frozenset(int(t) for t in TxType)
_ALGORITHMS = frozenset(int(a) for a in Algorithm)
_LOAD_TYPES = frozenset((int(TxType.ED_LOAD), int(TxType.EP_LOAD)))

assert HEADER_SIZE == 56 and RECORD_SIZE == 51


class BatchFormatError(CardTwinError):
    """A batch file that does not follow the upload format."""


class BatchFault(Enum):
    """What can be wrong with the bytes of a batch (the clearing house's reason codes reuse them)."""

    CORRUPT_BATCH = "corrupt-batch"  # header unreadable: nothing in the file can be trusted
    BAD_CHECKSUM = "bad-checksum"  # the batch CRC fails; records are salvaged one by one
    TRUNCATED = "truncated"  # fewer bytes than the header's record count needs
    TOTALS_MISMATCH = "totals-mismatch"  # header totals differ from the records'
    CORRUPT_RECORD = "corrupt-record"  # a record's CRC fails or a field is out of range


class BatchHeader(NamedTuple):
    terminal_id: bytes
    psam_id: bytes
    batch_seq: int
    created: bytes  # BCD date+time
    record_count: int
    load_total_fen: int
    purchase_total_fen: int


class WireRecord(NamedTuple):
    """A record as it travels: the fields of `TransactionRecord`, date and time kept as BCD.

    The clearing house works on this form because decoding a datetime per record would cost
    more than verifying its TAC.
    """

    asn: bytes
    counter: int
    amount_fen: int
    tx_type: int
    terminal_id: bytes
    terminal_serial: int
    date_time: bytes
    balance_before_fen: int
    balance_after_fen: int
    tac: bytes
    algorithm: int
    key_index: int
    flags: int

    @property
    def no_proof(self) -> bool:
        """Committed without proof (recovered from the card's log): the TAC field is zero."""
        return bool(self.flags & FLAG_NO_PROOF)

    @property
    def is_load(self) -> bool:
        return self.tx_type in _LOAD_TYPES

    @property
    def day(self) -> int:
        """The business day as an integer YYYYMMDD."""
        return int(self.date_time[:4].hex())

    def to_record(self) -> TransactionRecord:
        return TransactionRecord(
            asn=self.asn,
            counter=self.counter,
            amount_fen=self.amount_fen,
            tx_type=TxType(self.tx_type),
            terminal_id=self.terminal_id,
            terminal_serial=self.terminal_serial,
            moment=decode_datetime(self.date_time),
            balance_before_fen=self.balance_before_fen,
            balance_after_fen=self.balance_after_fen,
            tac=b"" if self.no_proof else self.tac,
            algorithm=Algorithm(self.algorithm),
            key_index=self.key_index,
        )


@dataclass(frozen=True, slots=True)
class RecordFault:
    index: int  # position in the batch, from 0; -1 for the unreadable tail
    fault: BatchFault
    detail: str
    raw: bytes


@dataclass(slots=True)
class ParsedBatch:
    """What could be read from one file: its header, good records, and every fault."""

    header: BatchHeader | None
    records: list[tuple[int, bytes, WireRecord]] = field(default_factory=list)  # (index, raw, record)
    faults: list[RecordFault] = field(default_factory=list)
    batch_faults: list[tuple[BatchFault, str]] = field(default_factory=list)


def encode_record(record: TransactionRecord) -> bytes:
    no_proof = record.tac == b""
    body = RECORD_BODY.pack(
        record.asn,
        record.counter,
        record.amount_fen,
        int(record.tx_type),
        record.terminal_id,
        record.terminal_serial,
        encode_datetime(record.moment),
        record.balance_before_fen,
        record.balance_after_fen,
        bytes(4) if no_proof else record.tac,
        int(record.algorithm),
        record.key_index,
        FLAG_NO_PROOF if no_proof else 0,
    )
    return body + zlib.crc32(body).to_bytes(4, "big")


def write_batch(
    terminal_id: bytes,
    psam_id: bytes,
    batch_seq: int,
    created: datetime,
    records: Iterable[TransactionRecord],
) -> bytes:
    """The bytes of one upload. Every record must belong to `terminal_id`."""
    records = list(records)
    if len(records) > BATCH_RECORDS_MAX:
        raise BatchFormatError(f"batch {batch_seq}: {len(records)} records, at most {BATCH_RECORDS_MAX}")
    if len(terminal_id) != 6 or len(psam_id) != 6:
        raise BatchFormatError(f"batch {batch_seq}: terminal and PSAM IDs must be 6 bytes")
    for record in records:
        if record.terminal_id != terminal_id:  # (before encoding, which would pad a short one)
            raise BatchFormatError(
                f"batch {batch_seq}: record of terminal {record.terminal_id.hex()} in the batch of "
                f"{terminal_id.hex()}"
            )
    return write_batch_body(
        terminal_id, psam_id, batch_seq, created, b"".join(encode_record(r) for r in records)
    )


def read_body(body: bytes, where: str = "batch body") -> list[TransactionRecord]:
    """The records of a batch body this process encoded and never let out of memory (a
    terminal's journal, an upload on its way), so their CRCs are not checked again; a field out
    of range still raises BatchFormatError."""
    return [
        decode_record(body[at : at + RECORD_SIZE], where, at // RECORD_SIZE, check_crc=False).to_record()
        for at in range(0, len(body), RECORD_SIZE)
    ]


# The leading fields of a record (ASN, counter, amount, type, terminal, serial, date/time) and
# the rest skipped: what an uploader reads of the records it sends, without decoding them whole.
RECORD_HEAD = struct.Struct(">8sHIB6sI7s19x")
assert RECORD_HEAD.size == RECORD_SIZE


def write_batch_body(
    terminal_id: bytes, psam_id: bytes, batch_seq: int, created: datetime, body: bytes
) -> bytes:
    """`write_batch` from its records already encoded (`encode_record`, one after another), as
    a terminal's journal holds them: the header, its checksum, the body as it is."""
    count, rest = divmod(len(body), RECORD_SIZE)
    if rest:
        raise BatchFormatError(f"batch {batch_seq}: {len(body)} record bytes, not a whole number of records")
    if count > BATCH_RECORDS_MAX:
        raise BatchFormatError(f"batch {batch_seq}: {count} records, at most {BATCH_RECORDS_MAX}")
    if len(terminal_id) != 6 or len(psam_id) != 6:
        raise BatchFormatError(f"batch {batch_seq}: terminal and PSAM IDs must be 6 bytes")
    loads = purchases = 0
    for _asn, _counter, amount, tx_type, record_terminal, _serial, _when in RECORD_HEAD.iter_unpack(body):
        if record_terminal != terminal_id:
            raise BatchFormatError(
                f"batch {batch_seq}: record of terminal {record_terminal.hex()} in the batch of "
                f"{terminal_id.hex()}"
            )
        if tx_type in _LOAD_TYPES:
            loads += amount
        else:
            purchases += amount
    head = HEADER.pack(
        MAGIC,
        FORMAT_VERSION,
        terminal_id,
        psam_id,
        batch_seq,
        encode_datetime(created),
        count,
        loads,
        purchases,
        bytes(4),
        0,
    )[:-4]
    return head + zlib.crc32(body, zlib.crc32(head)).to_bytes(4, "big") + body


_BCD_HOURS = frozenset(int(f"{n:02d}", 16) for n in range(24))  # 0x00..0x23, BCD
_BCD_SIXTY = frozenset(int(f"{n:02d}", 16) for n in range(60))  # 0x00..0x59, BCD
_VALID_DATES: dict[bytes, bool] = {}
_VALID_DATES_MAX = 100_000


def _valid_date_time(raw: bytes) -> bool:
    # Records of one batch share a handful of dates: each is checked once, the time every time.
    date_ok = _VALID_DATES.get(raw[:4])
    if date_ok is None:
        date_ok = _valid_full(raw[:4] + b"\x00\x00\x00")
        if len(_VALID_DATES) >= _VALID_DATES_MAX:
            _VALID_DATES.clear()
        _VALID_DATES[raw[:4]] = date_ok
    return date_ok and raw[4] in _BCD_HOURS and raw[5] in _BCD_SIXTY and raw[6] in _BCD_SIXTY


def _valid_full(raw: bytes) -> bool:
    text = raw.hex()
    if not text.isdigit():
        return False
    hour, minute, second = int(text[8:10]), int(text[10:12]), int(text[12:14])
    try:
        date(int(text[0:4]), int(text[4:6]), int(text[6:8]))  # a real calendar day, not 1130 or 0230
    except ValueError:
        return False
    return hour < 24 and minute < 60 and second < 60


_CHECKED = operator.itemgetter(2, 3, 6, 7, 8, 10, 12)  # the fields decode_record checks


def decode_record(raw: bytes, where: str, index: int | None = None, check_crc: bool = True) -> WireRecord:
    """One record; raises BatchFormatError naming the field that is wrong.

    `check_crc` may be False only when these bytes were proven already: by the batch checksum
    at ingest, or because they were stored after such a proof."""
    if len(raw) != RECORD_SIZE:
        raise BatchFormatError(f"{_at(where, index)}: {len(raw)} bytes, a record has {RECORD_SIZE}")
    if check_crc and zlib.crc32(raw[:-4]) != int.from_bytes(raw[-4:], "big"):
        raise BatchFormatError(f"{_at(where, index)}: record CRC does not match")
    fields = RECORD_BODY.unpack_from(raw)
    amount, tx_type, date_time, before, after, algo, flags = _CHECKED(fields)
    if tx_type not in _TX_TYPES:
        raise BatchFormatError(f"{_at(where, index)}: transaction type {tx_type:02X} unknown")
    if algo not in _ALGORITHMS:
        raise BatchFormatError(f"{_at(where, index)}: algorithm id {algo:02X} unknown")
    if flags & ~FLAG_NO_PROOF:
        raise BatchFormatError(f"{_at(where, index)}: flags {flags:02X} has unknown bits")
    if not _valid_date_time(date_time):
        raise BatchFormatError(
            f"{_at(where, index)}: date/time {date_time.hex().upper()} is not BCD YYYYMMDDhhmmss"
        )
    sign = 1 if tx_type in _LOAD_TYPES else -1
    if after != before + sign * amount:
        raise BatchFormatError(
            f"{_at(where, index)}: balance {before} -> {after} does not move by {amount} fen"
        )
    return WireRecord._make(fields)


def _at(where: str, index: int | None) -> str:
    return where if index is None else f"{where} record {index}"


def parse_header(raw: bytes, where: str) -> BatchHeader:
    if len(raw) < HEADER_SIZE:
        raise BatchFormatError(f"{where}: {len(raw)} bytes, shorter than the {HEADER_SIZE}-byte header")
    magic, version, terminal_id, psam_id, seq, created, count, loads, purchases, reserved, _crc = (
        HEADER.unpack_from(raw, 0)
    )
    if magic != MAGIC:
        raise BatchFormatError(f"{where}: not a batch file (magic {magic!r}, expected {MAGIC!r})")
    if version != FORMAT_VERSION:
        raise BatchFormatError(f"{where}: format version {version}, expected {FORMAT_VERSION}")
    if count > BATCH_RECORDS_MAX:
        raise BatchFormatError(f"{where}: header says {count} records, at most {BATCH_RECORDS_MAX}")
    # A total above what `count` 4-byte amounts can sum to is damage; it would also overflow the
    # clearing database's 64-bit integers (found by tests/test_fuzz.py).
    if reserved != bytes(4) or not _valid_date_time(created) or max(loads, purchases) > count * 0xFFFFFFFF:
        raise BatchFormatError(f"{where}: header fields out of range (reserved bytes or created date)")
    return BatchHeader(terminal_id, psam_id, seq, created, count, loads, purchases)


def _proven_records(body: bytes, whole: int, terminal_id: bytes, parsed: ParsedBatch) -> tuple[int, int, int]:
    """The fast path of a body whose batch checksum holds: one `iter_unpack` over it, the same
    field checks as `decode_record` inline. It stops at the first record that fails one, which
    the caller's record-by-record loop then decodes for its message: (loads, purchases, index
    to go on from)."""
    loads = purchases = 0
    records = parsed.records
    append = records.append
    make = WireRecord._make
    valid_dates = _VALID_DATES
    hours, sixty = _BCD_HOURS, _BCD_SIXTY
    for index, fields in enumerate(_RECORD_WHOLE.iter_unpack(body[: whole * RECORD_SIZE])):
        amount, tx_type, date_time, before, after, algo, flags = _CHECKED(fields)
        is_load = tx_type in _LOAD_TYPES
        if (
            tx_type not in _TX_TYPES
            or algo not in _ALGORITHMS
            or flags & ~FLAG_NO_PROOF
            or fields[4] != terminal_id
            or after != (before + amount if is_load else before - amount)
            or not (valid_dates.get(date_time[:4]) or _valid_date_time(date_time))
            or date_time[4] not in hours
            or date_time[5] not in sixty
            or date_time[6] not in sixty
        ):
            return loads, purchases, index
        if is_load:
            loads += amount
        else:
            purchases += amount
        append((index, body[index * RECORD_SIZE : (index + 1) * RECORD_SIZE], make(fields)))
    return loads, purchases, whole


def parse_batch(raw: bytes, where: str = "batch") -> ParsedBatch:
    """Read everything that can be trusted from `raw`; never raises on damage."""
    try:
        header = parse_header(raw, where)
    except BatchFormatError as exc:
        return ParsedBatch(None, batch_faults=[(BatchFault.CORRUPT_BATCH, str(exc))])
    parsed = ParsedBatch(header)
    body = raw[HEADER_SIZE:]
    expected = header.record_count * RECORD_SIZE
    checksum_ok = zlib.crc32(body, zlib.crc32(raw[: HEADER_SIZE - 4])) == int.from_bytes(raw[52:56], "big")
    if not checksum_ok:
        parsed.batch_faults.append((BatchFault.BAD_CHECKSUM, f"{where}: batch checksum does not match"))
    kind = BatchFault.TRUNCATED if len(body) < expected else BatchFault.CORRUPT_BATCH
    if len(body) != expected:
        parsed.batch_faults.append(
            (kind, f"{where}: {len(body)} record bytes, header says {header.record_count} x {RECORD_SIZE}")
        )
    whole = min(len(body), expected) // RECORD_SIZE
    if checksum_ok:
        loads, purchases, start = _proven_records(body, whole, header.terminal_id, parsed)
    else:
        loads = purchases = start = 0
    for index in range(start, whole):
        chunk = body[index * RECORD_SIZE : (index + 1) * RECORD_SIZE]
        try:
            # A whole batch whose checksum holds needs no per-record CRC: those are for salvage.
            record = decode_record(chunk, where, index, check_crc=not checksum_ok)
        except BatchFormatError as exc:
            parsed.faults.append(RecordFault(index, BatchFault.CORRUPT_RECORD, str(exc), chunk))
            continue
        if record.terminal_id != header.terminal_id:
            detail = (
                f"{where} record {index}: terminal {record.terminal_id.hex()} differs from the header's "
                f"{header.terminal_id.hex()}"
            )
            parsed.faults.append(RecordFault(index, BatchFault.CORRUPT_RECORD, detail, chunk))
            continue
        if record.is_load:
            loads += record.amount_fen
        else:
            purchases += record.amount_fen
        parsed.records.append((index, chunk, record))
    tail = body[whole * RECORD_SIZE :]
    if tail:
        parsed.faults.append(
            RecordFault(-1, kind, f"{where}: {len(tail)} bytes after the last whole record", tail)
        )
    clean = not parsed.faults and not parsed.batch_faults
    if clean and (loads, purchases) != (header.load_total_fen, header.purchase_total_fen):
        parsed.batch_faults.append(
            (
                BatchFault.TOTALS_MISMATCH,
                f"{where}: records total loads {loads} / purchases {purchases} fen, header says "
                f"{header.load_total_fen} / {header.purchase_total_fen}",
            )
        )
    return parsed


def read_batch(raw: bytes, where: str = "batch") -> tuple[BatchHeader, list[TransactionRecord]]:
    """Strict: the header and every record, or BatchFormatError at the first fault."""
    parsed = parse_batch(raw, where)
    if parsed.batch_faults:
        raise BatchFormatError(parsed.batch_faults[0][1])
    if parsed.faults:
        raise BatchFormatError(parsed.faults[0].detail)
    assert parsed.header is not None
    return parsed.header, [record.to_record() for _, _, record in parsed.records]
