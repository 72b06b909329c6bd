"""The catalogue of conformance cases (`hardware_bridge.conformance`): positive flows with the
spec's crypto, then a negative matrix per command (CLA / INS / P1 / P2 / Lc / Le).

Clauses: "epurse-protocol.md <section>" is `shared/reference/epurse-protocol.md` (the public write-up of
JR/T 0025 part 2 and JT/T 978 the project follows), "ISO 7816-4 <clause>" the standard's
interindustry rules, "project decision (README: Protocol decisions)" a DECIDE the project made.
"""

from __future__ import annotations

from collections.abc import Iterator

from hardware_bridge.conformance import Build, Case, Context, Step
from model.security import (
    Algorithm,
    KeyUsage,
    MacKey,
    load_mac2_data,
    load_session_seed,
    maintenance_mac,
    purchase_mac1_data,
    purchase_session_seed,
    session_key,
)
from model.timefmt import encode_datetime

AID = "A000000632010105"
SEL = bytes.fromhex("00A4040008" + AID + "00")
SEL_BY_FID = bytes.fromhex("00A40000021001")
SEL_MF = bytes.fromhex("00A40000023F00")
SEL_PSE = bytes.fromhex("00A404000E") + b"1PAY.SYS.DDF01" + b"\x00"
TID = "FFFF00000A01"  # a QA terminal ID
LOAD_FEN = 2_000
FARE_FEN = 150
FCI_MASK = "6F..8408" + AID + "*"
MF_MASK = "6F..840E" + b"1PAY.SYS.DDF01".hex() + "*"

SPEC = "epurse-protocol.md"
EP = f"{SPEC} Card commands"
EP_SW = f"{SPEC} Card commands (status words)"
EP_CRYPTO = f"{SPEC} Crypto (MAC inputs)"
ISO_CLA = "ISO 7816-4 5.4.1 (class byte)"
ISO_INS = "ISO 7816-4 5.4.2 (instruction byte)"
ISO_P = "ISO 7816-4 5.4.3 (parameter bytes)"
ISO_LEN = "ISO 7816-4 5.1 (command-response pairs: Lc, Le)"
ISO_TRANSPORT = "ISO 7816-4 5.3.4 (61xx, 6Cxx, GET RESPONSE)"
ISO_SELECT = "ISO 7816-4 7.1.1 (SELECT)"
DECIDE = "project decision (README: Protocol decisions)"


def _h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def _s(command: str, sw: str, data: str | None = "", keep: str = "") -> Step:
    return Step(_h(command), sw, data, keep)


def _alg(ctx: Context) -> Algorithm:
    return Algorithm(ctx.values["info"][10])


def _asn(ctx: Context) -> bytes:
    return ctx.values["public"][12:20]


def _card_key(ctx: Context, usage: KeyUsage) -> bytes:
    return ctx.keys.card_key(usage, _alg(ctx), ctx.values["info"][9], _asn(ctx))


def _dt(ctx: Context) -> bytes:
    return encode_datetime(ctx.moment)


def _credit(ctx: Context, amount_fen: int, tx_type: int, forge: bool = False) -> bytes:
    init = ctx.values["init"]
    random4, counter = init[8:12], int.from_bytes(init[4:6], "big")
    sk = MacKey(
        _alg(ctx), session_key(_alg(ctx), _card_key(ctx, KeyUsage.LOAD), load_session_seed(random4, counter))
    )
    mac2 = sk.mac(load_mac2_data(amount_fen, tx_type, _h(TID), _dt(ctx)))
    if forge:
        mac2 = bytes((mac2[0] ^ 0x01,)) + mac2[1:]
    return _h("805200000B") + _dt(ctx) + mac2 + b"\x08"


