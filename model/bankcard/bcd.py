"""Numeric data of the financial IC card: n12 amounts in fen, PANs and dates in packed BCD.

EMV "n" fields are packed BCD, right-justified and zero-filled; "cn" fields (the PAN) are
left-justified and padded with F. An amount `9F02`/`9F79` is n12: six bytes, twelve digits of
fen, so at most 999 999 999 999 fen. Bytes from a terminal or a card are checked digit by digit:
a nibble above 9 is a CardTwinError naming the field, never a silent wrong number.
"""

from __future__ import annotations

from model.errors import CardTwinError

AMOUNT_N12_FEN_MAX = 999_999_999_999  # twelve decimal digits
AMOUNT_N12_SIZE = 6
PAN_DIGITS_MIN, PAN_DIGITS_MAX = 12, 19  # ISO/IEC 7812


class BcdError(CardTwinError):
    """A value that is not the BCD it claims to be (a bad nibble, a wrong length, out of range)."""


def encode_n(value: int, size: int, where: str) -> bytes:
    """`value` as n(2*size): packed BCD, right-justified, zero-filled."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BcdError(f"{where}: {value!r} is not a non-negative integer")
    digits = str(value)
    if len(digits) > 2 * size:
        raise BcdError(f"{where}: {value} needs {len(digits)} digits, the field holds {2 * size}")
    return bytes.fromhex(digits.zfill(2 * size))


def decode_n(raw: bytes, where: str) -> int:
    """The integer of a packed-BCD n field; any nibble above 9 is an error."""
    text = raw.hex()
    if not text.isdigit():
        raise BcdError(f"{where}: {text.upper()} is not packed BCD")
    return int(text) if text else 0


def encode_amount_fen(amount_fen: int, where: str = "amount") -> bytes:
    """An amount in fen as the six-byte n12 of `9F02`, `9F03`, `9F79`, `9F77`, `9F78`, `9F6D`."""
    return encode_n(amount_fen, AMOUNT_N12_SIZE, where)


def decode_amount_fen(raw: bytes, where: str = "amount") -> int:
    """The fen of a six-byte n12 amount."""
    if len(raw) != AMOUNT_N12_SIZE:
        raise BcdError(f"{where}: {len(raw)} bytes, an n12 amount has {AMOUNT_N12_SIZE}")
    return decode_n(raw, where)


def check_pan(pan: str, where: str = "PAN") -> str:
    """A PAN of 12-19 decimal digits, returned unchanged."""
    if not (pan.isascii() and pan.isdigit() and PAN_DIGITS_MIN <= len(pan) <= PAN_DIGITS_MAX):
        raise BcdError(f"{where}: {pan!r} is not a PAN of {PAN_DIGITS_MIN}-{PAN_DIGITS_MAX} digits")
    return pan


def encode_pan(pan: str) -> bytes:
    """The PAN as `5A` carries it: cn, left-justified, padded with F to whole bytes."""
    check_pan(pan)
    return bytes.fromhex(pan + "F" * (len(pan) % 2))


def decode_pan(raw: bytes, where: str = "PAN 5A") -> str:
    """The digits of a `5A` PAN (trailing F padding removed)."""
    return check_pan(raw.hex().upper().rstrip("F"), where)


def encode_date(year: int, month: int, day: int, where: str = "date") -> bytes:
    """YYMMDD as n6 (`9A`, `5F24`, `5F25`); years 2000-2099."""
    if not (2000 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31):
        raise BcdError(f"{where}: {year:04d}-{month:02d}-{day:02d} is not a date of 2000-2099")
    return bytes.fromhex(f"{year % 100:02d}{month:02d}{day:02d}")


def decode_date(raw: bytes, where: str = "date") -> tuple[int, int, int]:
    """(year, month, day) of an n6 YYMMDD date."""
    if len(raw) != 3:
        raise BcdError(f"{where}: {len(raw)} bytes, a YYMMDD date has 3")
    value = decode_n(raw, where)
    year, month, day = 2000 + value // 10_000, value // 100 % 100, value % 100
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise BcdError(f"{where}: {raw.hex()} is not a YYMMDD date")
    return year, month, day
