"""The terminal kernel of a PBOC 2.0 bank card: the commands every bank terminal sends, over the
abstract `CardChannel` (a simulated card, a card through pcscd, a real card: the same code).

`open_card` is the shared opening of every transaction (Keyple's habit): application selection
by the PSE `1PAY.SYS.DDF01` (then the candidate list of PBOC AIDs when a card has no PSE),
SELECT of the AID with its PDOL, GET PROCESSING OPTIONS with the PDOL filled in, and READ
RECORD of every record the AFL names. What it learned is a `CardSession`; `first_ac`,
`second_ac`, `put_data` and `get_amount` continue from it. Every status word other than 9000
is a `CardStatusError` naming the command; `CardRemovedError` passes through untouched, since
only the transaction (which knows what the card may have committed) can recover from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import model.bankcard.objects as t
from model.bankcard.bcd import decode_amount_fen, decode_n, decode_pan, encode_amount_fen, encode_date
from model.bankcard.objects import build_dol_data, parse_dol, tlv
from model.card import CardChannel, encode_command, parse_response
from model.card.tlv import find
from model.errors import CardStatusError, CardTwinError

PSE_NAME = b"1PAY.SYS.DDF01"
CANDIDATE_AIDS = (
    bytes.fromhex("A000000333010101"),
    bytes.fromhex("A000000333010102"),
    bytes.fromhex("A000000333010103"),
)
AFL_ENTRIES_MAX = 8  # a card's AFL names a few files; more is a card we do not trust
RECORDS_MAX = 16
PSE_RECORDS_MAX = 8
COUNTRY_CHINA = b"\x01\x56"
CURRENCY_CNY = b"\x01\x56"
TX_PURCHASE = 0x00  # 9C
TX_EC_LOAD, TX_EC_UNLOAD = 0x60, 0x62  # DECIDE: 9C of the designated-account EC load and unload
AC_AAC, AC_TC, AC_ARQC = 0x00, 0x40, 0x80


class KernelError(CardTwinError):
    """A card whose answers break the protocol (no PAN, a bad AFL, a missing cryptogram)."""


@dataclass(frozen=True, slots=True)
class CardSession:
    """What the opening learned: identity, data object lists, and the terminal data sent."""

    aid: bytes
    pan: str
    pan_sequence: int
    aip: bytes
    cdol1: tuple[tuple[int, int], ...]
    cdol2: tuple[tuple[int, int], ...]
    terminal_data: dict[int, bytes]
    records: tuple[bytes, ...] = ()  # the values of the records the AFL named, in AFL order


@dataclass(frozen=True, slots=True)
class AcAnswer:
    """The card's answer to GENERATE AC."""

    cid: int  # 00 AAC, 40 TC, 80 ARQC
    atc: int
    cryptogram: bytes
    iad: bytes
    dol_data: bytes  # what the terminal sent, which the cryptogram covers


def send(card: CardChannel, command: bytes, what: str) -> bytes:
    """One command; the data of a 9000 answer, else a CardStatusError naming `what`."""
    response = parse_response(card.transmit(command))
    if not response.ok:
        raise CardStatusError(what, response.sw)
    return response.data


def select_application(card: CardChannel) -> tuple[bytes, bytes]:
    """(AID, PDOL) of the card's PBOC application: by the PSE directory, else by candidate list."""
    aids: list[bytes] = []
    response = parse_response(card.transmit(encode_command(0x00, 0xA4, 0x04, 0x00, PSE_NAME, 256)))
    if response.ok:
        sfi = (find(response.data, t.TAG_SFI_OF_DIRECTORY) or b"\x01")[0]
        for number in range(1, PSE_RECORDS_MAX + 1):
            record = parse_response(card.transmit(encode_command(0x00, 0xB2, number, (sfi << 3) | 4, le=256)))
            if not record.ok:
                break
            aid = find(record.data, t.TAG_AID)
            if aid in CANDIDATE_AIDS:
                aids.append(aid)
    for aid in aids or list(CANDIDATE_AIDS):
        answer = parse_response(card.transmit(encode_command(0x00, 0xA4, 0x04, 0x00, aid, 256)))
        if answer.ok:
            return aid, find(answer.data, t.TAG_PDOL) or b""
        if answer.sw == 0x6283:
            raise CardStatusError("SELECT AID", answer.sw, "the application is blocked")
        if answer.sw != 0x6A82:
            raise CardStatusError("SELECT AID", answer.sw)
    raise CardStatusError("SELECT AID", 0x6A82, "no PBOC application on the card")