def _debit(ctx: Context, amount_fen: int, tx_type: int, serial: int, forge: bool = False) -> bytes:
    init = ctx.values["init"]
    random4, counter = init[11:15], int.from_bytes(init[4:6], "big")
    seed = purchase_session_seed(random4, counter, serial)
    sk = MacKey(_alg(ctx), session_key(_alg(ctx), _card_key(ctx, KeyUsage.PURCHASE), seed))
    mac1 = sk.mac(purchase_mac1_data(amount_fen, tx_type, _h(TID), _dt(ctx)))
    if forge:
        mac1 = bytes((mac1[0] ^ 0x01,)) + mac1[1:]
    return _h("805401000F") + serial.to_bytes(4, "big") + _dt(ctx) + mac1 + b"\x08"


def _init(p1: int, purse: int, amount_fen: int) -> bytes:
    return _h(f"8050{p1:02X}{purse:02X}0B01") + amount_fen.to_bytes(4, "big") + _h(TID) + b"\x10"


def _maintained(header: str, body: Build) -> Build:
    """A maintenance command: header + body + the MAC under DAMK with the last challenge."""

    def build(ctx: Context) -> bytes:
        data = body(ctx)
        head = _h(header) + bytes((len(data) + 4,))
        challenge = ctx.values["challenge"]
        mac4 = maintenance_mac(_alg(ctx), _card_key(ctx, KeyUsage.MAINTENANCE), challenge, head + data)
        return head + data + mac4

    return build


_OPEN = (
    _s("00A4040008" + AID + "00", "9000", FCI_MASK),
    _s("00B0950000", "9000", "*", keep="public"),
    Step(_init(0x01, 0x02, 0), "9000", ".." * 15, keep="info"),  # amount 0: key index, algorithm
)
_SELECT = (_s("00A4040008" + AID + "00", "9000", FCI_MASK),)
_PIN = (Step(lambda ctx: _h("0020000003") + ctx.pin, "9000"),)


