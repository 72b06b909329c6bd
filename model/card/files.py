"""Layouts of the e-purse application's files, shared by the card factory and the terminal.

DECIDE choices (JT/T 978 fixes the sizes, each city its own contents):

- 0x15 public information, 30 bytes: issuer id(8) | application type(1) | version(1) |
  application serial number(10: 00 00 + the 8-byte ASN) | start date(4) | expiry date(4) |
  card type(1) | reserved(1).
- 0x16 cardholder, 55 bytes: card type flag(1) | staff flag(1) | name(20, GBK, 00-padded) |
  ID number(32, ASCII) | ID type(1).
- 0x17 management, 60 bytes: country(4) | province(2) | city(2) | interop type(2) |
  card type(1) | reserved(49).
- 0x18 cyclic transaction log, 10 records of 23 bytes, record 1 the newest: counter(2) |
  overdraft limit(3) | amount(4) | type(1) | terminal id(6) | date(4) | time(3).
- 0x1A composite-purchase (CAPP) records, 2 records of 64 bytes (128 bytes in all), addressed
  by record id (01 metro, 02 bus); layout in `CappRecord`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum

from model.errors import CardTwinError
from model.timefmt import decode_date, decode_datetime, encode_date, encode_datetime

EPURSE_AID = bytes.fromhex("A000000632010105")

SFI_PUBLIC = 0x15
SFI_HOLDER = 0x16
SFI_MANAGEMENT = 0x17
SFI_LOG = 0x18
SFI_CAPP = 0x1A

PUBLIC_SIZE = 30
HOLDER_SIZE = 55
MANAGEMENT_SIZE = 60
LOG_RECORD_SIZE = 23
LOG_RECORDS_MAX = 10
CAPP_RECORD_SIZE = 64
CAPP_RECORDS_MAX = 2

CAPP_ID_METRO = 0x01
CAPP_ID_BUS = 0x02

APP_TYPE_EP_ED = 0x03
APP_VERSION = 0x01


class CardFileError(CardTwinError):
    """A card file whose bytes do not have the layout of its kind."""


class CardType(IntEnum):
    ADULT = 0x01
    STUDENT = 0x02
    ELDERLY = 0x03


_CARD_TYPES = {int(t): t for t in CardType}


def _need(raw: bytes, size: int, what: str) -> None:
    if len(raw) != size:
        raise CardFileError(f"{what}: {len(raw)} bytes, expected {size}")


@dataclass(frozen=True, slots=True)
class PublicInfo:
    """File 0x15: who issued the card, its ASN, its validity and its card type."""

    issuer_id: bytes
    asn: bytes
    start: date
    expiry: date
    card_type: CardType

    def encode(self) -> bytes:
        return (
            self.issuer_id
            + bytes((APP_TYPE_EP_ED, APP_VERSION))
            + b"\x00\x00"
            + self.asn
            + encode_date(self.start)
            + encode_date(self.expiry)
            + bytes((self.card_type, 0))
        )

    @staticmethod
    def decode(raw: bytes) -> PublicInfo:
        _need(raw, PUBLIC_SIZE, "file 15 (public information)")
        card_type = _CARD_TYPES.get(raw[28])  # (every tap: a dict, not the enum's call)
        if card_type is None:
            raise CardFileError(f"file 15: card type {raw[28]:02X} is unknown")
        return PublicInfo(
            issuer_id=raw[0:8],
            asn=raw[12:20],
            start=decode_date(raw[20:24], "file 15 start date"),
            expiry=decode_date(raw[24:28], "file 15 expiry date"),
            card_type=card_type,
        )

    def valid_on(self, day: date) -> bool:
        return self.start <= day <= self.expiry


def encode_holder(card_type: CardType, name: str, id_number: str, id_type: int = 0) -> bytes:
    """File 0x16 bytes; the name is GBK as on Chinese cards, truncated to 20 bytes."""
    name_raw = name.encode("gbk")[:20].ljust(20, b"\x00")
    id_raw = id_number.encode("ascii")[:32].ljust(32, b"\x00")
    return bytes((card_type, 0)) + name_raw + id_raw + bytes((id_type,))


def encode_management(card_type: CardType, city_code: bytes = b"\x33\x01") -> bytes:
    """File 0x17 bytes: China (0156), the city code (default 3301 Hangzhou), the card type."""
    return (
        bytes.fromhex("00000156") + city_code[:1] + b"\x00" + city_code + b"\x00\x01" + bytes((card_type,))
    ).ljust(MANAGEMENT_SIZE, b"\x00")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One record of the card's cyclic transaction log (file 0x18)."""

    counter: int
    overdraft_limit_fen: int
    amount_fen: int
    tx_type: int
    terminal_id: bytes
    moment: datetime

    def encode(self) -> bytes:
        return log_record(
            self.counter,
            self.overdraft_limit_fen,
            self.amount_fen,
            self.tx_type,
            self.terminal_id,
            encode_datetime(self.moment),
        )

    @staticmethod
    def decode(raw: bytes) -> LogEntry:
        _need(raw, LOG_RECORD_SIZE, "log record")
        return LogEntry(
            counter=int.from_bytes(raw[0:2], "big"),
            overdraft_limit_fen=int.from_bytes(raw[2:5], "big"),
            amount_fen=int.from_bytes(raw[5:9], "big"),
            tx_type=raw[9],
            terminal_id=raw[10:16],
            moment=decode_datetime(raw[16:23], "log record date/time"),
        )


