"""The negative matrix: for each command, the wrong class (other, proprietary, secure
messaging), wrong P1 and P2, the header alone, Lc short / long / beyond the data, and the
command before its application is selected; then unsupported instructions and classes,
1- to 3-byte APDUs and single-command edge cases. Vocabulary in `conformance_steps`.
"""

from __future__ import annotations

from collections.abc import Iterator

from hardware_bridge.conformance import Case, Step
from hardware_bridge.conformance_steps import (
    AID,
    DECIDE,
    EP,
    EP_SW,
    ISO_CLA,
    ISO_INS,
    ISO_LEN,
    ISO_P,
    ISO_SELECT,
    OPEN,
    SELECT_STEPS,
    h,
    init,
    s,
)

# (name, clause, prefix steps, the valid command, the INS's class)
_Matrix = tuple[str, str, tuple[Step, ...], str]
_COMMANDS: tuple[_Matrix, ...] = (
    ("read_binary", f"{EP} READ BINARY", SELECT_STEPS, "00B0950000"),
    ("read_record_log", f"{EP} READ RECORD", SELECT_STEPS, "00B201C400"),
    ("get_balance", f"{EP} GET BALANCE", SELECT_STEPS, "805C000204"),
    ("verify_pin", "ISO 7816-4 11.5.6 (VERIFY)", SELECT_STEPS, "0020000003123456"),
    ("initialize_for_load", f"{EP} INITIALIZE FOR LOAD", SELECT_STEPS, "805000020B01000000010000000000AA10"),
    (
        "initialize_for_purchase",
        f"{EP} INITIALIZE FOR PURCHASE",
        SELECT_STEPS,
        "805001020B01000000000000000000AA10",
    ),
    ("get_transaction_proof", f"{EP} GET TRANSACTION PROOF", SELECT_STEPS, "805A000602000008"),
    ("get_challenge", "ISO 7816-4 11.6.1 (GET CHALLENGE)", SELECT_STEPS, "0084000004"),
    ("change_pin", DECIDE, SELECT_STEPS, "805E010007123456FF123456"),
)
_WITH_INIT: tuple[_Matrix, ...] = (
    (
        "credit_for_load",
        f"{EP} CREDIT FOR LOAD",
        (*SELECT_STEPS, s("805000020B01000000010000000000AA10", "9000", None)),
        "805200000B" + "00" * 11 + "08",
    ),
    (
        "debit_for_purchase",
        f"{EP} DEBIT FOR PURCHASE",
        (*SELECT_STEPS, s("805001020B01000000000000000000AA10", "9000", None)),
        "805401000F" + "00" * 15 + "08",
    ),
)


def _variant(command: bytes, index: int, value: int) -> bytes:
    return command[:index] + bytes((value,)) + command[index + 1 :]


def matrix_cases() -> Iterator[Case]:
    for name, clause, prefix, text in (*_COMMANDS, *_WITH_INIT):
        command = h(text)
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
            (s("00A40000023F0000", "9000", None), Step(command, not_selected)),
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
    """The negative matrix: per command, a wrong CLA, INS, P1, P2, Lc or Le."""
    yield from _class_and_instruction_cases()
    yield from _select_and_read_cases()
    yield from _command_parameter_cases()


def _class_and_instruction_cases() -> Iterator[Case]:
    """Instruction bytes the card does not know, classes it does not take, and APDUs too short to parse."""
    for ins in _UNSUPPORTED_INS:
        yield Case(
            f"ins_{ins:02X}_unsupported",
            f"{ISO_INS}; {EP_SW} (6D00)",
            (*SELECT_STEPS, Step(bytes((0x00, ins, 0, 0, 0)), "6D00")),
        )
    for cla in (0x01, 0x20, 0x40, 0xA0, 0xFF):
        yield Case(
            f"cla_{cla:02X}_unsupported",
            f"{ISO_CLA}; {EP_SW} (6E00)",
            (*SELECT_STEPS, Step(bytes((cla, 0xA4, 4, 0, 0)), "6E00")),
        )
    for length in (1, 2, 3):
        yield Case(
            f"apdu_{length}_bytes",
            f"{ISO_LEN}; {EP_SW} (6700)",
            (*SELECT_STEPS, Step(bytes.fromhex("805C0002")[:length], "6700")),
        )


