"""Command and response APDUs (ISO/IEC 7816-4, short form) and the status words we use.

Only short APDUs exist in this protocol family: Lc and Le are one byte each, and Le = 00 means
256. An extended-length APDU (Lc = 00 followed by two length bytes) is rejected as malformed,
as a PBOC card would.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from model.errors import ApduFormatError


class SW(IntEnum):
    """Status words of the e-purse card and PSAM (JR/T 0025, JT/T 978, ISO 7816-4).

    DECIDE (not fixed by the sources): 6A84 "no room in the purse" answers a load that would
    exceed the maximum balance; 6985 also answers a transaction dated outside the card's
    validity; 6A81 answers every command to a blocked application, SELECT included.
    """

    OK = 0x9000
    WRONG_LENGTH = 0x6700
    SECURITY_NOT_SATISFIED = 0x6982
    PIN_BLOCKED = 0x6983
    CONDITIONS_NOT_SATISFIED = 0x6985
    WRONG_DATA = 0x6A80
    APP_BLOCKED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    NO_ROOM = 0x6A84
    WRONG_P1P2 = 0x6A86
    WRONG_OFFSET = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    MAC_INVALID = 0x9302
    INSUFFICIENT_BALANCE = 0x9401
    COUNTER_EXHAUSTED = 0x9402
    KEY_INDEX_UNSUPPORTED = 0x9403
    PROOF_UNAVAILABLE = 0x9406


SW_NAMES: dict[int, str] = {int(sw): sw.name.lower().replace("_", " ") for sw in SW}


def describe_sw(sw: int) -> str:
    """A human name for a status word, including the parametrised ones (61xx, 6Cxx, 63Cx)."""
    if sw in SW_NAMES:
        return SW_NAMES[sw]
    high, low = sw >> 8, sw & 0xFF
    if high == 0x61:
        return f"{low} bytes waiting (GET RESPONSE)"
    if high == 0x6C:
        return f"wrong Le, exact length {low}"
    if sw & 0xFFF0 == 0x63C0:
        return f"wrong PIN, {sw & 0x0F} tries left"
    return "unknown status"


class Command(NamedTuple):
    """A parsed command APDU. `le` is None when absent, 256 when encoded as 00."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None

    def to_bytes(self) -> bytes:
        return encode_command(self.cla, self.ins, self.p1, self.p2, self.data, self.le)


def encode_command(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
    """Encode a short command APDU; raises ApduFormatError for out-of-range fields."""
    try:
        out = bytes((cla, ins, p1, p2))  # (the range check of the four header bytes)
    except ValueError:
        for name, value in (("CLA", cla), ("INS", ins), ("P1", p1), ("P2", p2)):
            if not 0 <= value <= 0xFF:
                raise ApduFormatError(f"command APDU: {name}={value} does not fit in one byte") from None
        raise
    if data:
        if len(data) > 255:
            raise ApduFormatError(f"command APDU: {len(data)} data bytes exceed the short-form 255")
        out += bytes((len(data),)) + data
    if le is not None:
        if not 1 <= le <= 256:
            raise ApduFormatError(f"command APDU: Le={le} outside 1..256")
        out += bytes((le & 0xFF,))
    return out


def parse_command(raw: bytes) -> Command:
    """Parse a short command APDU (cases 1 to 4); raises ApduFormatError saying what is wrong."""
    return Command(*command_fields(raw))


def command_fields(raw: bytes) -> tuple[int, int, int, int, bytes, int | None]:
    """`parse_command` as a plain tuple (CLA, INS, P1, P2, data, Le), for the chips' hot path."""
    n = len(raw)
    if n > 5 and n == raw[4] + 6 and raw[4]:  # case 4 first: most commands of a tap are
        return raw[0], raw[1], raw[2], raw[3], bytes(raw[5:-1]), raw[-1] or 256
    if n < 4:
        raise ApduFormatError(f"command APDU: {n} bytes, a header needs 4")
    cla, ins, p1, p2 = raw[:4]
    if n == 4:
        return cla, ins, p1, p2, b"", None
    if n == 5:
        return cla, ins, p1, p2, b"", raw[4] or 256
    lc = raw[4]
    if lc == 0:
        raise ApduFormatError("command APDU: Lc=00 (extended length) is not supported")
    if n == 5 + lc:
        return cla, ins, p1, p2, bytes(raw[5:]), None
    if n == 6 + lc:
        return cla, ins, p1, p2, bytes(raw[5 : 5 + lc]), raw[5 + lc] or 256
    raise ApduFormatError(f"command APDU: Lc={lc} but {n - 5} bytes follow the header")


class Response(NamedTuple):
    """A response APDU: data and the two-byte status word."""

    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == SW.OK

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")


def parse_response(raw: bytes) -> Response:
    """Split a response APDU into data and status word."""
    if len(raw) < 2:
        raise ApduFormatError(f"response APDU: {len(raw)} bytes, a status word needs 2")
    return Response(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))


def status(sw: int) -> bytes:
    """A data-less response carrying just a status word."""
    return sw.to_bytes(2, "big")