def terminal_data(
    amount_fen: int, now: datetime, tx_type: int, unpredictable: bytes, ec_support: bool
) -> dict[int, bytes]:
    """The terminal's data objects of one transaction, for the card's DOLs to pick from."""
    return {
        t.TAG_AMOUNT_AUTHORISED: encode_amount_fen(amount_fen),
        t.TAG_AMOUNT_OTHER: encode_amount_fen(0),
        t.TAG_TERMINAL_COUNTRY: COUNTRY_CHINA,
        t.TAG_TVR: bytes(5),
        t.TAG_CURRENCY: CURRENCY_CNY,
        t.TAG_TRANSACTION_DATE: encode_date(now.year, now.month, now.day),
        t.TAG_TRANSACTION_TIME: bytes.fromhex(f"{now.hour:02d}{now.minute:02d}{now.second:02d}"),
        t.TAG_TRANSACTION_TYPE: bytes((tx_type,)),
        t.TAG_UNPREDICTABLE_NUMBER: unpredictable,
        t.TAG_EC_TERMINAL_SUPPORT: b"\x01" if ec_support else b"\x00",
    }


def open_card(card: CardChannel, data: dict[int, bytes]) -> CardSession:
    """SELECT, GET PROCESSING OPTIONS and READ RECORD: the opening of every transaction."""
    aid, pdol = select_application(card)
    pdol_data = build_dol_data(parse_dol(pdol), data)
    gpo = send(
        card, encode_command(0x80, 0xA8, 0x00, 0x00, tlv(t.TAG_COMMAND_TEMPLATE, pdol_data), 256), "GPO"
    )
    format_1 = find(gpo, t.TAG_RESPONSE_FORMAT_1)
    if format_1 is not None:
        aip, afl = format_1[:2], format_1[2:]
    else:
        aip, afl = find(gpo, t.TAG_AIP) or b"", find(gpo, t.TAG_AFL) or b""
    if len(aip) != 2 or len(afl) % 4 or not 0 < len(afl) // 4 <= AFL_ENTRIES_MAX:
        raise KernelError(f"GPO: AIP {aip.hex()} / AFL {afl.hex()} malformed")
    values = read_afl(card, afl)
    records = b"".join(values)
    pan_raw, cdol1, cdol2 = find(records, t.TAG_PAN), find(records, t.TAG_CDOL1), find(records, t.TAG_CDOL2)
    if pan_raw is None or cdol1 is None or cdol2 is None:
        raise KernelError("READ RECORD: the records lack the PAN 5A, CDOL1 8C or CDOL2 8D")
    psn = find(records, t.TAG_PAN_SEQUENCE) or b"\x00"
    return CardSession(
        aid, decode_pan(pan_raw), decode_n(psn, "5F34"), aip, parse_dol(cdol1), parse_dol(cdol2), dict(data),
        tuple(values),
    )  # fmt: skip


def read_afl(card: CardChannel, afl: bytes) -> list[bytes]:
    """READ RECORD of every record the AFL names; each record's value (inside its `70`)."""
    out: list[bytes] = []
    for at in range(0, len(afl), 4):
        sfi, first, last = afl[at] >> 3, afl[at + 1], afl[at + 2]
        if not (1 <= sfi <= 30 and 1 <= first <= last) or len(out) + last - first + 1 > RECORDS_MAX:
            raise KernelError(f"AFL entry {afl[at : at + 4].hex()} malformed or too long")
        for number in range(first, last + 1):
            answer = send(card, encode_command(0x00, 0xB2, number, (sfi << 3) | 4, le=256), "READ RECORD")
            out.append(find(answer, t.TAG_RECORD_TEMPLATE) or answer)
    return out


