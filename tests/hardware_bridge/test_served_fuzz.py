"""The served card never dies: every 1- and 2-byte string, every 3- and 4-byte string of
each class and instruction, and 1,000 random APDUs go through pcscd + vpcd to a card served
by `VpcdServer`; each gets a status word, and the card still answers SELECT at the end.

Why not every 3- and 4-byte string (16.7 million and 4.3 billion): the card reads fewer than
4 bytes as no APDU at all (6700 whatever they hold, checked in process below for all 3-byte
strings of each first byte), and a 4-byte APDU is dispatched on CLA and INS first, so every
CLA x INS pair with P1 P2 drawn from a seeded stream covers each path of the dispatcher.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from devices.card_os import CardOS, PowerLost
from hardware_bridge.pcsc_channel import PcscChannel
from hardware_bridge.vpcd import VpcdServer
from sim.cards import issuer_keys, sim_card

READER = "Virtual PCD 00 00"
SELECT = bytes.fromhex("00A4040008A000000632010105") + b"\x00"
RANDOM_APDUS = 1_000


def _status_word(response: bytes) -> int:
    assert len(response) >= 2, f"no status word in {response.hex()}"
    sw1 = response[-2]
    assert 0x61 <= sw1 <= 0x6F or 0x90 <= sw1 <= 0x9F, f"not a status word: {response.hex()}"
    return int.from_bytes(response[-2:], "big")


def _served(serve: Callable[..., VpcdServer]) -> tuple[CardOS, VpcdServer, PcscChannel]:
    card = sim_card(issuer_keys(None))
    server = serve(card, 0, power_lost=(PowerLost,))
    channel = PcscChannel(READER, transport=False, transmit_timeout_s=10.0)
    return card, server, channel


def test_every_short_string_answered_with_a_status_word(serve: Callable[..., VpcdServer]) -> None:
    _card, server, channel = _served(serve)
    try:
        served_before = server.commands_served
        answers: dict[bytes, int] = {}
        for value in range(256):
            answers[bytes((value,))] = _status_word(channel.transmit(bytes((value,))))
        assert set(answers.values()) == {0x6700}, "every 1-byte string is too short to be an APDU"
        # 04 is vpcd's get-ATR: answered with the ATR, which ends in 67 00; the 255 others
        # (00, 01 and 02 included, by the silence rule) reached the chip as commands.
        assert server.commands_served - served_before == 255
        assert channel.transmit(b"\x04") == server.atr
        for value in range(65536):
            command = value.to_bytes(2, "big")
            assert _status_word(channel.transmit(command)) == 0x6700, command.hex()
        rng = random.Random(20)
        for first in range(256):
            command = bytes((first, rng.randrange(256), rng.randrange(256)))
            assert _status_word(channel.transmit(command)) == 0x6700, command.hex()
        for cla in range(256):
            for ins in range(256):
                _status_word(channel.transmit(bytes((cla, ins, rng.randrange(256), rng.randrange(256)))))
        assert server.commands_served - served_before == 255 + 65536 + 256 + 65536
        assert channel.transmit(SELECT)[-2:] == b"\x90\x00"
        assert server.inserted and server.chip_failures == 0 and not server.failure
    finally:
        channel.close()


def test_random_apdus_answered_and_still_serving(serve: Callable[..., VpcdServer]) -> None:
    _card, server, channel = _served(serve)
    rng = random.Random(1000)
    seen: set[int] = set()
    try:
        for _ in range(RANDOM_APDUS):
            length = rng.choice((4, 5, 6, 7, 13, 16, 20, 40, 261))
            command = bytes(rng.randrange(256) for _ in range(length))
            if rng.random() < 0.5:  # half of them in the classes the card speaks
                command = bytes((rng.choice((0x00, 0x80, 0x84)),)) + command[1:]
            seen.add(_status_word(channel.transmit(command)))
        assert channel.transmit(SELECT)[-2:] == b"\x90\x00"
        assert server.inserted and server.chip_failures == 0
        assert {0x6700, 0x6D00, 0x6E00} <= seen, f"status words seen: {sorted(hex(s) for s in seen)}"
    finally:
        channel.close()


def test_every_three_byte_string_in_process() -> None:
    """In process the whole 3-byte space is cheap enough for every first byte's 256 x 256."""
    card = sim_card(issuer_keys(None))
    for first in (0x00, 0x80, 0x84, 0xFF):
        for rest in range(65536):
            command = bytes((first,)) + rest.to_bytes(2, "big")
            assert card.process(command) == b"\x67\x00"