def positive_cases() -> Iterator[Case]:
    yield Case(
        "select_by_name", f"{EP} SELECT; {ISO_SELECT}", (_s("00A4040008" + AID + "00", "9000", FCI_MASK),)
    )
    yield Case(
        "select_by_fid_1001",
        f"{DECIDE}; {ISO_SELECT}",
        (_s("00A4000002100100", "9000", FCI_MASK), _s("805C000204", "9000", "........")),
    )
    yield Case(
        "select_by_fid_1001_no_le",
        f"{DECIDE}; {ISO_SELECT} (as Chinese terminals send it)",
        (_s("00A40000021001", "9000", FCI_MASK), _s("805C000204", "9000", "........")),
    )
    yield Case("select_mf_3f00_no_le", f"{DECIDE}; {ISO_SELECT}", (_s("00A40000023F00", "9000", MF_MASK),))
    yield Case("select_mf_3f00", f"{DECIDE}; {ISO_SELECT}", (_s("00A40000023F0000", "9000", MF_MASK),))
    yield Case("select_mf_empty", ISO_SELECT, (_s("00A4000000", "9000", MF_MASK),))
    yield Case("select_pse_by_name", f"{DECIDE}; {ISO_SELECT}", (Step(SEL_PSE, "9000", MF_MASK),))
    yield Case(
        "pse_directory_record",
        f"{DECIDE}; ISO 7816-4 8.2.1.1 (EF.DIR)",
        (Step(SEL_PSE, "9000", MF_MASK), _s("00B2010C00", "9000", "70..61..4F08" + AID + "50*")),
    )
    yield Case(
        "pse_directory_no_record_2",
        f"{DECIDE}; {EP_SW}",
        (Step(SEL_PSE, "9000", None), _s("00B2020C00", "6A83")),
    )
    yield Case(
        "pse_directory_wrong_sfi",
        f"{DECIDE}; {EP_SW}",
        (Step(SEL_PSE, "9000", None), _s("00B2011400", "6A82")),
    )
    yield Case(
        "mf_then_balance_refused",
        f"{EP_SW} (6985 before SELECT)",
        (_s("00A40000023F0000", "9000", None), _s("805C000204", "6985")),
    )
    yield Case(
        "mf_then_adf_by_fid",
        ISO_SELECT,
        (_s("00A40000023F0000", "9000", None), _s("00A4000002100100", "9000", FCI_MASK)),
    )
    yield Case(
        "failed_select_keeps_app",
        f"{ISO_SELECT}; {DECIDE}",
        (*_SELECT, _s("00A4040008A000000632019999", "6A82"), _s("805C000204", "9000", "........")),
    )
    yield Case(
        "failed_select_fid_keeps_app",
        ISO_SELECT,
        (*_SELECT, _s("00A40000022222", "6A82"), _s("805C000204", "9000", "........")),
    )
    yield Case(
        "failed_select_keeps_pin",
        f"{ISO_SELECT}; {DECIDE}",
        (*_SELECT, *_PIN, _s("00A4040008A000000632019999", "6A82"), _s("805C000104", "9000", "........")),
    )
    yield Case(
        "reselect_drops_pin",
        f"{EP} (ED needs VERIFY since SELECT)",
        (*_SELECT, *_PIN, *_SELECT, _s("805C000104", "6982")),
    )
    yield Case(
        "read_public_15", f"{EP} READ BINARY; file 0x15 30 B", (*_SELECT, _s("00B0950000", "9000", "." * 60))
    )
    yield Case(
        "read_holder_16", f"{EP} READ BINARY; file 0x16 55 B", (*_SELECT, _s("00B0960000", "9000", ".." * 55))
    )
    yield Case(
        "read_management_17",
        f"{EP} READ BINARY; file 0x17 60 B",
        (*_SELECT, _s("00B0970000", "9000", ".." * 60)),
    )
    yield Case("read_binary_offset", f"{EP} READ BINARY", (*_SELECT, _s("00B095140A", "9000", ".." * 10)))
    yield Case("read_binary_le_too_long_6c", ISO_TRANSPORT, (*_SELECT, _s("00B0950020", "6C1E")))
    yield Case(
        "read_binary_exact_after_6c",
        ISO_TRANSPORT,
        (*_SELECT, _s("00B0950020", "6C1E"), _s("00B095001E", "9000", ".." * 30)),
    )
    yield Case(
        "select_le_short_61xx",
        ISO_TRANSPORT,
        (_s("00A4040008" + AID + "04", "612B", "6F2D8408"), _s("00C0000000", "9000", AID + "*")),
    )
    yield Case(
        "select_without_le_answers_fci",
        f"{ISO_SELECT}; {DECIDE}",
        (_s("00A4040008" + AID, "9000", FCI_MASK),),
    )
    yield Case(
        "get_response_partial",
        ISO_TRANSPORT,
        (
            _s("00A4040008" + AID + "04", "612B", "6F2D8408"),
            _s("00C0000008", "6123", AID),
            _s("00C0000000", "9000", "A5*"),
        ),
    )
    yield Case(
        "get_response_le_too_long_6c",
        ISO_TRANSPORT,
        (
            _s("00A4040008" + AID + "04", "612B", "6F2D8408"),
            _s("00C00000FF", "6C2B"),
            _s("00C000002B", "9000", AID + "*"),
        ),
    )
    yield Case("get_response_nothing_held", ISO_TRANSPORT, (*_SELECT, _s("00C0000000", "6985")))
    yield Case(
        "get_response_wrong_p1p2",
        ISO_TRANSPORT,
        (_s("00A4040008" + AID + "04", "61xx", None), _s("00C0010000", "6A86")),
    )
    yield Case(
        "get_response_consumed",
        ISO_TRANSPORT,
        (
            _s("00A4040008" + AID + "04", "61xx", None),
            _s("00C0000000", "9000", None),
            _s("00C0000000", "6985"),
        ),
    )
    yield Case(
        "get_response_dropped_by_next_command",
        ISO_TRANSPORT,
        (
            _s("00A4040008" + AID + "04", "61xx", None),
            _s("805C000204", "9000", None),
            _s("00C0000000", "6985"),
        ),
    )
    yield Case("balance_ep", f"{EP} GET BALANCE", (*_SELECT, _s("805C000204", "9000", "........")))
    yield Case("balance_ed_needs_pin", f"{EP} GET BALANCE (P2 01 = ED)", (*_SELECT, _s("805C000104", "6982")))
    yield Case(
        "verify_pin_then_ed_balance",
        f"{EP} (ED purse, VERIFY PIN)",
        (*_SELECT, *_PIN, _s("805C000104", "9000", "........")),
    )
    yield Case(
        "verify_pin_wrong_counts_a_try",
        "ISO 7816-4 11.5.6 (VERIFY, 63Cx)",
        (*_SELECT, _s("0020000003999999", "63C2"), *_PIN, _s("805C000104", "9000", None)),
    )
    yield Case(
        "change_pin",
        f"{DECIDE} (CHANGE PIN); JR/T 0025 part 2",
        (
            *_SELECT,
            *_PIN,
            Step(lambda c: _h("805E010007") + c.pin + b"\xff" + _h("654321"), "9000"),
            _s("0020000003654321", "9000"),
            Step(lambda c: _h("805E010007654321FF") + c.pin, "9000"),
            *_PIN,
        ),
    )
    yield Case("change_pin_wrong_old", DECIDE, (*_SELECT, _s("805E010007999999FF654321", "63C2"), *_PIN))
    yield Case("change_pin_malformed", DECIDE, (*_SELECT, _s("805E010006123456654321", "6700")))
    yield Case(
        "pin_block_and_reload",
        f"{DECIDE} (RELOAD PIN unblocks); ISO 7816-4 (6983)",
        (
            *_OPEN,
            _s("0020000003999999", "63C2"),
            _s("0020000003999999", "63C1"),
            _s("0020000003999999", "63C0"),
            Step(lambda c: _h("0020000003") + c.pin, "6983"),
            _s("0084000004", "9000", "........", keep="challenge"),
            Step(_maintained("805E0000", lambda c: c.pin), "9000"),
            *_PIN,
        ),
    )
    yield Case(
        "reload_pin_wrong_mac",
        DECIDE,
        (
            *_OPEN,
            _s("0084000004", "9000", None, keep="challenge"),
            Step(lambda c: _h("805E000007") + c.pin + b"\0\0\0\0", "9302"),
            *_PIN,
        ),
    )
    yield Case(
        "reload_pin_without_challenge",
        DECIDE,
        (*_OPEN, Step(lambda c: _h("805E000007") + c.pin + b"\0\0\0\0", "6985")),
    )
    yield Case(
        "ep_load",
        f"{EP} INITIALIZE FOR LOAD / CREDIT FOR LOAD; {EP_CRYPTO}",
        (
            *_OPEN,
            Step(_init(0x00, 0x02, LOAD_FEN), "9000", ".." * 16, keep="init"),
            Step(lambda c: _credit(c, LOAD_FEN, 0x02), "9000", "........"),
        ),
    )
    yield Case(
        "ep_load_proof",
        f"{EP} GET TRANSACTION PROOF",
        (
            *_OPEN,
            Step(_init(0x00, 0x02, LOAD_FEN), "9000", None, keep="init"),
            Step(lambda c: _credit(c, LOAD_FEN, 0x02), "9000", "........", keep="tac"),
            Step(
                lambda c: _h("805A000202") + c.values["init"][4:6] + b"\x08", "9000", "........" + "........"
            ),
        ),
    )
    yield Case(
        "ep_load_forged_mac2",
        f"{EP_SW} (9302)",
        (
            *_OPEN,
            Step(_init(0x00, 0x02, LOAD_FEN), "9000", None, keep="init"),
            Step(lambda c: _credit(c, LOAD_FEN, 0x02, forge=True), "9302"),
        ),
    )
    yield Case(
        "ep_purchase",
        f"{EP} INITIALIZE FOR PURCHASE / DEBIT FOR PURCHASE; {EP_CRYPTO}",
        (
            *_OPEN,
            Step(_init(0x01, 0x02, FARE_FEN), "9000", ".." * 15, keep="init"),
            Step(lambda c: _debit(c, FARE_FEN, 0x06, 1), "9000", ".." * 8),
        ),
    )
    yield Case(
        "ep_purchase_proof",
        f"{EP} GET TRANSACTION PROOF",
        (
            *_OPEN,
            Step(_init(0x01, 0x02, FARE_FEN), "9000", None, keep="init"),
            Step(lambda c: _debit(c, FARE_FEN, 0x06, 2), "9000", None),
            Step(lambda c: _h("805A000602") + c.values["init"][4:6] + b"\x08", "9000", ".." * 8),
        ),
    )
    yield Case(
        "ep_purchase_forged_mac1",
        f"{EP_SW} (9302)",
        (
            *_OPEN,
            Step(_init(0x01, 0x02, FARE_FEN), "9000", None, keep="init"),
            Step(lambda c: _debit(c, FARE_FEN, 0x06, 3, forge=True), "9302"),
        ),
    )
    yield Case(
        "ep_purchase_insufficient", f"{EP_SW} (9401)", (*_OPEN, Step(_init(0x01, 0x02, 0x7FFFFFFF), "9401"))
    )
    yield Case(
        "ep_purchase_with_get_response",
        ISO_TRANSPORT,
        (
            *_OPEN,
            Step(_init(0x01, 0x02, FARE_FEN)[:-1] + b"\x04", "610B", "........", keep="init"),
            Step(_h("00C000000B"), "9000", ".." * 11, keep="+init"),
            Step(lambda c: _debit(c, FARE_FEN, 0x06, 4)[:-1] + b"\x04", "6104", "........"),
            _s("00C0000004", "9000", "........"),
        ),
    )
    yield Case(
        "capp_entry",
        f"{EP} INITIALIZE FOR CAPP PURCHASE / UPDATE CAPP DATA CACHE",
        (
            *_OPEN,
            Step(_init(0x03, 0x02, 0), "9000", None, keep="init"),
            Step(_h("80DC01D040") + b"\x01" + bytes(63), "9000"),
            Step(lambda c: _debit(c, 0, 0x09, 5), "9000", ".." * 8),
            _s("00B201D440", "9000", "01*"),
        ),
    )
    yield Case(
        "ed_load",
        f"{EP} (ED load, P2 01)",
        (
            *_OPEN,
            *_PIN,
            Step(_init(0x00, 0x01, LOAD_FEN), "9000", None, keep="init"),
            Step(lambda c: _credit(c, LOAD_FEN, 0x01), "9000", "........"),
            _s("805C000104", "9000", "........"),
        ),
    )
    yield Case(
        "ed_purchase",
        f"{EP} (ED purchase, P2 01)",
        (
            *_OPEN,
            *_PIN,
            Step(_init(0x01, 0x01, FARE_FEN), "9000", None, keep="init"),
            Step(lambda c: _debit(c, FARE_FEN, 0x05, 6), "9000", ".." * 8),
        ),
    )
    yield Case(
        "ed_init_without_pin",
        f"{EP} (ED needs VERIFY PIN)",
        (*_SELECT, Step(_init(0x00, 0x01, LOAD_FEN), "6982")),
    )
    yield Case(
        "debit_without_init",
        f"{EP} (DEBIT with no INITIALIZE: 6985)",
        (*_SELECT, _s("805401000F" + "00" * 15 + "08", "6985")),
    )
    yield Case(
        "init_cancelled_by_other_command",
        f"{EP} (INITIALIZE cancelled)",
        (
            *_OPEN,
            Step(_init(0x01, 0x02, FARE_FEN), "9000", None, keep="init"),
            _s("805C000204", "9000", None),
            Step(lambda c: _debit(c, FARE_FEN, 0x06, 7), "6985"),
        ),
    )
    yield Case("proof_unavailable", f"{EP_SW} (9406)", (*_SELECT, _s("805A000602FFFF08", "9406")))
    yield Case(
        "write_key_same_dlk",
        f"{DECIDE} (WRITE KEY)",
        (
            *_OPEN,
            _s("0084000004", "9000", None, keep="challenge"),
            Step(_maintained("84D40002", lambda c: _card_key(c, KeyUsage.LOAD)), "9000"),
            Step(_init(0x00, 0x02, 1), "9000", None, keep="init"),
            Step(lambda c: _credit(c, 1, 0x02), "9000", None),
        ),
    )
    yield Case(
        "write_key_wrong_mac",
        DECIDE,
        (*_OPEN, _s("0084000004", "9000", None, keep="challenge"), _s("84D4000214" + "11" * 20, "9302")),
    )
    yield Case("write_key_without_challenge", DECIDE, (*_SELECT, _s("84D4000214" + "11" * 20, "6985")))
    yield Case(
        "application_block",
        f"{EP} APPLICATION BLOCK; {EP_SW} (6A81)",
        (
            *_OPEN,
            _s("0084000004", "9000", None, keep="challenge"),
            Step(
                lambda c: (
                    _h("841E000004")
                    + maintenance_mac(
                        _alg(c), _card_key(c, KeyUsage.MAINTENANCE), c.values["challenge"], _h("841E000004")
                    )
                ),
                "9000",
            ),
            _s("00A4040008" + AID + "00", "6A81"),
            _s("00A4000002100100", "6A81"),
        ),
        blocks_card=True,
    )