def log_record(
    counter: int,
    overdraft_fen: int,
    amount_fen: int,
    tx_type: int,
    terminal_id: bytes,
    date_time: bytes,
) -> bytes:
    """Raw log record bytes from the fields as the card has them (date/time already BCD)."""
    return (
        counter.to_bytes(2, "big")
        + overdraft_fen.to_bytes(3, "big")
        + amount_fen.to_bytes(4, "big")
        + bytes((tx_type,))
        + terminal_id
        + date_time
    )


@dataclass(frozen=True, slots=True)
class CappRecord:
    """A composite-purchase record (file 0x1A): the state of a trip across entry and exit.

    Layout (64 bytes): record id(1) | length of the rest = 62(1) | trip open 01 / closed 00(1) |
    entry station(2) | entry terminal(6) | entry date/time(7) | exit station(2) |
    exit terminal(6) | exit date/time(7) | fare charged at exit(4) | zeros(27).
    """

    record_id: int
    trip_open: bool
    entry_station: int
    entry_terminal: bytes
    entry_time: datetime | None
    exit_station: int = 0
    exit_terminal: bytes = bytes(6)
    exit_time: datetime | None = None
    fare_fen: int = 0

    def encode(self) -> bytes:
        raw = (
            bytes((self.record_id, CAPP_RECORD_SIZE - 2, 1 if self.trip_open else 0))
            + self.entry_station.to_bytes(2, "big")
            + self.entry_terminal
            + (encode_datetime(self.entry_time) if self.entry_time else bytes(7))
            + self.exit_station.to_bytes(2, "big")
            + self.exit_terminal
            + (encode_datetime(self.exit_time) if self.exit_time else bytes(7))
            + self.fare_fen.to_bytes(4, "big")
        )
        return raw.ljust(CAPP_RECORD_SIZE, b"\x00")

    @staticmethod
    def decode(raw: bytes) -> CappRecord | None:
        """None for a record never written (all zero after the id)."""
        _need(raw, CAPP_RECORD_SIZE, "CAPP record")
        if not any(raw[1:]):
            return None
        entry_raw, exit_raw = raw[11:18], raw[26:33]
        return CappRecord(
            record_id=raw[0],
            trip_open=raw[2] == 1,
            entry_station=int.from_bytes(raw[3:5], "big"),
            entry_terminal=raw[5:11],
            entry_time=decode_datetime(entry_raw, "CAPP entry time") if any(entry_raw) else None,
            exit_station=int.from_bytes(raw[18:20], "big"),
            exit_terminal=raw[20:26],
            exit_time=decode_datetime(exit_raw, "CAPP exit time") if any(exit_raw) else None,
            fare_fen=int.from_bytes(raw[33:37], "big"),
        )
