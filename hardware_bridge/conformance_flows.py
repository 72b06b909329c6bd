"""Conformance cases that walk the card's flows with raw APDUs: SELECT by name and by file ID,
the MF and the PSE directory, the ISO 7816-4 transport (61xx, 6Cxx, GET RESPONSE), EP and ED
loads and purchases with their proofs, CAPP, PIN verify / change / block / reload, WRITE KEY
and APPLICATION BLOCK. Vocabulary in `conformance_steps`.
"""

from __future__ import annotations

from collections.abc import Iterator

from hardware_bridge.conformance import Case, Step
from hardware_bridge.conformance_steps import (
    AID,
    DECIDE,
    EP,
    EP_CRYPTO,
    EP_SW,
    FARE_FEN,
    FCI_MASK,
    ISO_SELECT,
    ISO_TRANSPORT,
    LOAD_FEN,
    MF_MASK,
    OPEN,
    PIN_STEPS,
    SEL_PSE,
    SELECT_STEPS,
    alg,
    card_key,
    credit,
    debit,
    h,
    init,
    maintained,
    s,
)
from model.security import KeyUsage, maintenance_mac


def positive_cases() -> Iterator[Case]:
    """Every case of the suite that is not the negative matrix, by area."""
    yield from _selection_cases()
    yield from _file_cases()
    yield from _purse_pin_cases()
    yield from _transaction_cases()
    yield from _maintenance_cases()


def _selection_cases() -> Iterator[Case]:
    """Selection: by name and file ID, the MF and the PSE directory, and what a failed SELECT keeps."""
    yield Case(
        "select_by_name", f"{EP} SELECT; {ISO_SELECT}", (s("00A4040008" + AID + "00", "9000", FCI_MASK),)
    )
    yield Case(
        "select_by_fid_1001",
        f"{DECIDE}; {ISO_SELECT}",
        (s("00A4000002100100", "9000", FCI_MASK), s("805C000204", "9000", "........")),
    )
    yield Case(
        "select_by_fid_1001_no_le",
        f"{DECIDE}; {ISO_SELECT} (as Chinese terminals send it)",
        (s("00A40000021001", "9000", FCI_MASK), s("805C000204", "9000", "........")),
    )
    yield Case("select_mf_3f00_no_le", f"{DECIDE}; {ISO_SELECT}", (s("00A40000023F00", "9000", MF_MASK),))
    yield Case("select_mf_3f00", f"{DECIDE}; {ISO_SELECT}", (s("00A40000023F0000", "9000", MF_MASK),))
    yield Case("select_mf_empty", ISO_SELECT, (s("00A4000000", "9000", MF_MASK),))
    yield Case("select_pse_by_name", f"{DECIDE}; {ISO_SELECT}", (Step(SEL_PSE, "9000", MF_MASK),))
    yield Case(
        "pse_directory_record",
        f"{DECIDE}; ISO 7816-4 8.2.1.1 (EF.DIR)",
        (Step(SEL_PSE, "9000", MF_MASK), s("00B2010C00", "9000", "70..61..4F08" + AID + "50*")),
    )
    yield Case(
        "pse_directory_no_record_2",
        f"{DECIDE}; {EP_SW}",
        (Step(SEL_PSE, "9000", None), s("00B2020C00", "6A83")),
    )
    yield Case(
        "pse_directory_wrong_sfi",
        f"{DECIDE}; {EP_SW}",
        (Step(SEL_PSE, "9000", None), s("00B2011400", "6A82")),
    )
    yield Case(
        "mf_then_balance_refused",
        f"{EP_SW} (6985 before SELECT)",
        (s("00A40000023F0000", "9000", None), s("805C000204", "6985")),
    )
    yield Case(
        "mf_then_adf_by_fid",
        ISO_SELECT,
        (s("00A40000023F0000", "9000", None), s("00A4000002100100", "9000", FCI_MASK)),
    )
    yield Case(
        "failed_select_keeps_app",
        f"{ISO_SELECT}; {DECIDE}",
        (*SELECT_STEPS, s("00A4040008A000000632019999", "6A82"), s("805C000204", "9000", "........")),
    )
    yield Case(
        "failed_select_fid_keeps_app",
        ISO_SELECT,
        (*SELECT_STEPS, s("00A40000022222", "6A82"), s("805C000204", "9000", "........")),
    )
    yield Case(
        "failed_select_keeps_pin",
        f"{ISO_SELECT}; {DECIDE}",
        (
            *SELECT_STEPS,
            *PIN_STEPS,
            s("00A4040008A000000632019999", "6A82"),
            s("805C000104", "9000", "........"),
        ),
    )
    yield Case(
        "reselect_drops_pin",
        f"{EP} (ED needs VERIFY since SELECT)",
        (*SELECT_STEPS, *PIN_STEPS, *SELECT_STEPS, s("805C000104", "6982")),
    )