# (name, clause, prefix steps, the valid command, the INS's class)
_Matrix = tuple[str, str, tuple[Step, ...], str]
_COMMANDS: tuple[_Matrix, ...] = (
    ("read_binary", f"{EP} READ BINARY", _SELECT, "00B0950000"),
    ("read_record_log", f"{EP} READ RECORD", _SELECT, "00B201C400"),
    ("get_balance", f"{EP} GET BALANCE", _SELECT, "805C000204"),
    ("verify_pin", "ISO 7816-4 11.5.6 (VERIFY)", _SELECT, "0020000003123456"),
    ("initialize_for_load", f"{EP} INITIALIZE FOR LOAD", _SELECT, "805000020B01000000010000000000AA10"),
    (
        "initialize_for_purchase",
        f"{EP} INITIALIZE FOR PURCHASE",
        _SELECT,
        "805001020B01000000000000000000AA10",
    ),
    ("get_transaction_proof", f"{EP} GET TRANSACTION PROOF", _SELECT, "805A000602000008"),
    ("get_challenge", "ISO 7816-4 11.6.1 (GET CHALLENGE)", _SELECT, "0084000004"),
    ("change_pin", DECIDE, _SELECT, "805E010007123456FF123456"),
)
_WITH_INIT: tuple[_Matrix, ...] = (
    (
        "credit_for_load",
        f"{EP} CREDIT FOR LOAD",
        (*_SELECT, _s("805000020B01000000010000000000AA10", "9000", None)),
        "805200000B" + "00" * 11 + "08",
    ),
    (
        "debit_for_purchase",
        f"{EP} DEBIT FOR PURCHASE",
        (*_SELECT, _s("805001020B01000000000000000000AA10", "9000", None)),
        "805401000F" + "00" * 15 + "08",
    ),
)


