"""The financial-card HIL cases that read the card and check its cardholder verification:
application selection, GPO, READ RECORD, GET DATA, VERIFY, the first GENERATE AC. Each raw
command goes through `model.bankcard.kernel`, the code every bank terminal runs.
"""

from __future__ import annotations

import model.bankcard.kernel as k
import model.bankcard.objects as t
from hardware_bridge.bank_target import BankRun
from hardware_bridge.hil import HilCheckError, check
from model.bankcard import AuthorisationRequest, Kind, check_pan, parse_dol
from model.bankcard.qpboc import PPSE_NAME
from model.card import encode_command, parse_response
from model.card.tlv import find
from model.errors import CardStatusError

PIN_TRIES_MAX = 3  # EMV: the PIN try limit a PBOC issuer personalises


def pin_block(pin: str) -> bytes:
    """ISO 9564 format 2, the plaintext offline PIN block VERIFY carries: 2N | PIN | F padding."""
    return bytes.fromhex(f"2{len(pin):X}{pin}".ljust(16, "F"))


def wrong_pin(pin: str) -> str:
    return pin[:-1] + str((int(pin[-1]) + 1) % 10)


def _select(run: BankRun, name: bytes, what: str) -> bytes:
    return k.send(run.card, encode_command(0x00, 0xA4, 0x04, 0x00, name, 256), what)


def case_ppse(run: BankRun) -> str:
    fci = _select(run, PPSE_NAME, "SELECT PPSE")
    check(find(fci, t.TAG_DF_NAME) == PPSE_NAME, "PPSE FCI: 84 is not 2PAY.SYS.DDF01")
    check(find(fci, t.TAG_FCI_ISSUER_DISCRETIONARY) is not None, "PPSE FCI: no BF0C directory")
    aid = find(fci, t.TAG_AID)
    check(aid in k.CANDIDATE_AIDS, f"PPSE directory names {aid!r}, no PBOC AID")
    assert aid is not None
    return f"PPSE directory: AID {aid.hex().upper()}"


def case_pse(run: BankRun) -> str:
    fci = _select(run, k.PSE_NAME, "SELECT PSE")
    sfi = find(fci, t.TAG_SFI_OF_DIRECTORY)
    check(sfi is not None and len(sfi) == 1 and 1 <= sfi[0] <= 10, f"PSE FCI: SFI 88 {sfi!r} not 1..10")
    assert sfi is not None
    record = k.send(run.card, encode_command(0x00, 0xB2, 1, (sfi[0] << 3) | 4, le=256), "READ RECORD PSE")
    aid = find(record, t.TAG_AID)
    check(aid in k.CANDIDATE_AIDS, f"PSE directory record 1 names {aid!r}, no PBOC AID")
    beyond = parse_response(run.card.transmit(encode_command(0x00, 0xB2, 2, (sfi[0] << 3) | 4, le=256)))
    check(beyond.sw == 0x6A83, f"READ RECORD past the directory: {beyond.sw:04X}, expected 6A83")
    assert aid is not None
    return f"PSE SFI {sfi[0]}: AID {aid.hex().upper()}; record 2 answers 6A83"


def case_select_aid(run: BankRun) -> str:
    aid, pdol = k.select_application(run.card)
    fci = _select(run, aid, "SELECT AID")
    check(fci[:1] == b"\x6f", "SELECT AID: the answer is not an FCI template 6F")
    check(find(fci, t.TAG_DF_NAME) == aid, "FCI: DF name 84 differs from the AID selected")
    label = find(fci, t.TAG_APPLICATION_LABEL)
    check(bool(label) and label is not None and label.isascii(), "FCI: no application label 50")
    entries = dict(parse_dol(pdol))
    for tag in (t.TAG_AMOUNT_AUTHORISED, t.TAG_CURRENCY):
        check(tag in entries, f"PDOL {pdol.hex().upper()} asks no {tag:X}")
    absent = parse_response(run.card.transmit(encode_command(0x00, 0xA4, 0x04, 0x00, bytes(7), 256)))
    check(absent.sw == 0x6A82, f"SELECT of an absent AID: {absent.sw:04X}, expected 6A82")
    assert label is not None
    return f"AID {aid.hex().upper()} {label.decode()!r}, PDOL {pdol.hex().upper()}"


def case_gpo(run: BankRun) -> str:
    _, pdol = k.select_application(run.card)
    before = k.get_atc(run.card)
    data = k.terminal_data(run.target.purchase_fen, run.now(), k.TX_PURCHASE, run.unpredictable(), False)
    pdol_data = t.build_dol_data(parse_dol(pdol), data)
    bad = parse_response(run.card.transmit(encode_command(0x80, 0xA8, 0, 0, b"\x83\x01\x00", 256)))
    check(bad.sw == 0x6700, f"GPO with PDOL data of a wrong length: {bad.sw:04X}, expected 6700")
    gpo = k.send(
        run.card, encode_command(0x80, 0xA8, 0, 0, t.tlv(t.TAG_COMMAND_TEMPLATE, pdol_data), 256), "GPO"
    )
    body = find(gpo, t.TAG_RESPONSE_FORMAT_1)
    check(
        body is not None and len(body) >= 6 and (len(body) - 2) % 4 == 0, f"GPO: format 1 answer {gpo.hex()}"
    )
    assert body is not None
    after = k.get_atc(run.card)
    check(after == before + 1, f"GPO: ATC {before} -> {after}, expected +1")
    run.saw_atc(after)
    again = parse_response(
        run.card.transmit(encode_command(0x80, 0xA8, 0, 0, t.tlv(t.TAG_COMMAND_TEMPLATE, pdol_data), 256))
    )
    check(again.sw == 0x6985, f"a second GPO in one transaction: {again.sw:04X}, expected 6985")
    return f"AIP {body[:2].hex().upper()} AFL {body[2:].hex().upper()}, ATC {before} -> {after}"


