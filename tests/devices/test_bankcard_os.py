"""The simulated PBOC 2.0 bank card, command by command: happy paths with the values the card
must answer (cryptograms recomputed with pyemv), and every negative case answered with its status
word and no change to the card."""

from __future__ import annotations

import pyemv
import pytest

from devices.bankcard_os import (
    ARC_APPROVED,
    CDOL1,
    PPSE_NAME,
    PSE_NAME,
    SW_AUTH_FAILED,
    SW_DATA_NOT_FOUND,
    SW_SM_INVALID,
    BankCardOS,
)
from devices.bankcard_state import AID_DEBIT, BankCardImageError, BankCardState, personalise, pin_block
from model.bankcard import (
    IssuerMasterKeys,
    arpc_method_1,
    encode_amount_fen,
    script_mac,
    session_key,
)
from model.card import encode_command, parse_response
from model.card.tlv import find

pytestmark = [
    pytest.mark.filterwarnings("ignore:TripleDES has been moved"),
    pytest.mark.filterwarnings("ignore:Single-key TripleDES"),
    pytest.mark.filterwarnings("ignore:Two-key TripleDES"),
]

KEYS = IssuerMasterKeys.generate(7, "ICBC")
PAN = "6222021234567890123"
CNY = b"\x01\x56"


def new_card(**ec_fen: int) -> BankCardOS:
    ec = {"ec_balance_fen": 5_000} | ec_fen
    return BankCardOS(personalise(KEYS, PAN, 1, "246810", **ec))


def send(
    card: BankCardOS, cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = 0
) -> tuple[bytes, int]:
    response = parse_response(card.process(encode_command(cla, ins, p1, p2, data, le if le else None)))
    return response.data, response.sw


def select_app(card: BankCardOS) -> None:
    assert send(card, 0x00, 0xA4, 0x04, 0x00, AID_DEBIT)[1] == 0x9000


def gpo(card: BankCardOS, amount_fen: int, ec: bool) -> tuple[bytes, int]:
    pdol = (b"\x01" if ec else b"\x00") + encode_amount_fen(amount_fen) + CNY
    return send(card, 0x80, 0xA8, 0x00, 0x00, bytes((0x83, len(pdol))) + pdol)


def cdol1(amount_fen: int, other_fen: int = 0, un: bytes = b"\x11\x22\x33\x44") -> bytes:
    return (
        encode_amount_fen(amount_fen)
        + encode_amount_fen(other_fen)
        + CNY
        + bytes(5)
        + CNY
        + b"\x26\x05\x01\x00"
        + un
    )


def oracle_ac(atc: int, data: bytes) -> bytes:
    udk = pyemv.kd.derive_icc_mk_a(KEYS.mk_ac, PAN, "01")
    return bytes(
        pyemv.ac.generate_ac(pyemv.kd.derive_common_sk(udk, atc.to_bytes(2, "big") + bytes(6)), data)
    )


def image(card: BankCardOS) -> bytes:
    return card.state.to_image()


def test_pse_ppse_and_aid_selection() -> None:
    card = new_card()
    fci, sw = send(card, 0x00, 0xA4, 0x04, 0x00, PSE_NAME)
    assert sw == 0x9000 and find(fci, 0x84) == PSE_NAME and find(fci, 0x88) == b"\x01"
    record, sw = send(card, 0x00, 0xB2, 0x01, 0x0C)
    assert sw == 0x9000 and find(record, 0x4F) == AID_DEBIT and find(record, 0x87) == b"\x01"
    assert send(card, 0x00, 0xB2, 0x02, 0x0C)[1] == 0x6A83
    fci, sw = send(card, 0x00, 0xA4, 0x04, 0x00, PPSE_NAME)
    assert sw == 0x9000 and find(fci, 0x4F) == AID_DEBIT
    fci, sw = send(card, 0x00, 0xA4, 0x04, 0x00, AID_DEBIT)
    assert sw == 0x9000 and find(fci, 0x9F38) == bytes.fromhex("9F7A019F02065F2A02")
    assert send(card, 0x00, 0xA4, 0x04, 0x00, bytes.fromhex("A000000333010106"))[1] == 0x6A82
    assert send(card, 0x00, 0xA4, 0x04, 0x02, AID_DEBIT)[1] == 0x6A86


def test_read_records_by_afl() -> None:
    card = new_card()
    select_app(card)
    afl, sw = gpo(card, 100, ec=False)
    assert sw == 0x9000 and afl == bytes.fromhex("80067C0008010200")
    first, sw = send(card, 0x00, 0xB2, 0x01, 0x0C)
    assert sw == 0x9000 and find(first, 0x5A) == bytes.fromhex(PAN + "F") and find(first, 0x5F34) == b"\x01"
    assert find(first, 0x5F24) == bytes.fromhex("301231")
    second, _ = send(card, 0x00, 0xB2, 0x02, 0x0C)
    assert find(second, 0x8C) == CDOL1
    assert send(card, 0x00, 0xB2, 0x03, 0x0C)[1] == 0x6A83
    assert send(card, 0x00, 0xB2, 0x01, 0x0D)[1] == 0x6A86


