"""Transaction date and time as the card carries them: BCD YYYYMMDD (4 bytes) and HHMMSS (3)."""

from __future__ import annotations

from datetime import date, datetime

from model.errors import CardTwinError


class DateFormatError(CardTwinError):
    """Bytes that are not a valid BCD date or time."""


def _bcd(digits: str) -> bytes:
    return bytes.fromhex(digits)


def encode_datetime(moment: datetime) -> bytes:
    """7 bytes: date(4) || time(3) in BCD."""
    return _bcd(moment.strftime("%Y%m%d%H%M%S"))


def encode_date(day: date) -> bytes:
    return _bcd(day.strftime("%Y%m%d"))


def decode_date(raw: bytes, where: str = "date") -> date:
    try:
        return datetime.strptime(raw.hex(), "%Y%m%d").date()
    except ValueError:
        raise DateFormatError(f"{where}: {raw.hex().upper()} is not a BCD date YYYYMMDD") from None


def decode_datetime(raw: bytes, where: str = "date/time") -> datetime:
    try:
        return datetime.strptime(raw.hex(), "%Y%m%d%H%M%S")
    except ValueError:
        raise DateFormatError(f"{where}: {raw.hex().upper()} is not BCD YYYYMMDDhhmmss") from None