def case_read_records(run: BankRun) -> str:
    data = k.terminal_data(run.target.purchase_fen, run.now(), k.TX_PURCHASE, run.unpredictable(), False)
    session = k.open_card(run.card, data)
    run.saw_atc(k.get_atc(run.card))
    check_pan(session.pan, "READ RECORD: PAN 5A")
    check(_luhn(session.pan), f"PAN {session.pan}: the Luhn check digit is wrong")
    records = b"".join(session.records)
    check(find(records, t.TAG_EXPIRY) is not None, "the AFL records lack the expiry date 5F24")
    check(find(records, t.TAG_CVM_LIST) is not None, "the AFL records lack the CVM list 8E")
    cdol1 = dict(session.cdol1)
    for tag in (t.TAG_AMOUNT_AUTHORISED, t.TAG_UNPREDICTABLE_NUMBER):
        check(tag in cdol1, f"CDOL1 asks no {tag:X}")
    check(t.TAG_ISSUER_AUTH_DATA in dict(session.cdol2), "CDOL2 asks no issuer authentication data 91")
    past = parse_response(run.card.transmit(encode_command(0x00, 0xB2, 9, (1 << 3) | 4, le=256)))
    check(past.sw == 0x6A83, f"READ RECORD of an absent record: {past.sw:04X}, expected 6A83")
    pan = f"{session.pan[:6]}...{session.pan[-4:]}"
    return f"{len(session.records)} records: PAN {pan} sequence {session.pan_sequence}"


def _luhn(pan: str) -> bool:
    digits = [int(c) for c in reversed(pan)]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def case_get_data(run: BankRun) -> str:
    k.select_application(run.card)
    balance = k.get_amount(run.card, t.TAG_EC_BALANCE)
    limit = k.get_amount(run.card, t.TAG_EC_BALANCE_LIMIT)
    single = k.get_amount(run.card, t.TAG_EC_SINGLE_LIMIT)
    reset = k.get_amount(run.card, t.TAG_EC_RESET_THRESHOLD)
    atc, tries = k.get_atc(run.card), k.get_data(run.card, t.TAG_PIN_TRY_COUNTER)
    check(0 <= balance <= limit, f"EC balance {balance} fen outside 0..limit {limit}")
    check(0 < single <= limit and reset <= limit, f"EC limits: single {single}, reset {reset}, limit {limit}")
    check(len(tries) == 1 and tries[0] == PIN_TRIES_MAX, f"PIN try counter 9F17 = {tries.hex()}, expected 03")
    check(k.get_atc(run.card) == atc, "GET DATA 9F36 moved the ATC")
    absent = parse_response(run.card.transmit(encode_command(0x80, 0xCA, 0x9F, 0x4F, le=256)))
    check(absent.sw == 0x6A88, f"GET DATA of an absent object: {absent.sw:04X}, expected 6A88")
    return (
        f"EC {balance} fen (limit {limit}, single {single}, reset {reset}), ATC {atc}, PIN tries {tries[0]}"
    )


def case_verify_right(run: BankRun) -> str:
    k.select_application(run.card)
    k.verify_pin(run.card, pin_block(run.target.pin))
    tries = k.get_data(run.card, t.TAG_PIN_TRY_COUNTER)
    check(tries == bytes((PIN_TRIES_MAX,)), f"after the right PIN the try counter is {tries.hex()}")
    return f"right PIN answered 9000, tries {tries[0]}"


def case_verify_wrong(run: BankRun) -> str:
    k.select_application(run.card)
    before = k.get_data(run.card, t.TAG_PIN_TRY_COUNTER)[0]
    try:
        k.verify_pin(run.card, pin_block(wrong_pin(run.target.pin)))
    except CardStatusError as exc:
        sw = exc.sw
    else:
        raise HilCheckError("a wrong PIN answered 9000")
    after = k.get_data(run.card, t.TAG_PIN_TRY_COUNTER)[0]
    check(sw == 0x63C0 | (before - 1), f"a wrong PIN answered {sw:04X}, expected 63C{before - 1:X}")
    check(after == before - 1, f"a wrong PIN: try counter {before} -> {after}, expected -1")
    k.verify_pin(run.card, pin_block(run.target.pin))
    restored = k.get_data(run.card, t.TAG_PIN_TRY_COUNTER)[0]
    check(restored == PIN_TRIES_MAX, f"the right PIN after a wrong one left the counter at {restored}")
    return f"wrong PIN answered {sw:04X} (tries {before} -> {after}); the right PIN reset them to {restored}"


def case_arqc(run: BankRun) -> str:
    run.network()
    data = k.terminal_data(run.target.online_fen, run.now(), k.TX_PURCHASE, run.unpredictable(), False)
    session = k.open_card(run.card, data)
    ac = k.first_ac(run.card, session, k.AC_ARQC)
    run.saw_atc(ac.atc)
    check(ac.cid == k.AC_ARQC, f"GENERATE AC asking an ARQC answered CID {ac.cid:02X}")
    request = AuthorisationRequest(
        Kind.PURCHASE, session.pan, session.pan_sequence, ac.atc, ac.cryptogram, ac.dol_data, session.aip,
        ac.iad, run.target.online_fen,
    )  # fmt: skip
    check(
        run.issuer.arqc_verifies(request),
        f"ARQC {ac.cryptogram.hex().upper()}: the issuer's keys do not verify it",
    )
    return f"ARQC {ac.cryptogram.hex().upper()} at ATC {ac.atc} verified by the issuer"
