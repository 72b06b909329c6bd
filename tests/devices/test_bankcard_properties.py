"""Hypothesis sequences of valid and random APDUs against the bank card: the EC balance moves only
by a committed transaction (an offline TC, by exactly its amount; an issuer script, to exactly
its value), and a refused command changes nothing at all."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.bankcard_os import BankCardOS
from devices.bankcard_state import AID_DEBIT, personalise, pin_block
from model.bankcard import (
    IssuerMasterKeys,
    arpc_method_1,
    decode_amount_fen,
    encode_amount_fen,
    script_mac,
    session_key,
)
from model.card import encode_command, parse_response
from model.card.tlv import find

KEYS = IssuerMasterKeys.generate(3, "ABC")
PAN = "6228480000000000017"
CNY = b"\x01\x56"
UDK_AC, UDK_SMI = KEYS.card_keys(PAN, 0)
SEQUENCE_STEPS_MAX = 40
COMMITS: Counter[str] = Counter()  # what the sequences reached (read by the coverage test)

amounts = st.integers(min_value=0, max_value=60_000)
steps = st.one_of(
    st.just(("select",)),
    st.just(("power",)),
    st.tuples(st.just("gpo"), amounts, st.booleans()),
    st.tuples(st.just("ac1"), st.sampled_from([0x00, 0x40, 0x80]), amounts),
    st.tuples(st.just("ac2"), st.sampled_from([0x00, 0x40]), st.booleans(), st.sampled_from([b"00", b"05"])),
    st.tuples(st.just("script"), st.sampled_from([0x9F79, 0x9F78, 0x9F6D]), amounts, st.booleans()),
    st.tuples(st.just("pin"), st.booleans()),
    st.tuples(st.just("garbage"), st.binary(min_size=0, max_size=30)),
    st.tuples(st.just("online"), amounts, st.booleans()),  # a macro: an issuer-approved session, then scripts
    st.tuples(st.just("offline"), amounts),  # a macro: an EC offline purchase
)


def expand(sequence: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Macros into their steps, so that approved sessions and offline TCs are common, not rare."""
    out: list[tuple[object, ...]] = []
    for step in sequence:
        if step[0] == "online":
            out += [("select",), ("gpo", step[1], False), ("ac1", 0x80, step[1]), ("ac2", 0x40, True, b"00")]
            out.append(("load-script", 0x9F79, step[1], step[2]))
        elif step[0] == "offline":
            out += [("select",), ("gpo", step[1], True), ("ac1", 0x40, step[1])]
        else:
            out.append(step)
    return out


class Driver:
    """Builds each step's APDU from what the card said so far (the ARQC, the ATC)."""

    def __init__(self, card: BankCardOS) -> None:
        self.card = card
        self.arqc = bytes(8)
        self.arqc_amount_fen = 0

    def apdu(self, step: tuple[object, ...]) -> bytes | None:
        kind = step[0]
        if kind == "select":
            return encode_command(0x00, 0xA4, 0x04, 0x00, AID_DEBIT, 256)
        if kind == "gpo":
            amount, ec = step[1], step[2]
            assert isinstance(amount, int)
            pdol = (b"\x01" if ec else b"\x00") + encode_amount_fen(amount) + CNY
            return encode_command(0x80, 0xA8, 0, 0, b"\x83\x09" + pdol, 256)
        if kind == "ac1":
            p1, amount = step[1], step[2]
            assert isinstance(p1, int) and isinstance(amount, int)
            cdol = (
                encode_amount_fen(amount) + bytes(6) + CNY + bytes(5) + CNY + bytes(4) + b"\x01\x02\x03\x04"
            )
            return encode_command(0x80, 0xAE, p1, 0, cdol, 256)
        if kind == "ac2":
            p1, good, arc = step[1], step[2], step[3]
            assert isinstance(p1, int) and isinstance(arc, bytes)
            atc = self.card.state.atc
            arpc = arpc_method_1(session_key(UDK_AC, atc), self.arqc, arc) if good else bytes(8)
            return encode_command(0x80, 0xAE, p1, 0, arpc + arc + arc + bytes(5) + bytes(4), 256)
        if kind in ("script", "load-script"):
            tag, value_fen, good = step[1], step[2], step[3]
            assert isinstance(tag, int) and isinstance(value_fen, int)
            if kind == "load-script":  # what an honest issuer writes: the balance plus the load
                value_fen = min(self.card.state.ec_balance_fen + value_fen, 999_999_999_999)
            atc, value = self.card.state.atc, encode_amount_fen(value_fen)
            header = bytes((0x04, 0xDA, tag >> 8, tag & 0xFF, 10))
            key = session_key(UDK_SMI, atc) if good else bytes(16)
            return header + value + script_mac(key, header, atc, self.arqc, value)
        if kind == "pin":
            return encode_command(0x00, 0x20, 0x00, 0x80, pin_block("1234" if step[1] else "9999"))
        if kind == "garbage":
            data = step[1]
            assert isinstance(data, bytes)
            return data
        return None


@settings(max_examples=300, deadline=None)
@given(st.lists(steps, max_size=SEQUENCE_STEPS_MAX))
def test_only_a_committed_transaction_moves_ec_money(sequence: list[tuple[object, ...]]) -> None:
    card = BankCardOS(personalise(KEYS, PAN, 0, "1234", ec_balance_fen=20_000, ec_single_limit_fen=30_000))
    driver = Driver(card)
    for step in expand(sequence):
        raw = driver.apdu(step)
        if raw is None:
            card.power_on()
            continue
        before = card.state.to_image()
        balance_before = card.state.ec_balance_fen
        response = parse_response(card.process(raw))
        COMMITS[raw[:2].hex() + ("-ok" if response.ok else "-refused")] += 1
        balance_after = card.state.ec_balance_fen
        cid = find(response.data, 0x9F27) if response.ok and raw[:2] == b"\x80\xae" else None
        if response.ok and cid == b"\x80" and raw[4] == 29:
            driver.arqc = find(response.data, 0x9F26) or bytes(8)
            driver.arqc_amount_fen = decode_amount_fen(raw[5:11])
        if response.ok and raw[1] == 0xAE and cid == b"\x40" and raw[4] == 29:
            assert balance_before - balance_after == decode_amount_fen(raw[5:11])  # offline TC
        elif response.ok and raw[:4] == b"\x04\xda\x9f\x79":
            assert balance_after == decode_amount_fen(raw[5:11])  # the script's value...
            moved = balance_after - balance_before  # ...moving exactly what the ARQC authorised
            assert moved == driver.arqc_amount_fen or (
                balance_after == 0 and -moved == driver.arqc_amount_fen
            )
        else:
            assert balance_after == balance_before, f"{raw.hex()} -> {response.sw:04X} moved EC money"
        if not response.ok and response.sw & 0xFFF0 != 0x63C0:
            assert card.state.to_image() == before, f"{raw.hex()} -> {response.sw:04X} changed the card"
        assert 0 <= card.state.ec_balance_fen <= card.state.ec_balance_limit_fen


def test_the_sequences_reached_every_commit() -> None:
    """Not vacuous: the run above reached offline TCs and applied scripts (runs after it)."""
    assert COMMITS["80ae-ok"] > 50 and COMMITS["04da-ok"] > 20 and COMMITS["04da-refused"] > 20


@pytest.mark.parametrize("atc", [0, 1, 0xFFFE])
def test_the_session_key_follows_the_atc(atc: int) -> None:
    """A card at another ATC answers another cryptogram: the ATC is in the key, not a constant."""
    assert session_key(UDK_AC, atc) != session_key(UDK_AC, atc + 1)
