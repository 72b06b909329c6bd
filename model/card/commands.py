"""Builders of the command APDUs the terminal sends to the card and to the PSAM.

Pure functions: fields in, APDU bytes out. The card side parses the same layouts in
`devices.card_os` and `devices.psam`; `epurse-protocol.md` is the reference for both.

The commands of every tap (INITIALIZE, DEBIT, CREDIT, INIT SAM, CREDIT SAM) join a header made
once to their data when the data has its fixed length: `encode_command`'s bytes, without its
range checks per call (a tap sends five); any other length takes `encode_command` itself, so a
malformed field fails as it always did.
"""

from __future__ import annotations

from model.card.apdu import encode_command
from model.card.files import EPURSE_AID

PURSE_ED = 0x01
PURSE_EP = 0x02
_INIT_LOAD, _INIT_PURCHASE, _INIT_CAPP = 0x00, 0x01, 0x03


def select(aid: bytes = EPURSE_AID) -> bytes:
    return encode_command(0x00, 0xA4, 0x04, 0x00, aid, 256)


def read_binary(sfi: int, offset: int = 0, length: int = 256) -> bytes:
    return encode_command(0x00, 0xB0, 0x80 | sfi, offset, b"", length)


def read_record(sfi: int, record: int, length: int = 256) -> bytes:
    return encode_command(0x00, 0xB2, record, (sfi << 3) | 0x04, b"", length)


def get_balance(purse: int = PURSE_EP) -> bytes:
    return encode_command(0x80, 0x5C, 0x00, purse, b"", 4)


def verify_pin(pin: bytes) -> bytes:
    return encode_command(0x00, 0x20, 0x00, 0x00, pin)


_LE_256 = b"\x00"  # Le = 256, as encode_command writes it
_INITIALIZE_HEADS = {
    (kind, purse): bytes((0x80, 0x50, kind, purse, 11))
    for kind in (_INIT_LOAD, _INIT_PURCHASE, _INIT_CAPP)
    for purse in (PURSE_ED, PURSE_EP)
}


def _initialize(kind: int, purse: int, key_index: int, amount_fen: int, terminal_id: bytes) -> bytes:
    data = bytes((key_index,)) + amount_fen.to_bytes(4, "big") + terminal_id
    head = _INITIALIZE_HEADS.get((kind, purse))
    if head is None or len(data) != 11:
        return encode_command(0x80, 0x50, kind, purse, data, 256)
    return head + data + _LE_256


def initialize_for_load(purse: int, key_index: int, amount_fen: int, terminal_id: bytes) -> bytes:
    return _initialize(_INIT_LOAD, purse, key_index, amount_fen, terminal_id)


def initialize_for_purchase(purse: int, key_index: int, amount_fen: int, terminal_id: bytes) -> bytes:
    return _initialize(_INIT_PURCHASE, purse, key_index, amount_fen, terminal_id)


def initialize_for_capp_purchase(key_index: int, amount_fen: int, terminal_id: bytes) -> bytes:
    return _initialize(_INIT_CAPP, PURSE_EP, key_index, amount_fen, terminal_id)


_CREDIT_HEAD = bytes((0x80, 0x52, 0x00, 0x00, 11))
_DEBIT_HEAD = bytes((0x80, 0x54, 0x01, 0x00, 15))


def credit_for_load(date_time: bytes, mac2: bytes) -> bytes:
    data = date_time + mac2
    if len(data) != 11:
        return encode_command(0x80, 0x52, 0x00, 0x00, data, 256)
    return _CREDIT_HEAD + data + _LE_256


def debit_for_purchase(terminal_serial: int, date_time: bytes, mac1: bytes) -> bytes:
    data = terminal_serial.to_bytes(4, "big") + date_time + mac1
    if len(data) != 15:
        return encode_command(0x80, 0x54, 0x01, 0x00, data, 256)
    return _DEBIT_HEAD + data + _LE_256


def update_capp_data_cache(sfi: int, record_id: int, record: bytes) -> bytes:
    return encode_command(0x80, 0xDC, record_id, sfi << 3, record)


def get_transaction_proof(tx_type: int, counter: int) -> bytes:
    return encode_command(0x80, 0x5A, 0x00, tx_type, counter.to_bytes(2, "big"), 8)


def get_challenge() -> bytes:
    return encode_command(0x00, 0x84, 0x00, 0x00, b"", 4)


APPLICATION_BLOCK_HEADER = bytes.fromhex("841E000004")


def application_block(mac4: bytes) -> bytes:
    return APPLICATION_BLOCK_HEADER + mac4


# -- PSAM ----------------------------------------------------------------------------------

PSAM_ADF_FID = bytes.fromhex("1001")


def psam_read_terminal_id() -> bytes:
    return encode_command(0x00, 0xB0, 0x96, 0x00, b"", 6)


def psam_select() -> bytes:
    return encode_command(0x00, 0xA4, 0x00, 0x00, PSAM_ADF_FID)


def init_sam_for_purchase(
    card_random: bytes,
    card_counter: int,
    amount_fen: int,
    tx_type: int,
    date_time: bytes,
    key_index: int,
    algorithm_id: int,
    asn: bytes,
    issuer_id: bytes,
) -> bytes:
    data = b"".join(
        (
            card_random,
            card_counter.to_bytes(2, "big"),
            amount_fen.to_bytes(4, "big"),
            bytes((tx_type,)),
            date_time,
            bytes((key_index, algorithm_id)),
            asn,
            issuer_id,
        )
    )
    if len(data) != 36:
        return encode_command(0x80, 0x70, 0x00, 0x00, data, 8)
    return _INIT_SAM_HEAD + data + _LE_8


_INIT_SAM_HEAD = bytes((0x80, 0x70, 0x00, 0x00, 36))
_LE_8 = b"\x08"
_CREDIT_SAM_HEAD = bytes((0x80, 0x72, 0x00, 0x00, 4))


def credit_sam_for_purchase(mac2: bytes) -> bytes:
    if len(mac2) != 4:
        return encode_command(0x80, 0x72, 0x00, 0x00, mac2)
    return _CREDIT_SAM_HEAD + mac2


def psam_block_mac(key_index: int, algorithm_id: int, asn: bytes, challenge: bytes) -> bytes:
    data = bytes((key_index, algorithm_id)) + asn + challenge + APPLICATION_BLOCK_HEADER
    return encode_command(0x80, 0xFA, 0x05, 0x00, data, 4)
