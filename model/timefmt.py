"""Transaction date and time as the card carries them: BCD YYYYMMDD (4 bytes) and HHMMSS (3)."""

from __future__ import annotations

from datetime import date, datetime

from model.errors import CardTwinError


class DateFormatError(CardTwinError):
    """Bytes that are not a valid BCD date or time."""


def card_time(moment: datetime) -> datetime:
    """The moment as the card will record it: whole seconds. Terminals stamp records with this,
    so a record, the card's log and a recovery compare equal."""
    return moment.replace(microsecond=0)


def _bcd(digits: str) -> bytes:
    return bytes.fromhex(digits)


def encode_datetime(moment: datetime) -> bytes:
    """7 bytes: date(4) || time(3) in BCD."""
    return _bcd(
        f"{moment.year:04d}{moment.month:02d}{moment.day:02d}"
        f"{moment.hour:02d}{moment.minute:02d}{moment.second:02d}"
    )


def encode_date(day: date) -> bytes:
    return _bcd(f"{day.year:04d}{day.month:02d}{day.day:02d}")


def decode_date(raw: bytes, where: str = "date") -> date:
    digits = raw.hex()
    try:
        if len(raw) != 4 or not digits.isdigit():
            raise ValueError
        return date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise DateFormatError(f"{where}: {digits.upper()} is not a BCD date YYYYMMDD") from None


def decode_datetime(raw: bytes, where: str = "date/time") -> datetime:
    digits = raw.hex()
    try:
        if len(raw) != 7 or not digits.isdigit():
            raise ValueError
        return datetime(
            int(digits[0:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
            int(digits[12:14]),
        )
    except ValueError:
        raise DateFormatError(f"{where}: {digits.upper()} is not BCD YYYYMMDDhhmmss") from None