def _select_and_read_cases() -> Iterator[Case]:
    """Wrong parameters, lengths and classes for SELECT, READ BINARY and the first half of the command set."""
    yield Case(
        "select_wrong_p1",
        f"{ISO_SELECT}; {ISO_P}",
        (*SELECT_STEPS, s("00A4080008" + AID, "6A86"), s("805C000204", "9000", None)),
    )
    yield Case("select_wrong_p2", f"{ISO_SELECT}; {ISO_P}", (*SELECT_STEPS, s("00A4040208" + AID, "6A86")))
    yield Case(
        "select_name_too_short", f"{ISO_SELECT}; {ISO_LEN}", (*SELECT_STEPS, s("00A4040002A000", "6700"))
    )
    yield Case(
        "select_fid_three_bytes",
        f"{ISO_SELECT}; {ISO_LEN}",
        (*SELECT_STEPS, s("00A4000003100100", "6700")),
    )
    yield Case("select_wrong_cla", ISO_CLA, (s("80A4040008" + AID, "6E00"),))
    yield Case(
        "select_unknown_aid", f"{ISO_SELECT}; {EP_SW} (6A82)", (s("00A4040008A000000003000000", "6A82"),)
    )
    yield Case(
        "update_capp_without_init",
        f"{EP} UPDATE CAPP DATA CACHE (6985)",
        (*SELECT_STEPS, Step(h("80DC01D040") + b"\x01" + bytes(63), "6985")),
    )
    yield Case(
        "update_capp_wrong_length",
        f"{EP} UPDATE CAPP DATA CACHE; {ISO_LEN}",
        (
            *OPEN,
            Step(init(0x03, 0x02, 0), "9000", None),
            Step(h("80DC01D010") + b"\x01" + bytes(15), "6700"),
        ),
    )
    yield Case(
        "update_capp_wrong_sfi",
        f"{EP} UPDATE CAPP DATA CACHE; {ISO_P}",
        (
            *OPEN,
            Step(init(0x03, 0x02, 0), "9000", None),
            Step(h("80DC01C040") + b"\x01" + bytes(63), "6A86"),
        ),
    )
    yield Case(
        "init_capp_ed_refused",
        f"{EP} INITIALIZE FOR CAPP PURCHASE; {ISO_P}",
        (*SELECT_STEPS, Step(init(0x03, 0x01, 0), "6A86")),
    )
    yield Case(
        "init_wrong_key_index",
        f"{EP_SW} (9403)",
        (*SELECT_STEPS, s("805001020B09000000000000000000AA10", "9403")),
    )


def _command_parameter_cases() -> Iterator[Case]:
    """Wrong parameters and lengths for the rest of the command set."""
    yield Case(
        "init_load_zero_amount",
        f"{EP} INITIALIZE FOR LOAD; {EP_SW} (6A80)",
        (*SELECT_STEPS, s("805000020B01000000000000000000AA10", "6A80")),
    )
    yield Case(
        "init_load_over_max",
        f"{DECIDE} (6A84 over the maximum balance)",
        (*SELECT_STEPS, s("805000020B017FFFFFFF0000000000AA10", "6A84")),
    )
    yield Case(
        "read_record_log_beyond",
        f"{EP} READ RECORD; {EP_SW} (6A83)",
        (*SELECT_STEPS, s("00B20BC400", "6A83")),
    )
    yield Case(
        "read_record_unknown_sfi",
        f"{EP} READ RECORD; {EP_SW} (6A82)",
        (*SELECT_STEPS, s("00B2010C00", "6A82")),
    )
    yield Case(
        "read_binary_unknown_sfi",
        f"{EP} READ BINARY; {EP_SW} (6A82)",
        (*SELECT_STEPS, s("00B0810000", "6A82")),
    )
    yield Case(
        "read_binary_no_sfi_bit", f"{EP} READ BINARY; {ISO_P}", (*SELECT_STEPS, s("00B0150000", "6A86"))
    )
    yield Case(
        "get_balance_le_wrong", f"{EP} GET BALANCE; {ISO_LEN}", (*SELECT_STEPS, s("805C000208", "6700"))
    )
    yield Case("get_challenge_le_wrong", f"{ISO_LEN}", (*SELECT_STEPS, s("0084000008", "6700")))
    yield Case(
        "verify_pin_too_long",
        "ISO 7816-4 11.5.6 (VERIFY); " + ISO_LEN,
        (*SELECT_STEPS, s("002000000712345612345612", "6700")),
    )
    yield Case(
        "proof_wrong_type",
        f"{EP} GET TRANSACTION PROOF; {ISO_P}",
        (*SELECT_STEPS, s("805A0003020000" + "08", "6A86")),
    )
    yield Case(
        "application_block_without_challenge",
        f"{EP} APPLICATION BLOCK (6985)",
        (*SELECT_STEPS, s("841E00000400000000", "6985")),
    )
    yield Case(
        "application_block_wrong_mac",
        f"{EP} APPLICATION BLOCK; {EP_SW} (9302)",
        (
            *SELECT_STEPS,
            s("0084000004", "9000", None),
            s("841E00000400000000", "9302"),
            s("805C000204", "9000", None),
        ),
    )