def _variant(command: bytes, index: int, value: int) -> bytes:
    return command[:index] + bytes((value,)) + command[index + 1 :]


def matrix_cases() -> Iterator[Case]:
    for name, clause, prefix, text in (*_COMMANDS, *_WITH_INIT):
        command = _h(text)
        cla = command[0]
        other = 0x80 if cla == 0x00 else 0x00
        yield Case(
            f"{name}_cla_other_class",
            f"{clause}; {ISO_CLA}",
            (*prefix, Step(_variant(command, 0, other), "6E00")),
        )
        yield Case(
            f"{name}_cla_proprietary_10",
            f"{clause}; {ISO_CLA}",
            (*prefix, Step(_variant(command, 0, 0x10), "6E00")),
        )
        yield Case(
            f"{name}_cla_secure_messaging",
            f"{clause}; {ISO_CLA}",
            (*prefix, Step(_variant(command, 0, cla | 0x0C), "6E00")),
        )
        p1_sw = "6A83" if name == "read_record_log" else "6A86"  # READ RECORD's P1 is a record number
        yield Case(
            f"{name}_p1_wrong",
            f"{clause}; {ISO_P}",
            (*prefix, Step(_variant(command, 2, command[2] ^ 0x40), p1_sw)),
        )
        yield Case(
            f"{name}_p2_wrong",
            f"{clause}; {ISO_P}",
            (*prefix, Step(_variant(command, 3, 0x7F if name != "read_binary" else 0xFF), _p2_sw(name))),
        )
        yield Case(f"{name}_header_only", f"{clause}; {ISO_LEN}", (*prefix, Step(command[:4], "6700")))
        # VERIFY and CHANGE PIN take PINs of 2..6 bytes: another Lc is another PIN, not an error.
        if len(command) > 5 and command[4] + 5 <= len(command) and "pin" not in name:
            lc = command[4]
            yield Case(
                f"{name}_lc_short",
                f"{clause}; {ISO_LEN}",
                (
                    *prefix,
                    Step(command[:4] + bytes((lc - 1,)) + command[5 : 4 + lc] + command[5 + lc :], "6700"),
                ),
            )
            yield Case(
                f"{name}_lc_long",
                f"{clause}; {ISO_LEN}",
                (
                    *prefix,
                    Step(
                        command[:4] + bytes((lc + 1,)) + command[5 : 5 + lc] + b"\x00" + command[5 + lc :],
                        "6700",
                    ),
                ),
            )
            yield Case(
                f"{name}_lc_beyond_data",
                f"{clause}; {ISO_LEN}",
                (*prefix, Step(command[:4] + bytes((lc + 8,)) + command[5 : 5 + lc], "6700")),
            )
        # With the MF current, READ RECORD addresses the MF's files (only the directory, SFI 01).
        not_selected = "6A82" if name == "read_record_log" else "6985"
        yield Case(
            f"{name}_not_selected",
            f"{clause}; {EP_SW} (6985 before SELECT)",
            (_s("00A40000023F0000", "9000", None), Step(command, not_selected)),
        )


