"""A small BER-TLV reader for the FCI a card answers to SELECT (ISO/IEC 7816-4 annex D).

Only what FCIs use: one- or two-byte tags, short and long (81/82) lengths, constructed tags
(bit 6 of the first byte) searched recursively. Malformed input raises TlvError, never an
IndexError, because the bytes come from a card we do not trust.
"""

from __future__ import annotations

from model.errors import CardTwinError


class TlvError(CardTwinError):
    """Bytes that are not well-formed BER-TLV."""


def _read_tag(raw: bytes, at: int) -> tuple[int, int]:
    if at >= len(raw):
        raise TlvError(f"TLV: tag expected at offset {at}")
    tag = raw[at]
    at += 1
    if tag & 0x1F == 0x1F:
        if at >= len(raw):
            raise TlvError(f"TLV: two-byte tag cut at offset {at}")
        tag = (tag << 8) | raw[at]
        at += 1
    return tag, at


def _read_length(raw: bytes, at: int) -> tuple[int, int]:
    if at >= len(raw):
        raise TlvError(f"TLV: length expected at offset {at}")
    first = raw[at]
    at += 1
    if first < 0x80:
        return first, at
    count = first & 0x7F
    if count not in (1, 2) or at + count > len(raw):
        raise TlvError(f"TLV: bad length form {first:02X} at offset {at - 1}")
    return int.from_bytes(raw[at : at + count], "big"), at + count


def find(raw: bytes, wanted: int) -> bytes | None:
    """The value of the first `wanted` tag, searching inside constructed tags."""
    at = 0
    while at < len(raw):
        tag, at = _read_tag(raw, at)
        length, at = _read_length(raw, at)
        if at + length > len(raw):
            raise TlvError(f"TLV: tag {tag:X} claims {length} bytes, {len(raw) - at} remain")
        value = raw[at : at + length]
        if tag == wanted:
            return value
        first_byte = tag >> 8 if tag > 0xFF else tag
        if first_byte & 0x20:
            inner = find(value, wanted)
            if inner is not None:
                return inner
        at += length
    return None
