"""Transaction date and time as the card carries them: BCD YYYYMMDD (4 bytes) and HHMMSS (3)."""

from __future__ import annotations

from datetime import date, datetime

from model.errors import CardTwinError


class DateFormatError(CardTwinError):
    """Bytes that are not a valid BCD date or time."""


def card_time(moment: datetime) -> datetime:
    """The moment as the card will record it: whole seconds. Terminals stamp records with this,
    so a record, the card's log and a recovery compare equal."""
    return moment.replace(microsecond=0) if moment.microsecond else moment


def _bcd(digits: str) -> bytes:
    return bytes.fromhex(digits)


_BCD = tuple((n // 10) << 4 | n % 10 for n in range(100))  # 0..99 -> its BCD byte (every tap)


def encode_datetime(moment: datetime) -> bytes:
    """7 bytes: date(4) || time(3) in BCD."""
    year = moment.year
    return bytes(
        (
            _BCD[year // 100],
            _BCD[year % 100],
            _BCD[moment.month],
            _BCD[moment.day],
            _BCD[moment.hour],
            _BCD[moment.minute],
            _BCD[moment.second],
        )
    )


def encode_date(day: date) -> bytes:
    return _bcd(f"{day.year:04d}{day.month:02d}{day.day:02d}")


DATES_KEPT_MAX = 4096  # decoded dates kept: cards carry few distinct validity dates


_dates: dict[bytes, date] = {}


def decode_date(raw: bytes, where: str = "date") -> date:
    # Every tap decodes the card's start and expiry dates, and a city's cards share a few.
    key = bytes(raw)
    day = _dates.get(key)
    if day is None:
        day = _decode_date(key, where)
        if len(_dates) >= DATES_KEPT_MAX:
            _dates.clear()
        _dates[key] = day
    return day


def _decode_date(raw: bytes, where: str) -> date:
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
