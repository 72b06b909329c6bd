"""The APDU trace and the ATR builder: no PC/SC stack needed."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from devices.card_os import CardOS
from devices.sim_channel import SimChannel
from hardware_bridge.trace import ApduTrace, TracedChannel, TraceError, command_name
from hardware_bridge.vpcd import build_atr
from model.card import commands
from model.card.access import read_card
from model.errors import CardRemovedError


def test_command_names_follow_the_protocol() -> None:
    assert command_name(commands.select()) == "SELECT"
    assert command_name(commands.initialize_for_load(2, 1, 100, bytes(6))) == "INITIALIZE FOR LOAD"
    assert command_name(commands.initialize_for_purchase(2, 1, 100, bytes(6))) == "INITIALIZE FOR PURCHASE"
    assert (
        command_name(commands.initialize_for_capp_purchase(1, 0, bytes(6))) == "INITIALIZE FOR CAPP PURCHASE"
    )
    assert command_name(commands.debit_for_purchase(1, bytes(7), bytes(4))) == "DEBIT FOR PURCHASE"
    assert command_name(commands.credit_sam_for_purchase(bytes(4))) == "CREDIT SAM FOR PURCHASE"
    assert command_name(bytes.fromhex("00EE0000")) == "CLA 00 INS EE"
    assert command_name(b"\x00") == "malformed (1 bytes)"


def test_traced_channel_writes_names_and_status_meanings(
    make_card: Callable[..., tuple[CardOS, SimChannel]], tmp_path: Path
) -> None:
    _, channel = make_card()
    path = tmp_path / "trace.txt"
    with ApduTrace.open(path) as trace:
        read_card(TracedChannel(channel, trace, "card"))
    lines = path.read_text().splitlines()
    fields = [line.split("\t") for line in lines]
    assert [f[3] for f in fields[:2]] == ["SELECT", "9000 ok"]
    assert fields[0][1:3] == ["card", ">>"] and fields[1][2] == "<<"
    assert fields[0][0].endswith("Z") and "T" in fields[0][0]
    assert any(f[3] == "6A83 record not found" for f in fields)  # the end of the empty log
    assert any(f[3] == "GET BALANCE" for f in fields)


def test_traced_channel_records_a_removal(make_card: Callable[..., tuple[CardOS, SimChannel]]) -> None:
    _, channel = make_card()
    channel.remove()
    out = io.StringIO()
    with pytest.raises(CardRemovedError):
        TracedChannel(channel, ApduTrace(out), "card").transmit(commands.select())
    assert "no answer: simulated reader: no card in the field" in out.getvalue()


def test_trace_is_bounded() -> None:
    out = io.StringIO()
    trace = ApduTrace(out, limit=3)
    for _ in range(10):
        trace.command("card", commands.get_balance())
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and trace.truncated
    assert lines[-1].endswith("trace truncated at 3 records")


def test_trace_to_an_unwritable_place_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="cannot write the APDU trace"):
        ApduTrace.open(tmp_path / "no-such-dir" / "trace.txt")


def test_atr_offers_t1_and_checks_out() -> None:
    atr = build_atr(b"CardTwinEP")
    assert atr[0] == 0x3B and atr[1] == 0x8C and atr[2:4] == b"\x80\x01"
    check = 0
    for byte in atr[1:]:
        check ^= byte
    assert check == 0  # TCK makes T0..TCK XOR to zero (ISO 7816-3)
    assert atr[4:-3] == b"CardTwinEP"
    # The last historical byte 67 and TCK 00: a reader's 1-byte command 04 (vpcd's get-ATR)
    # is answered with the ATR, which then ends in status word 6700.
    assert atr[-2:] == b"\x67\x00"