def _file_cases() -> Iterator[Case]:
    """Reading the files, and the ISO 7816-4 transport cases (61xx, 6Cxx, GET RESPONSE)."""
    yield Case(
        "read_public_15",
        f"{EP} READ BINARY; file 0x15 30 B",
        (*SELECT_STEPS, s("00B0950000", "9000", "." * 60)),
    )
    yield Case(
        "read_holder_16",
        f"{EP} READ BINARY; file 0x16 55 B",
        (*SELECT_STEPS, s("00B0960000", "9000", ".." * 55)),
    )
    yield Case(
        "read_management_17",
        f"{EP} READ BINARY; file 0x17 60 B",
        (*SELECT_STEPS, s("00B0970000", "9000", ".." * 60)),
    )
    yield Case("read_binary_offset", f"{EP} READ BINARY", (*SELECT_STEPS, s("00B095140A", "9000", ".." * 10)))
    yield Case("read_binary_le_too_long_6c", ISO_TRANSPORT, (*SELECT_STEPS, s("00B0950020", "6C1E")))
    yield Case(
        "read_binary_exact_after_6c",
        ISO_TRANSPORT,
        (*SELECT_STEPS, s("00B0950020", "6C1E"), s("00B095001E", "9000", ".." * 30)),
    )
    yield Case(
        "select_le_short_61xx",
        ISO_TRANSPORT,
        (s("00A4040008" + AID + "04", "612B", "6F2D8408"), s("00C0000000", "9000", AID + "*")),
    )
    yield Case(
        "select_without_le_answers_fci",
        f"{ISO_SELECT}; {DECIDE}",
        (s("00A4040008" + AID, "9000", FCI_MASK),),
    )
    yield Case(
        "get_response_partial",
        ISO_TRANSPORT,
        (
            s("00A4040008" + AID + "04", "612B", "6F2D8408"),
            s("00C0000008", "6123", AID),
            s("00C0000000", "9000", "A5*"),
        ),
    )
    yield Case(
        "get_response_le_too_long_6c",
        ISO_TRANSPORT,
        (
            s("00A4040008" + AID + "04", "612B", "6F2D8408"),
            s("00C00000FF", "6C2B"),
            s("00C000002B", "9000", AID + "*"),
        ),
    )
    yield Case("get_response_nothing_held", ISO_TRANSPORT, (*SELECT_STEPS, s("00C0000000", "6985")))
    yield Case(
        "get_response_wrong_p1p2",
        ISO_TRANSPORT,
        (s("00A4040008" + AID + "04", "61xx", None), s("00C0010000", "6A86")),
    )
    yield Case(
        "get_response_consumed",
        ISO_TRANSPORT,
        (
            s("00A4040008" + AID + "04", "61xx", None),
            s("00C0000000", "9000", None),
            s("00C0000000", "6985"),
        ),
    )
    yield Case(
        "get_response_dropped_by_next_command",
        ISO_TRANSPORT,
        (
            s("00A4040008" + AID + "04", "61xx", None),
            s("805C000204", "9000", None),
            s("00C0000000", "6985"),
        ),
    )


