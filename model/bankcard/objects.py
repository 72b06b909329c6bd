"""The data objects of the financial IC card: tags, BER-TLV encoding, and data object lists.

Reading TLV is `model.card.tlv` (shared with the e-purse FCI); this module adds what a bank
card also needs: encoding a TLV (`tlv`), a constructed template (`template`), and the data
object lists (PDOL `9F38`, CDOL1 `8C`, CDOL2 `8D`) that a card names and a terminal fills in
(`parse_dol`, `dol_length`, `split_dol_data`). Every length is bounded: a DOL longer than
`DOL_ENTRIES_MAX` entries or a value beyond 255 bytes is a TlvError, since these bytes cross
the card interface.
"""

from __future__ import annotations

from collections.abc import Mapping

from model.card.tlv import TlvError

DOL_ENTRIES_MAX = 32
VALUE_SIZE_MAX = 255  # short APDUs: no object we send is longer

# Tags (EMV Book 3 annex A, JR/T 0025): the name carries what it is, the value is the tag.
TAG_FCI = 0x6F
TAG_DF_NAME = 0x84
TAG_FCI_PROPRIETARY = 0xA5
TAG_SFI_OF_DIRECTORY = 0x88
TAG_APPLICATION_TEMPLATE = 0x61
TAG_FCI_ISSUER_DISCRETIONARY = 0xBF0C
TAG_AID = 0x4F
TAG_APPLICATION_LABEL = 0x50
TAG_PRIORITY = 0x87
TAG_PDOL = 0x9F38
TAG_RECORD_TEMPLATE = 0x70
TAG_RESPONSE_FORMAT_1 = 0x80
TAG_RESPONSE_FORMAT_2 = 0x77
TAG_COMMAND_TEMPLATE = 0x83
TAG_PAN = 0x5A
TAG_PAN_SEQUENCE = 0x5F34
TAG_EXPIRY = 0x5F24
TAG_EFFECTIVE = 0x5F25
TAG_TRACK2 = 0x57
TAG_CARDHOLDER_NAME = 0x5F20
TAG_AIP = 0x82
TAG_AFL = 0x94
TAG_CDOL1 = 0x8C
TAG_CDOL2 = 0x8D
TAG_CVM_LIST = 0x8E
TAG_ATC = 0x9F36
TAG_CRYPTOGRAM = 0x9F26
TAG_CID = 0x9F27
TAG_ISSUER_APP_DATA = 0x9F10
TAG_UNPREDICTABLE_NUMBER = 0x9F37
TAG_AMOUNT_AUTHORISED = 0x9F02
TAG_AMOUNT_OTHER = 0x9F03
TAG_TERMINAL_COUNTRY = 0x9F1A
TAG_CURRENCY = 0x5F2A
TAG_APPLICATION_CURRENCY = 0x9F51
TAG_TRANSACTION_DATE = 0x9A
TAG_TRANSACTION_TIME = 0x9F21
TAG_TRANSACTION_TYPE = 0x9C
TAG_TVR = 0x95
TAG_ARC = 0x8A
TAG_ISSUER_AUTH_DATA = 0x91
TAG_PIN_TRY_COUNTER = 0x9F17
TAG_EC_TERMINAL_SUPPORT = 0x9F7A
TAG_EC_BALANCE = 0x9F79
TAG_EC_BALANCE_LIMIT = 0x9F77
TAG_EC_SINGLE_LIMIT = 0x9F78
TAG_EC_RESET_THRESHOLD = 0x9F6D
TAG_EC_AUTH_CODE = 0x9F74
TAG_OFFLINE_PROOF = 0xDF4D  # DECIDE, proprietary: the last EC offline TC (devices.bankcard_os)

# Offline data authentication (EMV Book 3 annex A)
TAG_CA_INDEX = 0x8F
TAG_ISSUER_CERTIFICATE = 0x90
TAG_ISSUER_REMAINDER = 0x92
TAG_ISSUER_EXPONENT = 0x9F32
TAG_ICC_CERTIFICATE = 0x9F46
TAG_ICC_EXPONENT = 0x9F47
TAG_ICC_REMAINDER = 0x9F48
TAG_SSAD = 0x93
TAG_SDA_TAG_LIST = 0x9F4A
TAG_DDOL = 0x9F49
TAG_SDAD = 0x9F4B
TAG_TTQ = 0x9F66  # terminal transaction qualifiers (qPBOC)


def tag_bytes(tag: int) -> bytes:
    """A one- or two-byte tag as it is written."""
    if not 0 < tag <= 0xFFFF:
        raise TlvError(f"TLV: tag {tag:X} is not a one- or two-byte tag")
    return tag.to_bytes(2 if tag > 0xFF else 1, "big")


def tlv(tag: int, value: bytes) -> bytes:
    """One BER-TLV object: tag, definite length (short form, or 81 for 128-255), value."""
    if len(value) > VALUE_SIZE_MAX:
        raise TlvError(f"TLV: tag {tag:X} value of {len(value)} bytes exceeds {VALUE_SIZE_MAX}")
    length = bytes((len(value),)) if len(value) < 0x80 else bytes((0x81, len(value)))
    return tag_bytes(tag) + length + value


def template(tag: int, *objects: bytes) -> bytes:
    """A constructed object holding already-encoded objects."""
    return tlv(tag, b"".join(objects))


def parse_dol(dol: bytes) -> tuple[tuple[int, int], ...]:
    """The (tag, length) entries of a data object list: tags and lengths, no values."""
    entries: list[tuple[int, int]] = []
    at = 0
    while at < len(dol):
        if len(entries) >= DOL_ENTRIES_MAX:
            raise TlvError(f"DOL: more than {DOL_ENTRIES_MAX} entries")
        tag = dol[at]
        at += 1
        if tag & 0x1F == 0x1F:
            if at >= len(dol):
                raise TlvError(f"DOL: two-byte tag cut at offset {at}")
            tag = (tag << 8) | dol[at]
            at += 1
        if at >= len(dol):
            raise TlvError(f"DOL: tag {tag:X} has no length at offset {at}")
        length = dol[at]
        at += 1
        if length >= 0x80:
            raise TlvError(f"DOL: tag {tag:X} length {length:02X} is not a one-byte length")
        entries.append((tag, length))
    return tuple(entries)


def dol_length(entries: tuple[tuple[int, int], ...]) -> int:
    """The number of data bytes the DOL asks for."""
    return sum(length for _, length in entries)


def build_dol_data(entries: tuple[tuple[int, int], ...], values: Mapping[int, bytes]) -> bytes:
    """The terminal's side: the concatenated values the DOL names, each exactly its length.

    EMV Book 3 5.4: a missing object is zeros; the terminal never truncates or pads a value we
    hold (a length mismatch is a bug in the caller, not something to paper over).
    """
    out = bytearray()
    for tag, length in entries:
        value = values.get(tag)
        if value is None:
            out += bytes(length)
        elif len(value) != length:
            raise TlvError(f"DOL: tag {tag:X} value of {len(value)} bytes, the DOL asks for {length}")
        else:
            out += value
    return bytes(out)


def split_dol_data(entries: tuple[tuple[int, int], ...], data: bytes, where: str) -> dict[int, bytes]:
    """The card's side: cut the data a terminal sent into the values the DOL names."""
    if len(data) != dol_length(entries):
        raise TlvError(f"{where}: {len(data)} data bytes, the DOL asks for {dol_length(entries)}")
    values: dict[int, bytes] = {}
    at = 0
    for tag, length in entries:
        values[tag] = data[at : at + length]
        at += length
    return values
