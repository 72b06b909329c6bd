"""The tap's command builders join a header made once to their fixed-length data: the bytes
`encode_command` gives for the same fields, and `encode_command`'s own path (and its errors)
for data of any other length."""

from __future__ import annotations

import random

import pytest

from model.card import commands
from model.card.apdu import encode_command
from model.errors import ApduFormatError


def test_the_fixed_length_builders_give_encode_commands_bytes() -> None:
    rng = random.Random(9)
    for _ in range(300):
        kind, purse = rng.choice((0, 1, 3)), rng.choice((commands.PURSE_ED, commands.PURSE_EP))
        key_index, amount, tid = rng.randrange(256), rng.randrange(2**32), rng.randbytes(6)
        init = bytes((key_index,)) + amount.to_bytes(4, "big") + tid
        assert commands._initialize(kind, purse, key_index, amount, tid) == encode_command(
            0x80, 0x50, kind, purse, init, 256
        )
        serial, date_time, mac = rng.randrange(2**32), rng.randbytes(7), rng.randbytes(4)
        assert commands.debit_for_purchase(serial, date_time, mac) == encode_command(
            0x80, 0x54, 0x01, 0x00, serial.to_bytes(4, "big") + date_time + mac, 256
        )
        assert commands.credit_for_load(date_time, mac) == encode_command(
            0x80, 0x52, 0, 0, date_time + mac, 256
        )
        assert commands.credit_sam_for_purchase(mac) == encode_command(0x80, 0x72, 0, 0, mac)
        random4, counter, tx_type, algo = (
            rng.randbytes(4),
            rng.randrange(2**16),
            rng.randrange(256),
            rng.randrange(256),
        )
        asn, issuer = rng.randbytes(8), rng.randbytes(8)
        sam = (
            random4
            + counter.to_bytes(2, "big")
            + amount.to_bytes(4, "big")
            + bytes((tx_type,))
            + date_time
            + bytes((key_index, algo))
            + asn
            + issuer
        )
        built = commands.init_sam_for_purchase(
            random4, counter, amount, tx_type, date_time, key_index, algo, asn, issuer
        )
        assert built == encode_command(0x80, 0x70, 0, 0, sam, 8)


def test_other_lengths_take_encode_commands_path() -> None:
    assert commands.credit_sam_for_purchase(bytes(3)) == bytes.fromhex("8072000003000000")
    assert commands.credit_sam_for_purchase(b"") == bytes.fromhex("80720000")
    assert commands._initialize(1, 2, 1, 5, bytes(7)) == encode_command(
        0x80, 0x50, 1, 2, bytes((1,)) + bytes(4 - 1) + b"\x05" + bytes(7), 256
    )
    assert commands._initialize(9, 2, 1, 5, bytes(6))[:4] == bytes.fromhex(
        "80500902"
    )  # a kind without a made header
    with pytest.raises(ApduFormatError, match="256 data bytes exceed the short-form 255"):
        commands.credit_sam_for_purchase(bytes(256))
    with pytest.raises(ApduFormatError, match="P2=256 does not fit in one byte"):
        commands._initialize(1, 256, 1, 5, bytes(6))
