"""The simulated card OS answers every malformed or out-of-order APDU with the right status
word, and a failed command never changes balances, counters, log, CAPP records or proofs."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

import pytest

from devices.card_os import COUNTER_MAX, CardOS
from devices.card_state import CardState
from devices.factory import CardFactory, CardProfile
from model.card import commands
from model.card.files import CAPP_ID_METRO, EPURSE_AID, SFI_CAPP, SFI_LOG, SFI_PUBLIC, CappRecord
from model.security.crypto import Algorithm
from model.security.keys import IssuerKeys
from tests.cardkit import money_state, send

TID = bytes.fromhex("000000000101")
DT = bytes.fromhex("20261123083000")


@pytest.fixture
def card(factory: CardFactory) -> CardOS:
    state = factory.personalise(CardProfile(asn=(5).to_bytes(8, "big")))
    state.ep_balance_fen = 1_000
    os_ = CardOS(state, rng=random.Random(3))
    assert send(os_, commands.select())[1] == 0x9000
    return os_


def test_select_returns_fci_with_aid_and_public_file(card: CardOS) -> None:
    data, sw = send(card, commands.select())
    assert sw == 0x9000 and data[0] == 0x6F and EPURSE_AID in data and card.state.public in data


@pytest.mark.parametrize(
    ("raw", "sw"),
    [
        (commands.select(bytes.fromhex("A000000003000000")), 0x6A82),  # unknown AID
        (bytes.fromhex("00A4040108") + EPURSE_AID, 0x6A86),  # wrong P2
        (bytes.fromhex("00A40400"), 0x6700),  # SELECT by name without a name
    ],
)
def test_select_errors(card: CardOS, raw: bytes, sw: int) -> None:
    assert send(card, raw)[1] == sw


def test_commands_before_select_are_refused(factory: CardFactory) -> None:
    card = CardOS(factory.personalise(CardProfile(asn=bytes(8))))
    assert send(card, commands.get_balance())[1] == 0x6985


@pytest.mark.parametrize(
    ("raw", "sw"),
    [
        (bytes.fromhex("905C000204"), 0x6E00),  # wrong CLA for GET BALANCE
        (bytes.fromhex("80CA000000"), 0x6D00),  # unknown INS
        (bytes.fromhex("A0B0950000"), 0x6E00),  # READ BINARY with a proprietary CLA
        (bytes.fromhex("805C010204"), 0x6A86),  # GET BALANCE P1
        (bytes.fromhex("805C000304"), 0x6A86),  # GET BALANCE purse 03
        (bytes.fromhex("805C000208"), 0x6700),  # GET BALANCE Le 8
        (bytes.fromhex("805C0002"), 0x6700),  # GET BALANCE without Le
        (bytes.fromhex("805001020A") + bytes(10), 0x6700),  # INITIALIZE Lc 10
        (bytes.fromhex("805002020B") + bytes(11), 0x6A86),  # INITIALIZE P1 02
        (bytes.fromhex("805003010B") + bytes(11), 0x6A86),  # CAPP on the ED purse
        (bytes.fromhex("805401000F") + bytes(15), 0x6985),  # DEBIT without INITIALIZE
        (bytes.fromhex("805200000B") + bytes(11), 0x6985),  # CREDIT without INITIALIZE
        (bytes.fromhex("80DC01D040") + bytes(64), 0x6985),  # UPDATE CAPP without INIT CAPP
        (bytes.fromhex("00B0990000"), 0x6A82),  # READ BINARY SFI 19
        (bytes.fromhex("00B0151E"), 0x6A86),  # READ BINARY without SFI bit
        (bytes.fromhex("00B0951E1E"), 0x6B00),  # offset past the end
        (bytes.fromhex("00B0950020"), 0x6C1E),  # Le too long: exact length 30
        (bytes.fromhex("00B20AC400"), 0x6A83),  # log record 10 of an empty log
        (bytes.fromhex("00B201C000"), 0x6A86),  # READ RECORD P2 not "record number"
        (bytes.fromhex("805A000902") + b"\x00\x00", 0x9406),  # no proof yet
        (bytes.fromhex("805A000302") + b"\x00\x00", 0x6A86),  # proof of an unknown type
        (bytes.fromhex("841E00000400000000"), 0x6985),  # BLOCK without challenge
        (bytes.fromhex("80"), 0x6700),  # truncated header
        (bytes.fromhex("805C000205") + b"\x00", 0x6700),  # Lc disagrees with length
    ],
)
def test_bad_apdus_get_the_right_status_and_change_nothing(card: CardOS, raw: bytes, sw: int) -> None:
    before = money_state(card.state)
    assert send(card, raw)[1] == sw
    assert money_state(card.state) == before


def _init_purchase(card: CardOS, amount: int, key_index: int = 1) -> tuple[bytes, int]:
    return send(card, commands.initialize_for_purchase(commands.PURSE_EP, key_index, amount, TID))


def test_unknown_key_index(card: CardOS) -> None:
    assert _init_purchase(card, 10, key_index=2)[1] == 0x9403


def test_insufficient_balance_and_overdraft(factory: CardFactory) -> None:
    state = factory.personalise(CardProfile(asn=bytes(8), overdraft_limit_fen=500))
    state.ep_balance_fen = 100
    card = CardOS(state)
    send(card, commands.select())
    assert _init_purchase(card, 601)[1] == 0x9401
    assert _init_purchase(card, 600)[1] == 0x9000  # 100 balance + 500 overdraft


def test_load_over_maximum_balance(card: CardOS) -> None:
    over = card.state.max_balance_fen - card.state.ep_balance_fen + 1
    assert send(card, commands.initialize_for_load(commands.PURSE_EP, 1, over, TID))[1] == 0x6A84
    assert send(card, commands.initialize_for_load(commands.PURSE_EP, 1, 0, TID))[1] == 0x6A80


def test_counter_exhaustion(card: CardOS) -> None:
    card.state.ep_offline_counter = COUNTER_MAX
    card.state.ep_online_counter = COUNTER_MAX
    assert _init_purchase(card, 1)[1] == 0x9402
    assert send(card, commands.initialize_for_load(commands.PURSE_EP, 1, 1, TID))[1] == 0x9402


def test_debit_with_wrong_mac_is_refused_and_cancels_the_initialize(card: CardOS) -> None:
    before = money_state(card.state)
    assert _init_purchase(card, 10)[1] == 0x9000
    assert send(card, commands.debit_for_purchase(1, DT, bytes(4)))[1] == 0x9302
    assert money_state(card.state) == before
    # The failed DEBIT consumed the INITIALIZE: a retry without a new one is out of order.
    assert send(card, commands.debit_for_purchase(1, DT, bytes(4)))[1] == 0x6985


def test_any_other_command_cancels_a_pending_initialize(card: CardOS) -> None:
    assert _init_purchase(card, 10)[1] == 0x9000
    assert send(card, commands.get_balance())[1] == 0x9000
    assert send(card, commands.debit_for_purchase(1, DT, bytes(4)))[1] == 0x6985


def test_expired_card_refuses_to_commit(factory: CardFactory, issuer_keys: IssuerKeys) -> None:
    state = factory.personalise(CardProfile(asn=bytes(8), start=date(2020, 1, 1), expiry=date(2025, 12, 31)))
    state.ep_balance_fen = 100
    card = CardOS(state)
    send(card, commands.select())
    assert _init_purchase(card, 10)[1] == 0x9000
    # The card learns the date only from DEBIT: outside validity it answers 6985, whatever the MAC.
    assert send(card, commands.debit_for_purchase(0, DT, bytes(4)))[1] == 0x6985
    assert state.ep_balance_fen == 100


def test_update_capp_checks_record_id_and_length(card: CardOS) -> None:
    record = CappRecord(CAPP_ID_METRO, True, 3, TID, None).encode()
    send(card, commands.initialize_for_capp_purchase(1, 0, TID))
    assert send(card, commands.update_capp_data_cache(SFI_CAPP, 2, record))[1] == 0x6A80
    send(card, commands.initialize_for_capp_purchase(1, 0, TID))
    assert send(card, commands.update_capp_data_cache(SFI_CAPP, 1, record[:32]))[1] == 0x6700
    send(card, commands.initialize_for_capp_purchase(1, 0, TID))
    assert send(card, commands.update_capp_data_cache(SFI_PUBLIC, 1, record))[1] == 0x6A86


def test_ed_needs_pin_and_pin_try_limit(card: CardOS) -> None:
    assert send(card, commands.get_balance(commands.PURSE_ED))[1] == 0x6982
    assert send(card, commands.initialize_for_load(commands.PURSE_ED, 1, 10, TID))[1] == 0x6982
    assert send(card, commands.verify_pin(b"\x99\x99"))[1] == 0x63C2
    assert send(card, commands.verify_pin(b"\x12\x34\x56"))[1] == 0x9000  # resets the tries
    assert card.state.pin_tries_left == 3
    assert send(card, commands.get_balance(commands.PURSE_ED))[1] == 0x9000
    for left in (2, 1, 0):
        assert send(card, commands.verify_pin(b"\x00\x00"))[1] == 0x63C0 | left
    assert send(card, commands.verify_pin(b"\x12\x34\x56"))[1] == 0x6983  # blocked even when right
    # The try counter survives a power cycle: it is persistent.
    card.power_on()
    send(card, commands.select())
    assert send(card, commands.verify_pin(b"\x12\x34\x56"))[1] == 0x6983
    assert send(card, commands.verify_pin(b"\x12"))[1] == 0x6700


def test_blocked_application_answers_6a81(card: CardOS) -> None:
    card.state.blocked = True
    assert send(card, commands.get_balance())[1] == 0x6A81
    assert send(card, commands.select())[1] == 0x6A81


def test_read_log_and_capp_records_after_transactions(
    make_card: Callable[..., tuple[CardOS, object]],
) -> None:
    card, _ = make_card()
    send(card, commands.select())
    assert send(card, commands.read_record(SFI_LOG, 1))[1] == 0x6A83
    assert send(card, commands.read_record(SFI_CAPP, CAPP_ID_METRO))[1] == 0x6A83


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_image_round_trip_and_size(factory: CardFactory, algorithm: Algorithm) -> None:
    state = factory.personalise(CardProfile(asn=(9).to_bytes(8, "big"), algorithm=algorithm))
    state.log = tuple(bytes([i]) * 23 for i in range(10))
    state.capp = (bytes([1]) * 64, bytes([2]) * 64)
    state.proof_load, state.proof_purchase = bytes(11), bytes(11)
    image = state.to_image()
    assert CardState.from_image(image) == state
    assert len(image) <= 700  # a full card: log and CAPP records full


def test_truncated_image_is_rejected(factory: CardFactory) -> None:
    from devices.card_state import CardImageError

    image = factory.personalise(CardProfile(asn=bytes(8))).to_image()
    with pytest.raises(CardImageError, match=r"truncated|layout"):
        CardState.from_image(image[:-3])
    with pytest.raises(CardImageError, match="version"):
        CardState.from_image(b"\x09" + image[1:])