def _ac(card: CardChannel, p1: int, dol_data: bytes, what: str, covered: bytes = b"") -> AcAnswer:
    """GENERATE AC with `dol_data`; the answer's `dol_data` is what the cryptogram covers
    (`covered` before the data sent: the CDOL1 data in the second GENERATE AC)."""
    answer = send(card, encode_command(0x80, 0xAE, p1, 0x00, dol_data, 256), what)
    cid, atc = find(answer, t.TAG_CID), find(answer, t.TAG_ATC)
    cryptogram, iad = find(answer, t.TAG_CRYPTOGRAM), find(answer, t.TAG_ISSUER_APP_DATA)
    if cid is None or atc is None or cryptogram is None or iad is None or len(cryptogram) != 8:
        raise KernelError(f"{what}: the answer lacks 9F27, 9F36, 9F26 or 9F10")
    return AcAnswer(cid[0] & 0xC0, int.from_bytes(atc, "big"), cryptogram, iad, covered + dol_data)


def first_ac(card: CardChannel, session: CardSession, asked: int) -> AcAnswer:
    """The first GENERATE AC over CDOL1 filled from the terminal data."""
    return _ac(card, asked, build_dol_data(session.cdol1, session.terminal_data), "GENERATE AC 1")


def second_ac(card: CardChannel, session: CardSession, asked: int, arpc: bytes, arc: bytes) -> AcAnswer:
    """The second GENERATE AC, CDOL2 carrying the issuer authentication data `91` = ARPC || ARC."""
    values = session.terminal_data | {t.TAG_ISSUER_AUTH_DATA: arpc + arc, t.TAG_ARC: arc}
    cdol1_data = build_dol_data(session.cdol1, session.terminal_data)
    return _ac(card, asked, build_dol_data(session.cdol2, values), "GENERATE AC 2", cdol1_data)


def cdol1_data(session: CardSession) -> bytes:
    """The CDOL1 data of the session's first GENERATE AC (what its cryptogram covers)."""
    return build_dol_data(session.cdol1, session.terminal_data)


def get_data(card: CardChannel, tag: int) -> bytes:
    """The value of a data object the card answers to GET DATA."""
    answer = send(card, encode_command(0x80, 0xCA, tag >> 8, tag & 0xFF, le=256), f"GET DATA {tag:X}")
    value = find(answer, tag)
    if value is None:
        raise KernelError(f"GET DATA {tag:X}: the answer has no {tag:X}")
    return value


def get_amount(card: CardChannel, tag: int) -> int:
    """An n12 amount the card answers to GET DATA (`9F79`, `9F77`, `9F78`, `9F6D`)."""
    answer = send(card, encode_command(0x80, 0xCA, tag >> 8, tag & 0xFF, le=256), f"GET DATA {tag:X}")
    value = find(answer, tag)
    if value is None:
        raise KernelError(f"GET DATA {tag:X}: the answer has no {tag:X}")
    return decode_amount_fen(value, f"GET DATA {tag:X}")


def get_atc(card: CardChannel) -> int:
    """The card's application transaction counter (GET DATA `9F36`)."""
    value = find(send(card, encode_command(0x80, 0xCA, 0x9F, 0x36, le=256), "GET DATA 9F36"), t.TAG_ATC)
    if value is None or len(value) != 2:
        raise KernelError("GET DATA 9F36: no two-byte ATC in the answer")
    return int.from_bytes(value, "big")


def verify_pin(card: CardChannel, pin_block: bytes) -> None:
    """VERIFY with the plaintext offline PIN block; 63Cx is a CardStatusError carrying the tries."""
    send(card, encode_command(0x00, 0x20, 0x00, 0x80, pin_block), "VERIFY")