def test_get_data_of_each_tag() -> None:
    card = new_card(ec_balance_fen=4_321, ec_single_limit_fen=20_000, ec_reset_threshold_fen=1_000)
    select_app(card)
    expected = {
        0x9F79: encode_amount_fen(4_321),
        0x9F77: encode_amount_fen(100_000),
        0x9F78: encode_amount_fen(20_000),
        0x9F6D: encode_amount_fen(1_000),
        0x9F36: b"\x00\x00",
        0x9F17: b"\x03",
    }
    for tag, value in expected.items():
        data, sw = send(card, 0x80, 0xCA, tag >> 8, tag & 0xFF)
        assert (sw, find(data, tag)) == (0x9000, value)
    assert send(card, 0x80, 0xCA, 0x9F, 0x13)[1] == SW_DATA_NOT_FOUND
    assert send(card, 0x80, 0xCA, 0xDF, 0x4D)[1] == SW_DATA_NOT_FOUND  # no offline TC yet


def test_verify_pin_try_counter_and_block() -> None:
    card = new_card()
    select_app(card)
    assert send(card, 0x00, 0x20, 0x00, 0x80, pin_block("111111"), None)[1] == 0x63C2
    assert send(card, 0x00, 0x20, 0x00, 0x80, pin_block("246810"), None)[1] == 0x9000
    assert card.state.pin_tries_left == 3
    for left in (2, 1, 0):
        assert send(card, 0x00, 0x20, 0x00, 0x80, pin_block("111111"), None)[1] == 0x63C0 | left
    assert send(card, 0x00, 0x20, 0x00, 0x80, pin_block("246810"), None)[1] == 0x6983
    assert card.state.pin_tries_left == 0
    assert send(card, 0x00, 0x20, 0x00, 0x80, bytes(7), None)[1] == 0x6700
    assert send(card, 0x00, 0x20, 0x00, 0x00, pin_block("246810"), None)[1] == 0x6A86


def test_ec_offline_purchase_tc_debits_the_balance() -> None:
    card = new_card(ec_balance_fen=5_000)
    select_app(card)
    assert gpo(card, 1_250, ec=True)[1] == 0x9000
    answer, sw = send(card, 0x80, 0xAE, 0x40, 0x00, cdol1(1_250))
    assert sw == 0x9000
    assert find(answer, 0x9F27) == b"\x40" and find(answer, 0x9F36) == b"\x00\x01"
    iad = find(answer, 0x9F10)
    assert iad == bytes.fromhex("07010103900800")  # CVR: 1st AC TC, 2nd not asked, EC offline
    cryptogram = find(answer, 0x9F26)
    assert cryptogram == oracle_ac(1, cdol1(1_250) + bytes.fromhex("7C00") + b"\x00\x01" + iad[3:])
    assert card.state.ec_balance_fen == 3_750 and card.state.atc == 1
    proof, sw = send(card, 0x80, 0xCA, 0xDF, 0x4D)  # the last offline TC, kept with its debit
    assert (sw, find(proof, 0xDF4D)) == (0x9000, b"\x00\x01" + encode_amount_fen(1_250) + cryptogram + iad)
    assert BankCardState.from_image(image(card)).last_offline_proof == find(proof, 0xDF4D)


def test_tc_above_the_single_limit_or_balance_goes_online() -> None:
    for balance, single, amount in ((5_000, 1_000, 1_001), (500, 50_000, 501), (5_000, 50_000, 0)):
        card = new_card(ec_balance_fen=balance, ec_single_limit_fen=single)
        select_app(card)
        gpo(card, amount, ec=True)
        answer, sw = send(card, 0x80, 0xAE, 0x40, 0x00, cdol1(amount))
        assert (sw, find(answer, 0x9F27)) == (0x9000, b"\x80")
        assert card.state.ec_balance_fen == balance


def test_tc_with_another_amount_than_gpo_goes_online() -> None:
    card = new_card(ec_balance_fen=5_000)
    select_app(card)
    gpo(card, 100, ec=True)
    answer, _ = send(card, 0x80, 0xAE, 0x40, 0x00, cdol1(4_000))
    assert find(answer, 0x9F27) == b"\x80" and card.state.ec_balance_fen == 5_000


def online(card: BankCardOS, amount_fen: int) -> bytes:
    """SELECT, GPO, first GENERATE AC asking ARQC; returns the ARQC."""
    select_app(card)
    gpo(card, amount_fen, ec=False)
    answer, sw = send(card, 0x80, 0xAE, 0x80, 0x00, cdol1(amount_fen))
    assert sw == 0x9000 and find(answer, 0x9F27) == b"\x80"
    arqc = find(answer, 0x9F26)
    assert arqc is not None
    return arqc


