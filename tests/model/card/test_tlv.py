"""The FCI reader: public info from tag 9F0C, READ BINARY when a card's FCI lacks it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.card_os import CardOS
from devices.sim_channel import SimChannel
from model.card import tlv
from model.card.access import open_epurse
from model.card.tlv import TlvError


def test_find_in_nested_and_long_form() -> None:
    fci = bytes.fromhex("6F0D8402A000A5079F0C0401020304")
    assert tlv.find(fci, 0x9F0C) == bytes.fromhex("01020304")
    assert tlv.find(fci, 0x84) == bytes.fromhex("A000")
    assert tlv.find(bytes.fromhex("C18103AABBCC"), 0xC1) == bytes.fromhex("AABBCC")
    assert tlv.find(fci, 0x50) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [("6F05840201", "claims 5 bytes"), ("9F", "two-byte tag cut"), ("6F83000000", "bad length form")],
)
def test_malformed_tlv(raw: str, message: str) -> None:
    with pytest.raises(TlvError, match=message):
        tlv.find(bytes.fromhex(raw), 0x9F0C)


@given(st.binary(max_size=64), st.sampled_from([0x9F0C, 0x84, 0x6F]))
def test_find_never_crashes(raw: bytes, tag: int) -> None:
    with contextlib.suppress(TlvError):
        tlv.find(raw, tag)


class PlainFci:
    """A card whose FCI carries only the AID: the terminal must READ BINARY 15."""

    def __init__(self, inner: SimChannel) -> None:
        self.inner, self.commands = inner, []  # type: list[bytes]

    def transmit(self, command: bytes) -> bytes:
        self.commands.append(command)
        response = self.inner.transmit(command)
        if command[1] == 0xA4 and response[-2:] == b"\x90\x00":
            return bytes.fromhex("6F0A8408A000000632010105") + b"\x90\x00"
        return response


def test_public_info_falls_back_to_read_binary(make_card: Callable[..., tuple[CardOS, SimChannel]]) -> None:
    card, channel = make_card(asn_int=8)
    plain = PlainFci(channel)
    public = open_epurse(plain)
    assert public.asn == card.state.asn
    assert [c[1] for c in plain.commands] == [0xA4, 0xB0]
    assert open_epurse(channel).asn == card.state.asn
