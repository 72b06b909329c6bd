"""The published load example of epurse-protocol.md, reproduced through the card's APDUs.

A card personalised with the example's load key and a forced random 11223344 answers
INITIALIZE FOR LOAD (ED, type 01, amount 0x1000, terminal 001122334455, counter 0000) with
MAC1 2988AE5A, and accepts CREDIT FOR LOAD dated 2011-12-21 21:48:22 with MAC2 3A845BF0.
"""

from __future__ import annotations

from datetime import date

from devices.card_os import CardOS
from devices.factory import CardProfile, personalise_with_keys
from devices.sim_channel import SimChannel
from model.card import commands
from model.card.apdu import parse_response
from model.security.crypto import Algorithm, tac
from model.security.keys import CardKeys
from model.security.mac_inputs import load_tac_data

LOAD_KEY = bytes.fromhex("11223344556677888877665544332211")
TERMINAL = bytes.fromhex("001122334455")


class ForcedRandom:
    """The card's random source pinned to the example's value."""

    def randbytes(self, n: int) -> bytes:
        return bytes.fromhex("11223344")[:n]


def test_published_load_example_through_apdus() -> None:
    keys = CardKeys(dpk=bytes(16), dlk=LOAD_KEY, dtk=bytes(range(16)), damk=bytes(16), key_index=1)
    profile = CardProfile(
        asn=bytes.fromhex("0000000000000001"), algorithm=Algorithm.DES3, start=date(2011, 1, 1)
    )
    state = personalise_with_keys(profile, bytes.fromhex("3301000000000001"), keys)
    card = SimChannel(CardOS(state, rng=ForcedRandom()))

    assert parse_response(card.transmit(commands.select())).sw == 0x9000
    assert parse_response(card.transmit(commands.verify_pin(b"\x12\x34\x56"))).sw == 0x9000
    data, sw = parse_response(
        card.transmit(commands.initialize_for_load(commands.PURSE_ED, 1, 0x1000, TERMINAL))
    )
    assert sw == 0x9000
    assert data[0:4] == bytes(4)  # old balance
    assert data[4:6] == bytes(2)  # online counter 0000
    assert data[7] == Algorithm.DES3
    assert data[8:12].hex().upper() == "11223344"
    assert data[12:16].hex().upper() == "2988AE5A"

    date_time = bytes.fromhex("20111221214822")
    data, sw = parse_response(card.transmit(commands.credit_for_load(date_time, bytes.fromhex("3A845BF0"))))
    assert sw == 0x9000
    expected_tac = tac(Algorithm.DES3, keys.dtk, load_tac_data(0x1000, 0, 0x1000, 0x01, TERMINAL, date_time))
    assert data == expected_tac
    assert state.ed_balance_fen == 0x1000 and state.ed_online_counter == 1


def test_published_example_with_a_wrong_mac2_is_refused() -> None:
    keys = CardKeys(dpk=bytes(16), dlk=LOAD_KEY, dtk=bytes(16), damk=bytes(16))
    state = personalise_with_keys(
        CardProfile(asn=bytes(8), start=date(2011, 1, 1)), bytes.fromhex("3301000000000001"), keys
    )
    card = SimChannel(CardOS(state, rng=ForcedRandom()))
    card.transmit(commands.select())
    card.transmit(commands.verify_pin(b"\x12\x34\x56"))
    card.transmit(commands.initialize_for_load(commands.PURSE_ED, 1, 0x1000, TERMINAL))
    response = card.transmit(
        commands.credit_for_load(bytes.fromhex("20111221214822"), bytes.fromhex("3A845BF1"))
    )
    assert parse_response(response).sw == 0x9302
    assert state.ed_balance_fen == 0 and state.ed_online_counter == 0 and state.log == ()
