"""Talking to a card through a `CardChannel`: one exchange, and the reads every terminal does.

`exchange` is the single place where a status word becomes a typed error, so every caller
gets the same error for the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.card import commands, tlv
from model.card.apdu import SW, describe_sw, parse_response
from model.card.channel import CardChannel
from model.card.files import (
    CAPP_RECORD_SIZE,
    LOG_RECORDS_MAX,
    PUBLIC_SIZE,
    SFI_CAPP,
    SFI_LOG,
    SFI_PUBLIC,
    CappRecord,
    LogEntry,
    PublicInfo,
)
from model.card.tlv import TlvError
from model.errors import (
    ApplicationNotFoundError,
    BalanceLimitError,
    CardBlockedError,
    CardStatusError,
    CounterExhaustedError,
    InsufficientBalanceError,
    KeyIndexError,
    MacInvalidError,
    PinError,
    ProofUnavailableError,
)
from model.security import Algorithm

_ERRORS: dict[int, type[CardStatusError]] = {
    SW.FILE_NOT_FOUND: ApplicationNotFoundError,
    SW.APP_BLOCKED: CardBlockedError,
    SW.INSUFFICIENT_BALANCE: InsufficientBalanceError,
    SW.NO_ROOM: BalanceLimitError,
    SW.COUNTER_EXHAUSTED: CounterExhaustedError,
    SW.MAC_INVALID: MacInvalidError,
    SW.KEY_INDEX_UNSUPPORTED: KeyIndexError,
    SW.PROOF_UNAVAILABLE: ProofUnavailableError,
}


def status_error(name: str, sw: int) -> CardStatusError:
    """The typed error for a status word answered to command `name`."""
    if sw & 0xFFF0 == 0x63C0:
        return PinError(name, sw, sw & 0x0F)
    if sw == SW.PIN_BLOCKED:
        return PinError(name, sw, 0)
    return _ERRORS.get(sw, CardStatusError)(name, sw, describe_sw(sw))


def algorithm_of(value: int, name: str) -> Algorithm:
    """The algorithm a card names in its INITIALIZE answer: one the terminal does not know is
    the card's error, not the terminal's crash (found by tests/test_fuzz.py)."""
    algorithm = _ALGORITHMS.get(value)
    if algorithm is None:
        raise CardStatusError(name, SW.OK, f"unknown algorithm {value:02X}")
    return algorithm


_ALGORITHMS = {int(a): a for a in Algorithm}


_SW_OK = b"\x90\x00"


def exchange(channel: CardChannel, command: bytes, name: str, expect_len: int | None = None) -> bytes:
    """Send one command; return the response data or raise the typed error for its SW."""
    raw = channel.transmit(command)
    if raw[-2:] != _SW_OK:  # (the test first: every answer of a good tap is 9000)
        raise status_error(name, parse_response(raw).sw)
    data = bytes(raw[:-2])
    if expect_len is not None and len(data) != expect_len:
        raise CardStatusError(name, 0x9000, f"{len(data)} data bytes, expected {expect_len}")
    return data


FCI_TAG_ISSUER_DATA = 0x9F0C
_SELECT = commands.select()  # sent at every tap: encoded once


def select_epurse(card: CardChannel) -> PublicInfo | None:
    """SELECT the e-purse; the public information if the FCI carries it (tag 9F0C, as JT/T 978
    cards do), which spares the terminal a READ BINARY on every tap."""
    fci = exchange(card, _SELECT, "SELECT e-purse")
    issuer_data = _issuer_data_plain(fci)
    if issuer_data is None:
        try:
            issuer_data = tlv.find(fci, FCI_TAG_ISSUER_DATA)
        except TlvError:
            return None
    if issuer_data is None or len(issuer_data) != PUBLIC_SIZE:
        return None
    return PublicInfo.decode(issuer_data)


def _issuer_data_plain(fci: bytes) -> bytes | None:
    """The 9F0C value when the FCI is exactly 6F { 84 AID, A5 { 9F0C public } } with one-byte
    lengths (the simulated card's, and most e-purse cards'), read by offsets; None for any
    other layout, which the general TLV walk then reads."""
    n = len(fci)
    if n < 4 or fci[0] != 0x6F or fci[1] != n - 2 or fci[2] != 0x84:
        return None
    at = 4 + fci[3]  # past the AID
    end = at + 5 + PUBLIC_SIZE
    if end != n or fci[at] != 0xA5 or fci[at + 1] != 3 + PUBLIC_SIZE or fci[at + 2 : at + 5] != _ISSUER_TL:
        return None
    return fci[at + 5 : end]


_ISSUER_TL = FCI_TAG_ISSUER_DATA.to_bytes(2, "big") + bytes((PUBLIC_SIZE,))


def read_public(card: CardChannel) -> PublicInfo:
    return PublicInfo.decode(exchange(card, commands.read_binary(SFI_PUBLIC), "READ BINARY 15"))


def open_epurse(card: CardChannel) -> PublicInfo:
    """SELECT and identify the card: from the FCI when it has the public file, else READ BINARY."""
    return select_epurse(card) or read_public(card)


def get_balance(card: CardChannel, purse: int = commands.PURSE_EP) -> int:
    raw = exchange(card, commands.get_balance(purse), "GET BALANCE", 4)
    return int.from_bytes(raw, "big", signed=True)


def read_log(card: CardChannel) -> list[LogEntry]:
    """The card's transaction log, newest first."""
    entries = []
    for record in range(1, LOG_RECORDS_MAX + 1):
        data, sw = parse_response(card.transmit(commands.read_record(SFI_LOG, record)))
        if sw == SW.RECORD_NOT_FOUND:
            break
        if sw != SW.OK:
            raise status_error(f"READ RECORD log #{record}", sw)
        entries.append(LogEntry.decode(data))
    return entries


def read_capp(card: CardChannel, record_id: int) -> CappRecord | None:
    """The composite record `record_id` (01 metro), or None if the card has none yet."""
    data, sw = parse_response(card.transmit(commands.read_record(SFI_CAPP, record_id)))
    if sw == SW.RECORD_NOT_FOUND:
        return None
    if sw != SW.OK:
        raise status_error(f"READ RECORD CAPP {record_id:02X}", sw)
    if len(data) != CAPP_RECORD_SIZE:
        raise CardStatusError(f"READ RECORD CAPP {record_id:02X}", sw, f"{len(data)} bytes")
    return CappRecord.decode(data)


def get_proof(card: CardChannel, tx_type: int, counter: int) -> tuple[bytes, bytes] | None:
    """GET TRANSACTION PROOF: (MAC, TAC) if the card committed that transaction, else None."""
    data, sw = parse_response(card.transmit(commands.get_transaction_proof(tx_type, counter)))
    if sw == SW.PROOF_UNAVAILABLE:
        return None
    if sw != SW.OK or len(data) != 8:
        raise status_error("GET TRANSACTION PROOF", sw)
    return data[:4], data[4:]


@dataclass(frozen=True, slots=True)
class CardInfo:
    """What a terminal reads from a card before any transaction."""

    public: PublicInfo
    balance_fen: int
    log: list[LogEntry]


def read_card(card: CardChannel) -> CardInfo:
    """Select the e-purse and read public info, EP balance and log."""
    public = open_epurse(card)
    return CardInfo(public=public, balance_fen=get_balance(card), log=read_log(card))
