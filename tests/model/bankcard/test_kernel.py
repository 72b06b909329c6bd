"""The terminal kernel's selection and its distrust of card answers."""

from __future__ import annotations

from datetime import datetime

import pytest

from devices.bankcard_os import PSE_NAME, BankCardOS
from devices.bankcard_state import AID_CREDIT, personalise
from devices.sim_channel import SimChannel
from model.bankcard import IssuerMasterKeys, KernelError, open_card
from model.bankcard.kernel import select_application, terminal_data
from model.errors import CardStatusError

KEYS = IssuerMasterKeys.generate(2, "BOC")
PAN = "6216610000000001"


class NoPse:
    """A card (channel) that answers 6A82 to SELECT of the PSE, as many cards do."""

    def __init__(self, inner: SimChannel) -> None:
        self.inner = inner
        self.commands: list[bytes] = []

    def transmit(self, command: bytes) -> bytes:
        self.commands.append(command)
        if PSE_NAME in command:
            return b"\x6a\x82"
        return self.inner.transmit(command)


class BadAfl(NoPse):
    """A card whose GPO names 20 records: the kernel must refuse, not read forever."""

    def transmit(self, command: bytes) -> bytes:
        if command[:2] == b"\x80\xa8":
            return bytes.fromhex("800A7C000801140010010100") + b"\x90\x00"
        return super().transmit(command)


def test_selection_falls_back_to_the_candidate_list() -> None:
    state = personalise(KEYS, PAN, 0)
    state.aid = AID_CREDIT
    channel = NoPse(SimChannel(BankCardOS(state)))
    aid, pdol = select_application(channel)
    assert aid == AID_CREDIT and pdol == bytes.fromhex("9F7A019F02065F2A02")
    selects = [c[5:-1] for c in channel.commands if c[:2] == b"\x00\xa4"]
    assert selects == [PSE_NAME, bytes.fromhex("A000000333010101"), AID_CREDIT]  # debit tried first


def test_open_card_reads_the_records_the_afl_names() -> None:
    channel = NoPse(SimChannel(BankCardOS(personalise(KEYS, PAN, 3))))
    session = open_card(
        channel, terminal_data(100, datetime(2013, 1, 2, 3, 4, 5), 0x00, b"\x01\x02\x03\x04", True)
    )
    assert (session.pan, session.pan_sequence, session.aip) == (PAN, 3, b"\x7c\x00")
    assert session.cdol1[0] == (0x9F02, 6) and session.cdol2[0] == (0x91, 10)
    reads = [c for c in channel.commands if c[:2] == b"\x00\xb2"]
    assert reads == [bytes.fromhex("00B2010C00"), bytes.fromhex("00B2020C00")]


def test_a_card_with_an_unbounded_afl_is_refused() -> None:
    channel = BadAfl(SimChannel(BankCardOS(personalise(KEYS, PAN, 0))))
    with pytest.raises(KernelError, match="AFL entry 08011400 malformed or too long"):
        open_card(channel, terminal_data(100, datetime(2013, 1, 2), 0x00, bytes(4), False))


def test_a_blocked_application_is_named() -> None:
    state = personalise(KEYS, PAN, 0)
    state.blocked = True
    with pytest.raises(CardStatusError, match="SELECT AID: card answered 6283"):
        select_application(SimChannel(BankCardOS(state)))