def cdol2(arpc: bytes, arc: bytes) -> bytes:
    return arpc + arc + arc + bytes(5) + b"\x55\x66\x77\x88"


def test_online_second_ac_tc_with_a_good_arpc_and_aac_with_a_bad_one() -> None:
    card = new_card()
    arqc = online(card, 30_000)
    udk = KEYS.card_keys(PAN, 1)[0]
    arpc = arpc_method_1(session_key(udk, 1), arqc, ARC_APPROVED)
    answer, sw = send(card, 0x80, 0xAE, 0x40, 0x00, cdol2(arpc, ARC_APPROVED))
    assert sw == 0x9000 and find(answer, 0x9F27) == b"\x40"
    cvr = bytes.fromhex("03600000")  # 1st AC ARQC, 2nd TC
    assert find(answer, 0x9F26) == oracle_ac(
        1, cdol1(30_000) + cdol2(arpc, ARC_APPROVED) + bytes.fromhex("7C00") + b"\x00\x01" + cvr
    )
    assert send(card, 0x80, 0xAE, 0x40, 0x00, cdol2(arpc, ARC_APPROVED))[1] == 0x6985  # one second AC
    card2 = new_card()
    online(card2, 30_000)
    answer, _ = send(card2, 0x80, 0xAE, 0x40, 0x00, cdol2(bytes(8), ARC_APPROVED))
    assert find(answer, 0x9F27) == b"\x00" and find(answer, 0x9F10)[5] == 0x40  # type: ignore[index]


def test_issuer_decline_gives_aac_even_with_a_valid_arpc() -> None:
    card = new_card()
    arqc = online(card, 30_000)
    arpc = arpc_method_1(session_key(KEYS.card_keys(PAN, 1)[0], 1), arqc, b"05")
    answer, _ = send(card, 0x80, 0xAE, 0x40, 0x00, cdol2(arpc, b"05"))
    assert find(answer, 0x9F27) == b"\x00"


def test_external_authenticate() -> None:
    card = new_card()
    arqc = online(card, 100)
    assert send(card, 0x00, 0x82, 0x00, 0x00, bytes(10), None)[1] == SW_AUTH_FAILED
    assert send(card, 0x00, 0x82, 0x00, 0x00, bytes(10), None)[1] == 0x6985  # once only
    card = new_card()
    arqc = online(card, 100)
    arpc = arpc_method_1(session_key(KEYS.card_keys(PAN, 1)[0], 1), arqc, ARC_APPROVED)
    assert send(card, 0x00, 0x82, 0x00, 0x00, arpc + ARC_APPROVED, None)[1] == 0x9000
    assert send(card, 0x00, 0x82, 0x00, 0x00, arpc, None)[1] == 0x6700
    assert send(card, 0x00, 0x82, 0x00, 0x00, arpc + ARC_APPROVED, None)[1] == 0x6985  # once only


def script(card: BankCardOS, tag: int, value_fen: int, arqc: bytes, key: bytes | None = None) -> bytes:
    udk_smi = KEYS.card_keys(PAN, 1)[1]
    value = encode_amount_fen(value_fen)
    header = bytes((0x04, 0xDA, tag >> 8, tag & 0xFF, 10))
    mac = script_mac(key or session_key(udk_smi, card.state.atc), header, card.state.atc, arqc, value)
    return header + value + mac


def authorised_session(card: BankCardOS, amount_fen: int) -> bytes:
    arqc = online(card, amount_fen)
    arpc = arpc_method_1(session_key(KEYS.card_keys(PAN, 1)[0], card.state.atc), arqc, ARC_APPROVED)
    answer, _ = send(card, 0x80, 0xAE, 0x40, 0x00, cdol2(arpc, ARC_APPROVED))
    assert find(answer, 0x9F27) == b"\x40"
    return arqc


def test_put_data_script_loads_ec_and_refuses_bad_macs() -> None:
    card = new_card(ec_balance_fen=1_000)
    arqc = authorised_session(card, 2_000)
    before = image(card)
    bad = script(card, 0x9F79, 3_000, arqc, key=bytes(16))
    assert parse_response(card.process(bad)).sw == SW_SM_INVALID and image(card) == before
    over = script(card, 0x9F79, 100_001, arqc)
    assert parse_response(card.process(over)).sw == 0x6A84 and image(card) == before
    inflated = script(card, 0x9F79, 3_001, arqc)  # more than balance + the ARQC's 2000
    assert parse_response(card.process(inflated)).sw == 0x6A80 and image(card) == before
    good = script(card, 0x9F79, 3_000, arqc)
    assert parse_response(card.process(good)).sw == 0x9000 and card.state.ec_balance_fen == 3_000
    assert parse_response(card.process(good)).sw == 0x6A80 and card.state.ec_balance_fen == 3_000  # replayed
    limit = script(card, 0x9F78, 2_500, arqc)
    assert parse_response(card.process(limit)).sw == 0x9000 and card.state.ec_single_limit_fen == 2_500


