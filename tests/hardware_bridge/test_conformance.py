"""The conformance suite: raw APDUs against the spec, in process and through pcscd + vpcd; it
fails a card that breaks the spec; scripts QA writes by hand; JUnit reports CI can read."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from devices.card_os import CardOS, PowerLost
from devices.card_state import MAC_ERRORS_LIMIT, MAC_ERRORS_MAX
from devices.factory import CardFactory, CardProfile
from devices.sim_channel import SimChannel
from hardware_bridge.conformance import ConformanceError, mask_matches, run_cases, sw_matches
from hardware_bridge.conformance_cases import all_cases
from hardware_bridge.hil import Outcome
from hardware_bridge.pcsc_channel import PcscChannel
from hardware_bridge.script import ScriptError, load_script, parse_script
from hardware_bridge.vpcd import VpcdServer
from model.security import IssuerKeyStore, generate_issuer_keys
from sim.cards import issuer_keys, sim_card

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "sim"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
MOMENT = datetime(2026, 11, 23, 9, 0, 0)
EXAMPLE = REPO / "docs" / "qa" / "example.apdu"


def _run_sim(card: CardOS | _DeselectingCard, allow_block: bool = True) -> dict[str, Outcome]:
    keys = issuer_keys(None)
    results = run_cases(
        SimChannel(card), all_cases(), IssuerKeyStore(keys), card.state.pin, allow_block, MOMENT
    )
    return {r.name: r.outcome for r in results}


def test_every_case_passes_in_process_and_names_its_clause() -> None:
    cases = all_cases()
    assert len(cases) == 198 and len({c.name for c in cases}) == len(cases)
    assert all(c.clause.strip() for c in cases)
    assert all(
        "epurse-protocol.md" in c.clause or "ISO 7816-4" in c.clause or "project decision" in c.clause
        for c in cases
    )
    assert cases[-1].name == "application_block" and cases[-1].blocks_card
    card = sim_card(issuer_keys(None))
    outcomes = _run_sim(card)
    assert set(outcomes.values()) == {Outcome.PASSED}, [
        n for n, o in outcomes.items() if o is not Outcome.PASSED
    ]
    assert card.state.blocked  # the last case blocked it
    # The flows moved exactly their money: two EP loads of 20.00, the WRITE KEY check's 0.01,
    # three EP purchases of 1.50 (plain, with its proof, through GET RESPONSE; CAPP entry 0).
    assert card.state.ep_balance_fen == 2 * 2_000 + 1 - 3 * 150
    assert card.state.ed_balance_fen == 2_000 - 150
    assert card.state.pin == b"\x12\x34\x56" and card.state.pin_tries_left == 3


def test_the_suite_fails_a_card_of_another_issuer() -> None:
    stranger_keys = generate_issuer_keys(seed=99, issuer_id=bytes.fromhex("3301000000000001"))
    # The widest MAC-failure limit, so each case meets the wrong keys on its own; with the
    # default limit the card blocks itself part-way (the next test).
    card = CardOS(
        CardFactory(stranger_keys).personalise(CardProfile(asn=bytes.fromhex("3301000000000099"))),
        mac_errors_max=MAC_ERRORS_LIMIT,
    )
    outcomes = _run_sim(card, allow_block=False)
    failed = {n for n, o in outcomes.items() if o is Outcome.FAILED}
    # The cases whose MACs come from the issuer's keys fail (9302), and those after them that
    # needed their money (9401) or their PIN (RELOAD PIN refused: 6983); no other case.
    assert failed == {
        "pin_block_and_reload",
        "reload_pin_wrong_mac",
        "ed_load",
        "ed_purchase",
        "ep_load",
        "ep_load_proof",
        "capp_entry",
        "write_key_same_dlk",
        "ep_purchase",
        "ep_purchase_proof",
        "ep_purchase_forged_mac1",
        "ep_purchase_with_get_response",
        "init_cancelled_by_other_command",
    }
    assert outcomes["application_block"] is Outcome.SKIPPED
    assert card.state.ep_balance_fen == 0


def test_a_card_of_another_issuer_blocks_itself_after_its_mac_failure_limit() -> None:
    stranger_keys = generate_issuer_keys(seed=99, issuer_id=bytes.fromhex("3301000000000001"))
    card = CardOS(CardFactory(stranger_keys).personalise(CardProfile(asn=bytes.fromhex("3301000000000099"))))
    outcomes = _run_sim(card, allow_block=False)
    # As a PBOC card does: the wrong keys' MACs count on the card until one key reaches the
    # limit, then the application answers 6A81 to everything, and every later case fails.
    assert card.state.blocked
    assert max(card.state.mac_errors) == MAC_ERRORS_MAX
    assert outcomes["select_by_name"] is Outcome.PASSED
    assert outcomes["capp_entry"] is Outcome.FAILED


class _DeselectingCard:
    """A card with the bug the issue found: a failed SELECT deselects the application. (A
    wrapper, not a subclass: the card OS may be compiled, `model.native`, and an interpreted
    class cannot inherit from a compiled one.)"""

    def __init__(self, card: CardOS) -> None:
        self.card = card
        self.state = card.state

    def power_on(self) -> None:
        self.card.power_on()

    def process(self, raw: bytes) -> bytes:
        response = self.card.process(raw)
        if raw[:2] == b"\x00\xa4" and response[-2:] != b"\x90\x00" and response[-2] != 0x61:
            self.card.power_on()
        return response


def test_the_suite_fails_a_card_whose_failed_select_deselects() -> None:
    card = _DeselectingCard(CardOS(sim_card(issuer_keys(None)).state))
    outcomes = _run_sim(card, allow_block=False)
    failed = {n for n, o in outcomes.items() if o is Outcome.FAILED}
    assert {"failed_select_keeps_app", "failed_select_fid_keeps_app", "failed_select_keeps_pin"} <= failed
    assert "select_by_name" not in failed


def test_status_and_mask_patterns() -> None:
    assert sw_matches("61xx", 0x6123) and sw_matches("63Cx", 0x63C2) and not sw_matches("9000", 0x6A82)
    assert mask_matches("6F..84*", bytes.fromhex("6F2D84AA")) and not mask_matches(
        "6F..84", bytes.fromhex("6F2D84AA")
    )
    assert mask_matches("", b"") and not mask_matches("", b"\x00") and mask_matches("*", b"\x01\x02")
    with pytest.raises(ConformanceError, match="status word pattern"):
        sw_matches("90", 0x9000)
    with pytest.raises(ConformanceError, match="data mask"):
        mask_matches("6F.", b"")


def test_a_hand_written_script_runs_and_fails_where_it_should(tmp_path: Path) -> None:
    cases = load_script(EXAMPLE)
    assert [c.name for c in cases] == [
        "select_and_balance",
        "select_by_fid_then_mf",
        "get_response_after_61xx",
        "unknown_instruction",
    ]
    card = sim_card(issuer_keys(None))
    store = IssuerKeyStore(issuer_keys(None))
    assert {r.outcome for r in run_cases(SimChannel(card), cases, store, b"\x12\x34\x56")} == {Outcome.PASSED}
    wrong = parse_script("case wrong: ISO 7816-4 5.4.2\n  00FE000000 -> 9000\n", "wrong.apdu")
    [result] = run_cases(SimChannel(card), wrong, store, b"\x12\x34\x56")
    assert (
        result.outcome is Outcome.FAILED and result.message == "step 1 00FE000000: status 6D00, expected 9000"
    )
    assert result.trace == (">> 00FE000000  << 6D00  MISMATCH: status 6D00, expected 9000",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("00A4 -> 9000\n", "x.apdu:1: a step before any 'case NAME: CLAUSE' line"),
        ("case a: c\n  00ZZ -> 9000\n", "x.apdu:2: APDU '00ZZ' is not hex"),
        ("case a: c\n  00A4 9000\n", "x.apdu:2: expected 'APDU -> SW [DATA]', got '00A4 9000'"),
        ("case a: c\n  00A4 -> 90\n", "x.apdu:2: status word pattern '90': 4 hex digits, x for any"),
        ("case a: c\ncase b: c\n  00 -> 6700\n", "x.apdu:2: case 'a' has no step"),
        ("case a: c\n  00 -> 6700\ncase a: c\n", "x.apdu:3: case 'a' given twice"),
        ("# nothing\n", "x.apdu: no case (a script starts with 'case NAME: CLAUSE')"),
    ],
)
def test_script_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ScriptError) as raised:
        parse_script(text, "x.apdu")
    assert str(raised.value) == message


def test_conformance_through_pcscd_and_vpcd_sees_the_transport(serve: Callable[..., VpcdServer]) -> None:
    card = sim_card(issuer_keys(None))
    serve(card, 0, power_lost=(PowerLost,))
    with PcscChannel("Virtual PCD 00 00", transport=False) as channel:
        results = run_cases(
            channel, all_cases(), IssuerKeyStore(issuer_keys(None)), card.state.pin, True, MOMENT
        )
    assert [r.name for r in results if r.outcome is not Outcome.PASSED] == []
    fid = next(r for r in results if r.name == "select_by_fid_1001_no_le")
    assert fid.trace[0].startswith(">> 00A40000021001  << 6F2D8408A000000632010105")
    split = next(r for r in results if r.name == "select_le_short_61xx")
    assert split.trace[0] == ">> 00A4040008A00000063201010504  << 6F2D8408612B  ok"


def _schema_shape(root: ET.Element) -> None:
    """The attributes the JUnit schema (Jenkins' junit-10.xsd) requires, and their types."""
    assert root.tag == "testsuites"
    for suite in root.iter("testsuite"):
        for name in ("name", "tests", "failures", "errors", "time", "timestamp", "hostname", "id", "package"):
            assert suite.get(name) is not None, name
        datetime.strptime(suite.get("timestamp") or "", "%Y-%m-%dT%H:%M:%S")
        cases = suite.findall("testcase")
        assert int(suite.get("tests") or -1) == len(cases)
        assert int(suite.get("failures") or -1) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("errors") or -1) == sum(c.find("error") is not None for c in cases)
        for case in cases:
            assert case.get("name") and case.get("classname") and float(case.get("time") or "x") >= 0


