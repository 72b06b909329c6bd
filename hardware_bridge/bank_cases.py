"""The financial-card (PBOC 2.0) HIL suite: the real bank terminal kernel, terminals, acquirer,
switch and issuer against a bank card however it is reached (in process, through pcscd + vpcd,
a real reader), one `CaseResult` per case, in the e-purse suite's report and JUnit format
(`suite="bank"`: its own <testsuite> in the report).

The cases share the card and run in order: the load funds the offline purchases, the unload
empties the EC balance, the last case clears every TC the run collected and checks that the
issuer answers for exactly the money it started with. Each names its clause: the JR/T 0025
part (PBOC 2.0) and the EMV 4.3 book and section it follows, or the project decision.
A card personalised from other keys than the issuer's fails the cases whose cryptograms the
issuer or the card checks, and passes those that only read it.
"""

from __future__ import annotations

from collections.abc import Callable

from hardware_bridge import bank_cases_money as money
from hardware_bridge import bank_cases_read as read
from hardware_bridge.bank_target import BankHilTarget, BankRun
from hardware_bridge.hil import CaseResult, run_cases
from hardware_bridge.trace import ApduTrace
from model.errors import CardTwinError

SUITE = "bank"
BankCase = Callable[[BankRun], "str | None"]
CASES: tuple[tuple[str, BankCase], ...] = (
    ("bank_ppse_select", read.case_ppse),
    ("bank_pse_directory", read.case_pse),
    ("bank_select_aid_fci", read.case_select_aid),
    ("bank_gpo_pdol", read.case_gpo),
    ("bank_read_record_afl", read.case_read_records),
    ("bank_get_data", read.case_get_data),
    ("bank_verify_pin_right", read.case_verify_right),
    ("bank_verify_pin_wrong", read.case_verify_wrong),
    ("bank_generate_ac_arqc", read.case_arqc),
    ("bank_external_authenticate_arpc", money.case_external_authenticate),
    ("bank_forged_arpc", money.case_forged_arpc),
    ("bank_online_purchase", money.case_online_purchase),
    ("bank_ec_load_script", money.case_ec_load),
    ("bank_ec_load_inflated_script", money.case_inflated_script),
    ("bank_ec_offline_purchase", money.case_ec_offline),
    ("bank_qpboc_fdda", money.case_qpboc),
    ("bank_ec_load_lost_answer", money.case_lost_script_answer),
    ("bank_ec_unload", money.case_ec_unload),
    ("bank_atc_monotonic", money.case_atc_monotonic),
    ("bank_clearing", money.case_clearing),
)
CASE_NAMES = tuple(name for name, _ in CASES)
_EC = "JR/T 0025.13 (electronic cash)"
CLAUSES = {
    "bank_ppse_select": "JR/T 0025.12 (contactless) PPSE 2PAY.SYS.DDF01; EMV Book B 3.3 (PPSE)",
    "bank_pse_directory": "JR/T 0025.5; EMV 4.3 Book 1 12.3.2 (PSE 1PAY.SYS.DDF01 and its directory)",
    "bank_select_aid_fci": "JR/T 0025.5; EMV 4.3 Book 1 11.3 (SELECT) and 11.3.4 (FCI)",
    "bank_gpo_pdol": "JR/T 0025.5; EMV 4.3 Book 3 6.5.8 (GET PROCESSING OPTIONS), 10.1 (PDOL)",
    "bank_read_record_afl": "JR/T 0025.5; EMV 4.3 Book 3 6.5.11 (READ RECORD), 10.2 (the AFL)",
    "bank_get_data": f"{_EC} 9F79/9F77/9F78/9F6D; EMV 4.3 Book 3 6.5.7 (GET DATA 9F36, 9F17)",
    "bank_verify_pin_right": "JR/T 0025.5; EMV 4.3 Book 3 6.5.12 (VERIFY), 10.5 (offline PIN)",
    "bank_verify_pin_wrong": "JR/T 0025.5; EMV 4.3 Book 3 6.5.12 (VERIFY: 63Cx, the PIN try counter)",
    "bank_generate_ac_arqc": "JR/T 0025.7; EMV 4.3 Book 3 6.5.5 (GENERATE AC), Book 2 8.1 (the ARQC)",
    "bank_external_authenticate_arpc": (
        "JR/T 0025.7; EMV 4.3 Book 3 6.5.4 (EXTERNAL AUTHENTICATE), Book 2 8.2 (ARPC),"
        " Book 3 10.11 (second GENERATE AC: TC)"
    ),
    "bank_forged_arpc": "JR/T 0025.7; EMV 4.3 Book 3 6.5.4 (6300), Book 2 8.2; CVR: issuer auth failed",
    "bank_online_purchase": "JR/T 0025.6 (terminal); EMV 4.3 Book 3 10.8-10.11 (online purchase, ARQC to TC)",
    "bank_ec_load_script": f"{_EC} load; EMV 4.3 Book 3 10.10 (issuer script PUT DATA 9F79)",
    "bank_ec_load_inflated_script": (
        f"{_EC} load; EMV 4.3 Book 2 9.2 (script MAC: 6988);"
        " project decision: a script moves exactly the authorised amount (6A80)"
    ),
    "bank_ec_offline_purchase": f"{_EC} offline purchase (TC, EC debit); EMV 4.3 Book 2 5-6 (SDA/DDA)",
    "bank_qpboc_fdda": "JR/T 0025.12 (qPBOC: the card decides at GPO, fDDA 9F4B); EMV Book C-3 (fDDA)",
    "bank_ec_load_lost_answer": "project decision (model/bankcard/terminals.py): torn load recovered by 9F79",
    "bank_ec_unload": f"{_EC} unload to the designated account (PUT DATA 9F79 := 0)",
    "bank_atc_monotonic": "EMV 4.3 Book 3 Annex A (9F36: incremented by every GPO, never repeated)",
    "bank_clearing": "JR/T 0025.7 (TC checked at clearing); project decision: every fen in one place",
}
assert set(CLAUSES) == set(CASE_NAMES), "every bank case names its clause"


def run_bank_suite(
    target: BankHilTarget, trace: ApduTrace | None = None, only: tuple[str, ...] = ()
) -> list[CaseResult]:
    """Run the bank cases in order (all, or those named in `only`); never raises for a card's
    misbehaviour: each case's outcome is in its result."""
    unknown = sorted(set(only) - set(CASE_NAMES))
    if unknown:
        raise CardTwinError(f"HIL: unknown bank case(s) {', '.join(unknown)}; known: {', '.join(CASE_NAMES)}")
    kept = [(name, case) for name, case in CASES if not only or name in only]
    why = "no contactless interface given (a pcsc card: --tap pcsc:READER)"
    return run_cases(kept, BankRun(target), CLAUSES, trace, why, SUITE)