def _purse_pin_cases() -> Iterator[Case]:
    """Balances and the holder's PIN: verify, change, block and reload."""
    yield Case("balance_ep", f"{EP} GET BALANCE", (*SELECT_STEPS, s("805C000204", "9000", "........")))
    yield Case(
        "balance_ed_needs_pin", f"{EP} GET BALANCE (P2 01 = ED)", (*SELECT_STEPS, s("805C000104", "6982"))
    )
    yield Case(
        "verify_pin_then_ed_balance",
        f"{EP} (ED purse, VERIFY PIN)",
        (*SELECT_STEPS, *PIN_STEPS, s("805C000104", "9000", "........")),
    )
    yield Case(
        "verify_pin_wrong_counts_a_try",
        "ISO 7816-4 11.5.6 (VERIFY, 63Cx)",
        (*SELECT_STEPS, s("0020000003999999", "63C2"), *PIN_STEPS, s("805C000104", "9000", None)),
    )
    yield Case(
        "change_pin",
        f"{DECIDE} (CHANGE PIN); JR/T 0025 part 2",
        (
            *SELECT_STEPS,
            *PIN_STEPS,
            Step(lambda c: h("805E010007") + c.pin + b"\xff" + h("654321"), "9000"),
            s("0020000003654321", "9000"),
            Step(lambda c: h("805E010007654321FF") + c.pin, "9000"),
            *PIN_STEPS,
        ),
    )
    yield Case(
        "change_pin_wrong_old", DECIDE, (*SELECT_STEPS, s("805E010007999999FF654321", "63C2"), *PIN_STEPS)
    )
    yield Case("change_pin_malformed", DECIDE, (*SELECT_STEPS, s("805E010006123456654321", "6700")))
    yield Case(
        "pin_block_and_reload",
        f"{DECIDE} (RELOAD PIN unblocks); ISO 7816-4 (6983)",
        (
            *OPEN,
            s("0020000003999999", "63C2"),
            s("0020000003999999", "63C1"),
            s("0020000003999999", "63C0"),
            Step(lambda c: h("0020000003") + c.pin, "6983"),
            s("0084000004", "9000", "........", keep="challenge"),
            Step(maintained("805E0000", lambda c: c.pin), "9000"),
            *PIN_STEPS,
        ),
    )
    yield Case(
        "reload_pin_wrong_mac",
        DECIDE,
        (
            *OPEN,
            s("0084000004", "9000", None, keep="challenge"),
            Step(lambda c: h("805E000007") + c.pin + b"\0\0\0\0", "9302"),
            *PIN_STEPS,
        ),
    )
    yield Case(
        "reload_pin_without_challenge",
        DECIDE,
        (*OPEN, Step(lambda c: h("805E000007") + c.pin + b"\0\0\0\0", "6985")),
    )


def _transaction_cases() -> Iterator[Case]:
    """Loads, purchases, composite and ED transactions with their proofs, and the out-of-order commands."""
    yield from _ep_load_cases()
    yield from _ep_purchase_cases()
    yield from _other_transaction_cases()


def _ep_load_cases() -> Iterator[Case]:
    """EP loads with their proofs and a forged MAC2."""
    yield Case(
        "ep_load",
        f"{EP} INITIALIZE FOR LOAD / CREDIT FOR LOAD; {EP_CRYPTO}",
        (
            *OPEN,
            Step(init(0x00, 0x02, LOAD_FEN), "9000", ".." * 16, keep="init"),
            Step(lambda c: credit(c, LOAD_FEN, 0x02), "9000", "........"),
        ),
    )
    yield Case(
        "ep_load_proof",
        f"{EP} GET TRANSACTION PROOF",
        (
            *OPEN,
            Step(init(0x00, 0x02, LOAD_FEN), "9000", None, keep="init"),
            Step(lambda c: credit(c, LOAD_FEN, 0x02), "9000", "........", keep="tac"),
            Step(
                lambda c: h("805A000202") + c.values["init"][4:6] + b"\x08", "9000", "........" + "........"
            ),
        ),
    )
    yield Case(
        "ep_load_forged_mac2",
        f"{EP_SW} (9302)",
        (
            *OPEN,
            Step(init(0x00, 0x02, LOAD_FEN), "9000", None, keep="init"),
            Step(lambda c: credit(c, LOAD_FEN, 0x02, forge=True), "9302"),
        ),
    )


def _ep_purchase_cases() -> Iterator[Case]:
    """EP purchases with their proofs, a forged MAC1, too little money, and GET RESPONSE."""
    yield Case(
        "ep_purchase",
        f"{EP} INITIALIZE FOR PURCHASE / DEBIT FOR PURCHASE; {EP_CRYPTO}",
        (
            *OPEN,
            Step(init(0x01, 0x02, FARE_FEN), "9000", ".." * 15, keep="init"),
            Step(lambda c: debit(c, FARE_FEN, 0x06, 1), "9000", ".." * 8),
        ),
    )
    yield Case(
        "ep_purchase_proof",
        f"{EP} GET TRANSACTION PROOF",
        (
            *OPEN,
            Step(init(0x01, 0x02, FARE_FEN), "9000", None, keep="init"),
            Step(lambda c: debit(c, FARE_FEN, 0x06, 2), "9000", None),
            Step(lambda c: h("805A000602") + c.values["init"][4:6] + b"\x08", "9000", ".." * 8),
        ),
    )
    yield Case(
        "ep_purchase_forged_mac1",
        f"{EP_SW} (9302)",
        (
            *OPEN,
            Step(init(0x01, 0x02, FARE_FEN), "9000", None, keep="init"),
            Step(lambda c: debit(c, FARE_FEN, 0x06, 3, forge=True), "9302"),
        ),
    )
    yield Case(
        "ep_purchase_insufficient", f"{EP_SW} (9401)", (*OPEN, Step(init(0x01, 0x02, 0x7FFFFFFF), "9401"))
    )
    yield Case(
        "ep_purchase_with_get_response",
        ISO_TRANSPORT,
        (
            *OPEN,
            Step(init(0x01, 0x02, FARE_FEN)[:-1] + b"\x04", "610B", "........", keep="init"),
            Step(h("00C000000B"), "9000", ".." * 11, keep="+init"),
            Step(lambda c: debit(c, FARE_FEN, 0x06, 4)[:-1] + b"\x04", "6104", "........"),
            s("00C0000004", "9000", "........"),
        ),
    )


