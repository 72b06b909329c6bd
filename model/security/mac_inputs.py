"""The exact bytes each MAC and TAC of the e-purse flows covers.

One place owns these layouts so the card, the PSAM, the load host and the clearing house can
never disagree. Every function is pure: fields in, bytes out. Amounts are 4-byte unsigned fen,
the terminal ID 6 bytes, `date_time` the 7 BCD bytes YYYYMMDDhhmmss.

DECIDE: the load TAC covers the online counter *before* it is incremented, i.e. the counter the
card returned in INITIALIZE FOR LOAD, which is also the counter written in the record.
"""

from __future__ import annotations

LOAD_SEED_SUFFIX = b"\x80\x00"


def load_session_seed(random4: bytes, online_counter: int) -> bytes:
    return random4 + online_counter.to_bytes(2, "big") + LOAD_SEED_SUFFIX


def purchase_session_seed(random4: bytes, offline_counter: int, terminal_serial: int) -> bytes:
    return random4 + offline_counter.to_bytes(2, "big") + (terminal_serial & 0xFFFF).to_bytes(2, "big")


def load_mac1_data(balance_fen: int, amount_fen: int, tx_type: int, terminal_id: bytes) -> bytes:
    return (
        balance_fen.to_bytes(4, "big", signed=True)
        + amount_fen.to_bytes(4, "big")
        + bytes((tx_type,))
        + terminal_id
    )


def load_mac2_data(amount_fen: int, tx_type: int, terminal_id: bytes, date_time: bytes) -> bytes:
    return amount_fen.to_bytes(4, "big") + bytes((tx_type,)) + terminal_id + date_time


def load_tac_data(
    balance_after_fen: int,
    online_counter: int,
    amount_fen: int,
    tx_type: int,
    terminal_id: bytes,
    date_time: bytes,
) -> bytes:
    return (
        balance_after_fen.to_bytes(4, "big", signed=True)
        + online_counter.to_bytes(2, "big")
        + amount_fen.to_bytes(4, "big")
        + bytes((tx_type,))
        + terminal_id
        + date_time
    )


def purchase_mac1_data(amount_fen: int, tx_type: int, terminal_id: bytes, date_time: bytes) -> bytes:
    return amount_fen.to_bytes(4, "big") + bytes((tx_type,)) + terminal_id + date_time


def purchase_mac2_data(amount_fen: int) -> bytes:
    return amount_fen.to_bytes(4, "big")


def purchase_tac_data(
    amount_fen: int, tx_type: int, terminal_id: bytes, terminal_serial: int, date_time: bytes
) -> bytes:
    return (
        amount_fen.to_bytes(4, "big")
        + bytes((tx_type,))
        + terminal_id
        + terminal_serial.to_bytes(4, "big")
        + date_time
    )
