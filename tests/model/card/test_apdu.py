"""APDU encoding and strict parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.card.apdu import Command, describe_sw, encode_command, parse_command, parse_response
from model.errors import ApduFormatError


def test_the_four_cases_round_trip() -> None:
    for command in (
        Command(0x00, 0xA4, 0x04, 0x00, b"", None),
        Command(0x80, 0x5C, 0x00, 0x02, b"", 4),
        Command(0x80, 0x72, 0x00, 0x00, b"\x01\x02\x03\x04", None),
        Command(0x80, 0x50, 0x01, 0x02, bytes(11), 256),
    ):
        assert parse_command(command.to_bytes()) == command


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "0 bytes, a header needs 4"),
        (b"\x00\xa4\x04", "3 bytes"),
        (b"\x00\xa4\x04\x00\x00\x00\x01", "extended length"),
        (b"\x00\xa4\x04\x00\x08\xa0\x00", "Lc=8 but 2 bytes follow"),
        (b"\x00\xa4\x04\x00\x02\xa0\x00\x00\x00", "Lc=2 but 4 bytes follow"),
    ],
)
def test_malformed_commands_are_rejected(raw: bytes, message: str) -> None:
    with pytest.raises(ApduFormatError, match=message):
        parse_command(raw)


def test_encode_rejects_out_of_range_fields() -> None:
    with pytest.raises(ApduFormatError, match="P1=256"):
        encode_command(0, 0, 256, 0)
    with pytest.raises(ApduFormatError, match="exceed"):
        encode_command(0, 0, 0, 0, bytes(256))
    with pytest.raises(ApduFormatError, match="Le=0"):
        encode_command(0, 0, 0, 0, b"", 0)


def test_response_needs_a_status_word() -> None:
    assert parse_response(b"\x01\x90\x00") == (b"\x01", 0x9000)
    with pytest.raises(ApduFormatError, match="1 bytes"):
        parse_response(b"\x90")


def test_status_word_names() -> None:
    assert describe_sw(0x9401) == "insufficient balance"
    assert "tries left" in describe_sw(0x63C2)
    assert "exact length 30" in describe_sw(0x6C1E)


@given(st.binary(max_size=300))
def test_parser_never_crashes_and_round_trips(raw: bytes) -> None:
    try:
        command = parse_command(raw)
    except ApduFormatError:
        return
    assert command.to_bytes() == raw