def _other_transaction_cases() -> Iterator[Case]:
    """Composite and ED transactions, and commands out of order."""
    yield Case(
        "capp_entry",
        f"{EP} INITIALIZE FOR CAPP PURCHASE / UPDATE CAPP DATA CACHE",
        (
            *OPEN,
            Step(init(0x03, 0x02, 0), "9000", None, keep="init"),
            Step(h("80DC01D040") + b"\x01" + bytes(63), "9000"),
            Step(lambda c: debit(c, 0, 0x09, 5), "9000", ".." * 8),
            s("00B201D440", "9000", "01*"),
        ),
    )
    yield Case(
        "ed_load",
        f"{EP} (ED load, P2 01)",
        (
            *OPEN,
            *PIN_STEPS,
            Step(init(0x00, 0x01, LOAD_FEN), "9000", None, keep="init"),
            Step(lambda c: credit(c, LOAD_FEN, 0x01), "9000", "........"),
            s("805C000104", "9000", "........"),
        ),
    )
    yield Case(
        "ed_purchase",
        f"{EP} (ED purchase, P2 01)",
        (
            *OPEN,
            *PIN_STEPS,
            Step(init(0x01, 0x01, FARE_FEN), "9000", None, keep="init"),
            Step(lambda c: debit(c, FARE_FEN, 0x05, 6), "9000", ".." * 8),
        ),
    )
    yield Case(
        "ed_init_without_pin",
        f"{EP} (ED needs VERIFY PIN)",
        (*SELECT_STEPS, Step(init(0x00, 0x01, LOAD_FEN), "6982")),
    )
    yield Case(
        "debit_without_init",
        f"{EP} (DEBIT with no INITIALIZE: 6985)",
        (*SELECT_STEPS, s("805401000F" + "00" * 15 + "08", "6985")),
    )
    yield Case(
        "init_cancelled_by_other_command",
        f"{EP} (INITIALIZE cancelled)",
        (
            *OPEN,
            Step(init(0x01, 0x02, FARE_FEN), "9000", None, keep="init"),
            s("805C000204", "9000", None),
            Step(lambda c: debit(c, FARE_FEN, 0x06, 7), "6985"),
        ),
    )
    yield Case("proof_unavailable", f"{EP_SW} (9406)", (*SELECT_STEPS, s("805A000602FFFF08", "9406")))


def _maintenance_cases() -> Iterator[Case]:
    """Key update and the application block."""
    yield Case(
        "write_key_same_dlk",
        f"{DECIDE} (WRITE KEY)",
        (
            *OPEN,
            s("0084000004", "9000", None, keep="challenge"),
            Step(maintained("84D40002", lambda c: card_key(c, KeyUsage.LOAD)), "9000"),
            Step(init(0x00, 0x02, 1), "9000", None, keep="init"),
            Step(lambda c: credit(c, 1, 0x02), "9000", None),
        ),
    )
    yield Case(
        "write_key_wrong_mac",
        DECIDE,
        (*OPEN, s("0084000004", "9000", None, keep="challenge"), s("84D4000214" + "11" * 20, "9302")),
    )
    yield Case("write_key_without_challenge", DECIDE, (*SELECT_STEPS, s("84D4000214" + "11" * 20, "6985")))
    yield Case(
        "application_block",
        f"{EP} APPLICATION BLOCK; {EP_SW} (6A81)",
        (
            *OPEN,
            s("0084000004", "9000", None, keep="challenge"),
            Step(
                lambda c: (
                    h("841E000004")
                    + maintenance_mac(
                        alg(c), card_key(c, KeyUsage.MAINTENANCE), c.values["challenge"], h("841E000004")
                    )
                ),
                "9000",
            ),
            s("00A4040008" + AID + "00", "6A81"),
            s("00A4000002100100", "6A81"),
        ),
        blocks_card=True,
    )
