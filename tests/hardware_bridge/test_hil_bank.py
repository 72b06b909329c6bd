"""The financial-card HIL suite (`cardtwin hil --suite bank`): green through pcscd + vpcd, green
in process, green on a card reached only as a PC/SC reader, and failing exactly the cases whose
cryptograms the issuer or the card checks when the card was personalised from other keys."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from devices.bankcard_os import BankCardOS
from devices.card_os import PowerLost
from hardware_bridge.bank_cases import CASE_NAMES, CLAUSES
from hardware_bridge.bankcard_serve import BANK_ATR
from hardware_bridge.hil import CaseResult, Outcome
from hardware_bridge.junit import write_junit
from hardware_bridge.vpcd import VpcdServer
from sim.cards.bank_hil import (
    BANK_TEST_PIN,
    EC_BALANCE_FEN_START,
    BankPlan,
    bank_card_pair,
    bank_test_keys,
    run_bank_hil,
)
from sim.cards.sources import CardSource

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "sim"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
Serve = Callable[..., VpcdServer]
LOAD_FEN, PURCHASE_FEN, ONLINE_FEN = 1_000, 150, 12_345
# Cases that only read the card or count its tries: they pass on any well-formed PBOC card.
KEYLESS = {
    "bank_ppse_select", "bank_pse_directory", "bank_select_aid_fci", "bank_gpo_pdol",
    "bank_read_record_afl", "bank_get_data", "bank_verify_pin_right", "bank_verify_pin_wrong",
    "bank_atc_monotonic",
}  # fmt: skip


def _plan(card: CardSource, tap: CardSource | None = None) -> BankPlan:
    return BankPlan(card, tap, BANK_TEST_PIN, LOAD_FEN, PURCHASE_FEN)


def _assert_green(results: list[CaseResult], chip: BankCardOS) -> None:
    assert [r.name for r in results] == list(CASE_NAMES)
    assert {r.name: r.outcome for r in results} == dict.fromkeys(CASE_NAMES, Outcome.PASSED), results
    state = chip.state
    # Three loads in, the unload took everything out: the card ends empty, PIN tries whole.
    assert (state.ec_balance_fen, state.pin_tries_left, state.blocked) == (0, 3, False)
    assert state.atc == 13  # 13 GPOs: one per transaction the cases opened
    unloaded = EC_BALANCE_FEN_START + 3 * LOAD_FEN - 2 * PURCHASE_FEN
    messages = {r.name: r.message for r in results}
    assert messages["bank_ec_unload"].startswith(f"unloaded {unloaded} fen")
    assert messages["bank_clearing"].startswith(
        f"4 TCs verified and cleared ({2 * ONLINE_FEN + 2 * PURCHASE_FEN} fen)"
    )


def test_bank_suite_green_through_pcscd_and_vpcd(pcscd: object, tmp_path: Path) -> None:
    pair = bank_card_pair(bank_test_keys())
    trace_path, report = tmp_path / "trace.txt", tmp_path / "bank.xml"
    results = run_bank_hil(_plan(CardSource("vpcd", slot=0)), trace_path, pair=pair)
    _assert_green(results, pair[0])
    assert pair[0].state is pair[1].state  # one dual-interface card behind both readers
    text = trace_path.read_text()
    assert "\tcard\t>>\t" in text and "\ttap\t>>\t" in text  # both interfaces went through pcscd
    assert text.count("PUT DATA") >= 1 and "no answer" in text  # the lost script answer, for real
    write_junit(report, results, "cardtwin-hil", {"card": "vpcd"})
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("20", "0", "0")
    suite = next(root.iter("testsuite"))
    assert suite.get("name") == "cardtwin-hil.bank"
    for case in root.iter("testcase"):
        name = case.get("name") or ""
        out = case.findtext("system-out") or ""
        assert case.get("classname") == "cardtwin-hil.bank"
        assert out.splitlines()[0] == f"clause: {CLAUSES[name]}" and ">>" in out, name


def test_bank_suite_green_in_process(tmp_path: Path) -> None:
    pair = bank_card_pair(bank_test_keys())
    results = run_bank_hil(_plan(CardSource("sim")), tmp_path / "t.txt", pair=pair)
    _assert_green(results, pair[0])


def test_bank_suite_on_pcsc_readers_loses_the_answer_on_the_link(serve: Serve, tmp_path: Path) -> None:
    # Reached only as PC/SC readers (as a real card): the suite loses PUT DATA's answer itself.
    contact, contactless = bank_card_pair(bank_test_keys())
    serve(contact, 0, atr=BANK_ATR, power_lost=(PowerLost,))
    serve(contactless, 1, atr=BANK_ATR, power_lost=(PowerLost,))
    plan = _plan(
        CardSource("pcsc", reader="Virtual PCD 00 00"), CardSource("pcsc", reader="Virtual PCD 00 01")
    )
    _assert_green(run_bank_hil(plan, tmp_path / "t.txt"), contact)


def test_bank_suite_fails_a_card_of_other_keys(tmp_path: Path) -> None:
    stranger = bank_card_pair(bank_test_keys(seed=99, name="STRANGER"))
    results = run_bank_hil(_plan(CardSource("sim")), tmp_path / "t.txt", pair=stranger)
    outcomes = {r.name: r.outcome for r in results}
    assert {n for n, o in outcomes.items() if o is Outcome.PASSED} == KEYLESS
    assert {n for n, o in outcomes.items() if o is Outcome.FAILED} == set(CASE_NAMES) - KEYLESS
    messages = {r.name: r.message for r in results}
    assert "the issuer's keys do not verify it" in messages["bank_generate_ac_arqc"]
    assert "issuer answered 05" in messages["bank_online_purchase"]
    assert "the offline TC does not verify" in messages["bank_ec_offline_purchase"]
    assert "the qPBOC TC does not verify" in messages["bank_qpboc_fdda"]
    assert messages["bank_clearing"] == "issuer EC float 5000 fen, the card holds 4700"
    # The stranger's EC money moved only by its own offline decisions; no script ever applied.
    assert stranger[0].state.ec_balance_fen == EC_BALANCE_FEN_START - 2 * PURCHASE_FEN
    report = tmp_path / "r.xml"
    write_junit(report, results, "cardtwin-hil", {})
    root = ET.parse(report).getroot()
    assert root.get("failures") == str(len(CASE_NAMES) - len(KEYLESS)) and root.get("errors") == "0"
    failed = {c.get("name") for c in root.iter("testcase") if c.find("failure") is not None}
    assert failed == set(CASE_NAMES) - KEYLESS


def test_bank_suite_runs_only_the_cases_named(tmp_path: Path) -> None:
    pair = bank_card_pair(bank_test_keys())
    plan = BankPlan(CardSource("sim"), None, BANK_TEST_PIN, LOAD_FEN, PURCHASE_FEN, ("bank_ec_load_script",))
    results = run_bank_hil(plan, tmp_path / "t.txt", pair=pair)
    assert [(r.name, r.outcome) for r in results] == [("bank_ec_load_script", Outcome.PASSED)]
    assert pair[0].state.ec_balance_fen == EC_BALANCE_FEN_START + LOAD_FEN


def test_cli_bank_suite_through_pcscd_and_vpcd(pcscd: object, tmp_path: Path) -> None:
    report, trace = tmp_path / "bank.xml", tmp_path / "bank-trace.txt"
    run = subprocess.run(
        [*CLI, "hil", "--suite", "bank", "--card", "vpcd", "--junit", str(report), "--trace", str(trace)],
        capture_output=True, text=True, timeout=300, check=False, env=ENV,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "hil: 20 cases: 20 passed, 0 failed, 0 skipped" in run.stdout
    assert "PASSED   bank_qpboc_fdda" in run.stdout
    root = ET.parse(report).getroot()
    assert {s.get("name"): s.get("tests") for s in root.iter("testsuite")} == {"cardtwin-hil.bank": "20"}
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["card"] == "vpcd" and props["keys"] == "TEST bank keys"


def test_cli_bank_suite_refuses_bad_input(tmp_path: Path) -> None:
    report, trace = tmp_path / "r.xml", tmp_path / "t.txt"
    files = ["--junit", str(report), "--trace", str(trace)]
    for args, message in (
        (
            ["--keys", str(tmp_path / "k.toml")],
            "--suite bank: takes neither --keys (e-purse keys) nor --script",
        ),
        (["--case", "load"], "--suite bank: --case load is an e-purse case"),
        (["--pin", "12ab"], "--pin '12ab': a bank card's PIN is 4-12 digits"),
        (["--tap", "pcsc:X"], "--tap with --card sim: a simulated card brings its contactless interface"),
        (["--fare", "-1"], "--fare -1.00: outside 0.01..500.00 (an EC amount)"),
    ):
        run = subprocess.run(
            [*CLI, "hil", "--suite", "bank", "--card", "sim", *files, *args],
            capture_output=True, text=True, timeout=60, check=False, env=ENV,
        )  # fmt: skip
        lines = run.stderr.strip().splitlines()
        assert run.returncode == 1 and len(lines) == 1 and message in lines[0], (args, run.stderr)
        error = next(ET.parse(report).getroot().iter("error"))
        assert message in (error.get("message") or "")
    epurse = subprocess.run(
        [*CLI, "hil", "--card", "sim", "--tap", "pcsc:X", *files],
        capture_output=True, text=True, timeout=60, check=False, env=ENV,
    )  # fmt: skip
    assert epurse.returncode == 1 and epurse.stderr.strip().splitlines() == [
        "cardtwin: error: --tap: only the bank suite has a contactless interface (--suite bank)"
    ]
    mixed = subprocess.run(
        [*CLI, "hil", "--suite", "hil", "--case", "bank_gpo_pdol", *files],
        capture_output=True, text=True, timeout=60, check=False, env=ENV,
    )  # fmt: skip
    assert mixed.returncode == 1 and mixed.stderr.strip().splitlines() == [
        "cardtwin: error: --case bank_gpo_pdol: a bank card's case (--suite bank)"
    ]


def test_cli_bank_suite_fails_a_card_of_other_keys_in_pcsc_readers(serve: Serve, tmp_path: Path) -> None:
    contact, contactless = bank_card_pair(bank_test_keys(seed=99, name="STRANGER"))
    serve(contact, 0, atr=BANK_ATR, power_lost=(PowerLost,))
    serve(contactless, 1, atr=BANK_ATR, power_lost=(PowerLost,))
    report = tmp_path / "bank.xml"
    readers = ["--card", "pcsc:Virtual PCD 00 00", "--tap", "pcsc:Virtual PCD 00 01", "--junit", str(report)]
    run = subprocess.run(
        [*CLI, "hil", "--suite", "bank", *readers, "--trace", str(tmp_path / "t.txt")],
        capture_output=True, text=True, timeout=300, check=False, env=ENV,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"hil: 20 cases: {len(KEYLESS)} passed, {20 - len(KEYLESS)} failed, 0 skipped" in run.stdout
    assert "FAILED   bank_generate_ac_arqc" in run.stdout and "PASSED   bank_verify_pin_wrong" in run.stdout
    root = ET.parse(report).getroot()
    failed = {c.get("name") for c in root.iter("testcase") if c.find("failure") is not None}
    assert failed == set(CASE_NAMES) - KEYLESS
    assert contact.state.pin_tries_left == 3  # the wrong PIN case gave the tries back
