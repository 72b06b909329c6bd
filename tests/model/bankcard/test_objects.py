"""n12 amounts, PANs, dates and data object lists: round trips and the errors bad bytes raise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.bankcard import (
    AMOUNT_N12_FEN_MAX,
    BcdError,
    build_dol_data,
    decode_amount_fen,
    decode_date,
    decode_pan,
    encode_amount_fen,
    encode_date,
    encode_pan,
    parse_dol,
    split_dol_data,
    tlv,
)
from model.card.tlv import TlvError, find


@given(st.integers(min_value=0, max_value=AMOUNT_N12_FEN_MAX))
def test_n12_round_trip(amount_fen: int) -> None:
    raw = encode_amount_fen(amount_fen)
    assert len(raw) == 6
    assert raw.hex() == f"{amount_fen:012d}"
    assert decode_amount_fen(raw) == amount_fen


def test_n12_examples_and_errors() -> None:
    assert encode_amount_fen(12_345) == bytes.fromhex("000000012345")
    with pytest.raises(BcdError, match="needs 13 digits"):
        encode_amount_fen(AMOUNT_N12_FEN_MAX + 1)
    with pytest.raises(BcdError, match="9F79: 00000000001A is not packed BCD"):
        decode_amount_fen(bytes.fromhex("00000000001A"), "9F79")
    with pytest.raises(BcdError, match="5 bytes"):
        decode_amount_fen(bytes(5))


def test_pan_and_date() -> None:
    assert encode_pan("6222021234567890123") == bytes.fromhex("6222021234567890123F")
    assert decode_pan(bytes.fromhex("6222021234567890123F")) == "6222021234567890123"
    assert decode_pan(encode_pan("6228480000000001")) == "6228480000000001"
    with pytest.raises(BcdError, match="not a PAN"):
        encode_pan("62220A")
    assert encode_date(2013, 5, 9) == bytes.fromhex("130509")
    assert decode_date(bytes.fromhex("130509")) == (2013, 5, 9)
    with pytest.raises(BcdError, match="not a YYMMDD date"):
        decode_date(bytes.fromhex("131309"))


def test_dol_parse_build_split() -> None:
    dol = bytes.fromhex("9F7A019F02065F2A02")
    entries = parse_dol(dol)
    assert entries == ((0x9F7A, 1), (0x9F02, 6), (0x5F2A, 2))
    data = build_dol_data(entries, {0x9F02: encode_amount_fen(500), 0x5F2A: b"\x01\x56"})
    assert data == bytes.fromhex("000000000005000156")
    assert split_dol_data(entries, data, "GPO") == {
        0x9F7A: b"\x00",
        0x9F02: encode_amount_fen(500),
        0x5F2A: b"\x01\x56",
    }
    with pytest.raises(TlvError, match="GPO: 8 data bytes, the DOL asks for 9"):
        split_dol_data(entries, data[:-1], "GPO")
    with pytest.raises(TlvError, match="9F02 value of 5 bytes"):
        build_dol_data(entries, {0x9F02: bytes(5)})
    with pytest.raises(TlvError, match="has no length"):
        parse_dol(bytes.fromhex("9F02"))


def test_tlv_encodes_what_find_reads() -> None:
    long_value = bytes(range(200))
    raw = tlv(0x70, tlv(0x5A, b"\x62\x22") + tlv(0x9F4E, long_value))
    assert find(raw, 0x9F4E) == long_value
    assert find(raw, 0x5A) == b"\x62\x22"
    with pytest.raises(TlvError, match="exceeds 255"):
        tlv(0x70, bytes(256))
