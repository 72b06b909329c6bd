"""The three files clearing houses exchange for interchange, as bytes (`model.backoffice.interchange`).

Every file ends with the SHA-256 of everything before it, so a truncated, bit-flipped or
padded file is refused whole (one line naming the file), never half read. Integers are
big-endian; a city is the 4-byte code its cards' ASNs begin with (the issuer ID's first 4
bytes, as `model.backoffice.lifecycle` numbers cards).

    interchange file  "CTIX" v1 | from city(4) | to city(4) | seq(4) | day YYYYMMDD(4) |
                      batches(2) | records(4) | purchases fen(8) | per batch: participant
                      length(1) + participant (ASCII, the acquirer's participant owed) +
                      batch length(4) + the terminal's batch bytes (model.records.batch) | SHA-256
    acknowledgement   "CTIK" v1 | from(4) | to(4) | seq(4) | file SHA-256(32) | posted(4) |
                      held(4) | posted fen(8) | SHA-256
    settlement advice "CTIV" v1 | from(4) | to(4) | business day(4) | lines(2) | per line:
                      participant length(1) + participant + count(4) + gross fen(8) +
                      interchange fee fen(8) + net fen(8) | SHA-256
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

from model.backoffice.terms import ClearingError
from model.records import parse_batch

FILE_BYTES_MAX = 256 * 1024 * 1024
FILE_BATCHES_MAX = 60_000
ADVICE_LINES_MAX = 10_000
PARTICIPANT_CHARS_MAX = 60
_DIGEST = 32
_FILE_HEAD = struct.Struct(">4sB4s4sIIHIQ")
_ACK = struct.Struct(">4sB4s4sI32sIIQ")
_ADVICE_HEAD = struct.Struct(">4sB4s4sIH")
_LINE = struct.Struct(">IQQQ")
_VERSION = 1


class InterchangeError(ClearingError):
    """An interchange file, acknowledgement or advice that cannot be used (named, with why)."""


@dataclass(frozen=True, slots=True)
class InterchangeFile:
    from_city: bytes
    to_city: bytes
    seq: int
    day: int
    batches: tuple[tuple[str, bytes], ...]  # (acquirer participant, batch bytes)
    records: int
    purchase_fen: int


@dataclass(frozen=True, slots=True)
class Ack:
    from_city: bytes  # the issuer's house that received the file
    to_city: bytes
    seq: int
    file_digest: bytes
    posted: int
    held: int
    posted_fen: int


@dataclass(frozen=True, slots=True)
class AdviceLine:
    participant: str  # the acquirer's own participant id
    count: int
    gross_fen: int
    fee_fen: int  # the interchange fee the issuer's house kept
    net_fen: int


@dataclass(frozen=True, slots=True)
class Advice:
    from_city: bytes
    to_city: bytes
    business_day: int
    lines: tuple[AdviceLine, ...] = field(default_factory=tuple)

    @property
    def net_fen(self) -> int:
        return sum(line.net_fen for line in self.lines)


def digest(raw: bytes) -> bytes:
    return hashlib.sha256(raw).digest()


def _sealed(body: bytes) -> bytes:
    return body + digest(body)


def _unseal(raw: bytes, magic: bytes, name: str) -> bytes:
    if len(raw) > FILE_BYTES_MAX:
        raise InterchangeError(f"{name}: {len(raw)} bytes, an interchange file has at most {FILE_BYTES_MAX}")
    body, seal = raw[:-_DIGEST], raw[-_DIGEST:]
    if len(raw) < _DIGEST + 5 or raw[:4] != magic:
        raise InterchangeError(f"{name}: not an interchange file of kind {magic.decode()}")
    if raw[4] != _VERSION:
        raise InterchangeError(f"{name}: version {raw[4]}, this house reads version {_VERSION}")
    if digest(body) != seal:
        raise InterchangeError(f"{name}: SHA-256 does not match (truncated or altered in transit)")
    return body


def _text(name: str) -> bytes:
    raw = name.encode("ascii", "strict")
    if not 1 <= len(raw) <= PARTICIPANT_CHARS_MAX:
        raise InterchangeError(f"participant {name!r}: 1..{PARTICIPANT_CHARS_MAX} ASCII characters")
    return raw


def encode_file(f: InterchangeFile) -> bytes:
    if len(f.batches) > FILE_BATCHES_MAX:
        raise InterchangeError(
            f"interchange file {f.seq}: {len(f.batches)} batches, at most {FILE_BATCHES_MAX}"
        )
    head = _FILE_HEAD.pack(
        b"CTIX", _VERSION, f.from_city, f.to_city, f.seq, f.day, len(f.batches), f.records, f.purchase_fen
    )
    parts = [head]
    for participant, raw in f.batches:
        p = _text(participant)
        parts += [bytes((len(p),)), p, len(raw).to_bytes(4, "big"), raw]
    return _sealed(b"".join(parts))


def decode_file(raw: bytes, name: str) -> InterchangeFile:
    """The file, every batch in it readable and its counts and totals as the header says."""
    body = _unseal(raw, b"CTIX", name)
    if len(body) < _FILE_HEAD.size:
        raise InterchangeError(f"{name}: header truncated")
    _, _, src, dst, seq, day, count, records, purchase_fen = _FILE_HEAD.unpack_from(body)
    at, batches = _FILE_HEAD.size, []
    for n in range(count):
        if at + 1 > len(body) or at + 1 + body[at] + 4 > len(body):
            raise InterchangeError(f"{name}: batch {n} runs past the end")
        plen = body[at]
        participant = body[at + 1 : at + 1 + plen].decode("ascii", "replace")
        at += 1 + plen
        size = int.from_bytes(body[at : at + 4], "big")
        at += 4
        if at + size > len(body):
            raise InterchangeError(f"{name}: batch {n} runs past the end")
        batches.append((participant, body[at : at + size]))
        at += size
    if at != len(body):
        raise InterchangeError(f"{name}: {len(body) - at} bytes after the last batch")
    seen_records = seen_fen = 0
    for n, (_, batch) in enumerate(batches):
        parsed = parse_batch(batch, f"{name} batch {n}")
        if parsed.header is None or parsed.faults or parsed.batch_faults:
            raise InterchangeError(f"{name}: batch {n} is not a sound terminal batch")
        seen_records += len(parsed.records)
        seen_fen += sum(r.amount_fen for _, _, r in parsed.records if not r.is_load)
    if (seen_records, seen_fen) != (records, purchase_fen):
        raise InterchangeError(
            f"{name}: header says {records} records, {purchase_fen} fen; "
            f"batches hold {seen_records}, {seen_fen}"
        )
    return InterchangeFile(src, dst, seq, day, tuple(batches), records, purchase_fen)


def encode_ack(a: Ack) -> bytes:
    return _sealed(
        _ACK.pack(
            b"CTIK", _VERSION, a.from_city, a.to_city, a.seq, a.file_digest, a.posted, a.held, a.posted_fen
        )
    )


def decode_ack(raw: bytes, name: str) -> Ack:
    body = _unseal(raw, b"CTIK", name)
    if len(body) != _ACK.size:
        raise InterchangeError(f"{name}: {len(body)} bytes, an acknowledgement has {_ACK.size}")
    _, _, src, dst, seq, file_digest, posted, held, fen = _ACK.unpack(body)
    return Ack(src, dst, seq, file_digest, posted, held, fen)


def encode_advice(a: Advice) -> bytes:
    if len(a.lines) > ADVICE_LINES_MAX:
        raise InterchangeError(f"advice {a.business_day}: {len(a.lines)} lines, at most {ADVICE_LINES_MAX}")
    parts = [_ADVICE_HEAD.pack(b"CTIV", _VERSION, a.from_city, a.to_city, a.business_day, len(a.lines))]
    for line in a.lines:
        p = _text(line.participant)
        parts += [bytes((len(p),)), p, _LINE.pack(line.count, line.gross_fen, line.fee_fen, line.net_fen)]
    return _sealed(b"".join(parts))


def decode_advice(raw: bytes, name: str) -> Advice:
    body = _unseal(raw, b"CTIV", name)
    if len(body) < _ADVICE_HEAD.size:
        raise InterchangeError(f"{name}: header truncated")
    _, _, src, dst, day, count = _ADVICE_HEAD.unpack_from(body)
    at, lines = _ADVICE_HEAD.size, []
    for n in range(count):
        plen = body[at] if at < len(body) else 0
        if at + 1 + plen + _LINE.size > len(body):
            raise InterchangeError(f"{name}: line {n} runs past the end")
        participant = body[at + 1 : at + 1 + plen].decode("ascii", "replace")
        line = AdviceLine(participant, *_LINE.unpack_from(body, at + 1 + plen))
        if line.net_fen != line.gross_fen - line.fee_fen or line.fee_fen > line.gross_fen:
            raise InterchangeError(f"{name}: line {n} ({participant}): net is not gross less the fee")
        lines.append(line)
        at += 1 + plen + _LINE.size
    if at != len(body):
        raise InterchangeError(f"{name}: {len(body) - at} bytes after the last line")
    return Advice(src, dst, day, tuple(lines))