def _p2_sw(name: str) -> str:
    # READ BINARY's P2 is an offset: past the file's end it is 6B00 (ISO 7816-4 wrong offset).
    return "6B00" if name == "read_binary" else "6A86"


_UNSUPPORTED_INS = (
    0x00,
    0x02,
    0x0E,
    0x10,
    0x22,
    0x2A,
    0x44,
    0x70,
    0x82,
    0x88,
    0xCA,
    0xD6,
    0xDA,
    0xE2,
    0xF2,
    0xFE,
)


def instruction_cases() -> Iterator[Case]:
    for ins in _UNSUPPORTED_INS:
        yield Case(
            f"ins_{ins:02X}_unsupported",
            f"{ISO_INS}; {EP_SW} (6D00)",
            (*_SELECT, Step(bytes((0x00, ins, 0, 0, 0)), "6D00")),
        )
    for cla in (0x01, 0x20, 0x40, 0xA0, 0xFF):
        yield Case(
            f"cla_{cla:02X}_unsupported",
            f"{ISO_CLA}; {EP_SW} (6E00)",
            (*_SELECT, Step(bytes((cla, 0xA4, 4, 0, 0)), "6E00")),
        )
    for length in (1, 2, 3):
        yield Case(
            f"apdu_{length}_bytes",
            f"{ISO_LEN}; {EP_SW} (6700)",
            (*_SELECT, Step(bytes.fromhex("805C0002")[:length], "6700")),
        )
    yield Case(
        "select_wrong_p1",
        f"{ISO_SELECT}; {ISO_P}",
        (*_SELECT, _s("00A4080008" + AID, "6A86"), _s("805C000204", "9000", None)),
    )
    yield Case("select_wrong_p2", f"{ISO_SELECT}; {ISO_P}", (*_SELECT, _s("00A4040208" + AID, "6A86")))
    yield Case("select_name_too_short", f"{ISO_SELECT}; {ISO_LEN}", (*_SELECT, _s("00A4040002A000", "6700")))
    yield Case(
        "select_fid_three_bytes", f"{ISO_SELECT}; {ISO_LEN}", (*_SELECT, _s("00A4000003100100", "6700"))
    )
    yield Case("select_wrong_cla", ISO_CLA, (_s("80A4040008" + AID, "6E00"),))
    yield Case(
        "select_unknown_aid", f"{ISO_SELECT}; {EP_SW} (6A82)", (_s("00A4040008A000000003000000", "6A82"),)
    )
    yield Case(
        "update_capp_without_init",
        f"{EP} UPDATE CAPP DATA CACHE (6985)",
        (*_SELECT, Step(_h("80DC01D040") + b"\x01" + bytes(63), "6985")),
    )
    yield Case(
        "update_capp_wrong_length",
        f"{EP} UPDATE CAPP DATA CACHE; {ISO_LEN}",
        (
            *_OPEN,
            Step(_init(0x03, 0x02, 0), "9000", None),
            Step(_h("80DC01D010") + b"\x01" + bytes(15), "6700"),
        ),
    )
    yield Case(
        "update_capp_wrong_sfi",
        f"{EP} UPDATE CAPP DATA CACHE; {ISO_P}",
        (
            *_OPEN,
            Step(_init(0x03, 0x02, 0), "9000", None),
            Step(_h("80DC01C040") + b"\x01" + bytes(63), "6A86"),
        ),
    )
    yield Case(
        "init_capp_ed_refused",
        f"{EP} INITIALIZE FOR CAPP PURCHASE; {ISO_P}",
        (*_SELECT, Step(_init(0x03, 0x01, 0), "6A86")),
    )
    yield Case(
        "init_wrong_key_index",
        f"{EP_SW} (9403)",
        (*_SELECT, _s("805001020B09000000000000000000AA10", "9403")),
    )
    yield Case(
        "init_load_zero_amount",
        f"{EP} INITIALIZE FOR LOAD; {EP_SW} (6A80)",
        (*_SELECT, _s("805000020B01000000000000000000AA10", "6A80")),
    )
    yield Case(
        "init_load_over_max",
        f"{DECIDE} (6A84 over the maximum balance)",
        (*_SELECT, _s("805000020B017FFFFFFF0000000000AA10", "6A84")),
    )
    yield Case(
        "read_record_log_beyond", f"{EP} READ RECORD; {EP_SW} (6A83)", (*_SELECT, _s("00B20BC400", "6A83"))
    )
    yield Case(
        "read_record_unknown_sfi", f"{EP} READ RECORD; {EP_SW} (6A82)", (*_SELECT, _s("00B2010C00", "6A82"))
    )
    yield Case(
        "read_binary_unknown_sfi", f"{EP} READ BINARY; {EP_SW} (6A82)", (*_SELECT, _s("00B0810000", "6A82"))
    )
    yield Case("read_binary_no_sfi_bit", f"{EP} READ BINARY; {ISO_P}", (*_SELECT, _s("00B0150000", "6A86")))
    yield Case("get_balance_le_wrong", f"{EP} GET BALANCE; {ISO_LEN}", (*_SELECT, _s("805C000208", "6700")))
    yield Case("get_challenge_le_wrong", f"{ISO_LEN}", (*_SELECT, _s("0084000008", "6700")))
    yield Case(
        "verify_pin_too_long",
        "ISO 7816-4 11.5.6 (VERIFY); " + ISO_LEN,
        (*_SELECT, _s("002000000712345612345612", "6700")),
    )
    yield Case(
        "proof_wrong_type",
        f"{EP} GET TRANSACTION PROOF; {ISO_P}",
        (*_SELECT, _s("805A0003020000" + "08", "6A86")),
    )
    yield Case(
        "application_block_without_challenge",
        f"{EP} APPLICATION BLOCK (6985)",
        (*_SELECT, _s("841E00000400000000", "6985")),
    )
    yield Case(
        "application_block_wrong_mac",
        f"{EP} APPLICATION BLOCK; {EP_SW} (9302)",
        (
            *_SELECT,
            _s("0084000004", "9000", None),
            _s("841E00000400000000", "9302"),
            _s("805C000204", "9000", None),
        ),
    )


def all_cases() -> tuple[Case, ...]:
    """Every case, in the order they run: the blocking case last."""
    cases = [*positive_cases(), *matrix_cases(), *instruction_cases()]
    blocking = [c for c in cases if c.blocks_card]
    return (*(c for c in cases if not c.blocks_card), *blocking)