def test_cli_hil_report_has_the_schema_shape_and_traces(tmp_path: Path) -> None:
    report = tmp_path / "hil.xml"
    run = subprocess.run(
        [*CLI, "hil", "--allow-block", "--junit", str(report), "--trace", str(tmp_path / "t.txt")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=ENV,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-2] == "hil: 207 cases: 207 passed, 0 failed, 0 skipped"
    root = ET.parse(report).getroot()
    _schema_shape(root)
    assert {s.get("hostname") for s in root.iter("testsuite")} == {socket.gethostname()}
    fid = next(c for c in root.iter("testcase") if c.get("name") == "select_by_fid_1001")
    out = (fid.findtext("system-out") or "").splitlines()
    assert out[0] == "clause: project decision (README: Cards in readers); ISO 7816-4 7.1.1 (SELECT)"
    assert out[3].startswith(">> 00A4000002100100  << 6F2D8408A000000632010105")


def test_cli_hil_failures_and_errors_apart(tmp_path: Path) -> None:
    script = tmp_path / "s.apdu"
    script.write_text(
        "case ok: ISO 7816-4 5.4.2\n 00FE000000 -> 6D00\ncase bad: ISO 7816-4 5.4.2\n 00FE000000 -> 9000\n"
    )
    report = tmp_path / "r.xml"
    run = subprocess.run(
        [*CLI, "hil", "--script", str(script), "--junit", str(report), "--trace", str(tmp_path / "t.txt")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=ENV,
    )
    assert run.returncode == 1
    root = ET.parse(report).getroot()
    _schema_shape(root)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "0")
    failure = next(root.iter("failure"))
    assert (
        failure.get("type") == "StatusWordMismatch"
        and failure.get("message") == "step 1 00FE000000: status 6D00, expected 9000"
    )


def test_cli_hil_without_pcscd_writes_a_report_of_errors(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    env = {**ENV, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    run = subprocess.run(
        [
            *CLI,
            "hil",
            "--card",
            "pcsc:Any Reader",
            "--junit",
            str(report),
            "--trace",
            str(tmp_path / "t.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert run.returncode == 1 and len(run.stderr.strip().splitlines()) == 1
    assert "pcscd is not running" in run.stderr and "Traceback" not in run.stderr
    root = ET.parse(report).getroot()
    _schema_shape(root)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "1")
    error = next(root.iter("error"))
    assert error.get("type") == "PcscUnavailableError" and "pcscd is not running" in (
        error.get("message") or ""
    )