def test_put_data_without_issuer_approval_is_refused() -> None:
    card = new_card(ec_balance_fen=1_000)
    arqc = online(card, 2_000)
    before = image(card)
    assert parse_response(card.process(script(card, 0x9F79, 3_000, arqc))).sw == 0x6985
    assert image(card) == before


def test_commands_out_of_order_change_nothing() -> None:
    card = new_card()
    before = image(card)
    assert send(card, 0x80, 0xA8, 0x00, 0x00, b"\x83\x09" + bytes(9))[1] == 0x6985  # GPO before SELECT
    assert send(card, 0x80, 0xCA, 0x9F, 0x79)[1] == 0x6985
    select_app(card)
    assert send(card, 0x80, 0xAE, 0x80, 0x00, cdol1(100))[1] == 0x6985  # GENERATE AC before GPO
    assert send(card, 0x80, 0xA8, 0x00, 0x00, b"\x83\x09" + bytes(8))[1] == 0x6A80  # 83 length wrong
    assert send(card, 0x80, 0xA8, 0x00, 0x00, b"\x84\x09" + bytes(9), None)[1] == 0x6A80  # not 83
    assert send(card, 0x80, 0xA8, 0x00, 0x00, b"\x83\x08" + bytes(8))[1] == 0x6700  # 8 of 9 bytes
    assert send(card, 0x80, 0xA8, 0x00, 0x00, b"\x83\x03" + bytes(3))[1] == 0x6700  # short PDOL data
    assert (
        send(card, 0x80, 0xA8, 0x00, 0x00, b"\x83\x09" + b"\x00" + bytes.fromhex("00000000001A") + CNY)[1]
        == 0x6A80
    )
    assert image(card) == before
    gpo(card, 100, ec=False)
    after_gpo = image(card)
    assert gpo(card, 100, ec=False)[1] == 0x6985  # a second GPO
    assert send(card, 0x80, 0xAE, 0xC0, 0x00, cdol1(100))[1] == 0x6A86  # RFU cryptogram type
    assert send(card, 0x80, 0xAE, 0x90, 0x00, cdol1(100))[1] == 0x6A86  # CDA requested
    assert send(card, 0x80, 0xAE, 0x40, 0x00, cdol1(100)[:-1])[1] == 0x6700
    assert image(card) == after_gpo


def test_malformed_and_unknown_apdus() -> None:
    card = new_card()
    before = image(card)
    assert card.process(b"\x00\xa4") == b"\x67\x00"
    assert card.process(bytes.fromhex("00A4040008A0000003330101")) == b"\x67\x00"  # Lc 8, 6 follow
    assert card.process(bytes.fromhex("80500000")) == b"\x6d\x00"
    assert card.process(bytes.fromhex("84A404000E") + PSE_NAME) == b"\x6e\x00"
    assert image(card) == before


def test_atc_counts_gpo_and_stops_at_ffff() -> None:
    card = new_card()
    card.state.atc = 0xFFFE
    select_app(card)
    assert gpo(card, 100, ec=False)[1] == 0x9000 and card.state.atc == 0xFFFF
    select_app(card)
    assert gpo(card, 100, ec=False)[1] == 0x6985 and card.state.atc == 0xFFFF


def test_blocked_application() -> None:
    card = new_card()
    card.state.blocked = True
    assert send(card, 0x00, 0xA4, 0x04, 0x00, AID_DEBIT)[1] == 0x6283
    assert gpo(card, 100, ec=False)[1] == 0x6A81


def test_image_round_trip_and_bad_images() -> None:
    state = personalise(KEYS, "6222020000000000", 0, ec_balance_fen=99, ec_reset_threshold_fen=7)
    state.atc, state.pin_tries_left = 513, 2
    assert BankCardState.from_image(state.to_image()) == state
    assert len(state.to_image()) == 118
    with pytest.raises(BankCardImageError, match="117 bytes, expected 118"):
        BankCardState.from_image(state.to_image()[:-1])
    with pytest.raises(BankCardImageError, match="version 9"):
        BankCardState.from_image(b"\x09" + state.to_image()[1:])
    with pytest.raises(BankCardImageError, match="EC balance 100001 fen"):
        personalise(KEYS, PAN, 1, ec_balance_fen=100_001)
    with pytest.raises(BankCardImageError, match="PIN: 3 characters"):
        personalise(KEYS, PAN, 1, "123")
