"""The HIL / conformance suite: through pcscd + vpcd (as CI runs it), in process, and failing
when the card is not what the back office expects."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest

from devices.card_os import CardOS
from devices.card_state import MAC_ERRORS_LIMIT
from devices.factory import CardFactory, CardProfile
from hardware_bridge.hil import CASE_NAMES, HilTarget, Outcome, run_suite
from hardware_bridge.junit import write_junit
from hardware_bridge.pcsc_channel import PcscChannel
from hardware_bridge.trace import ApduTrace
from hardware_bridge.vpcd import VpcdServer
from model.backoffice.load_host import LoadHost
from model.errors import CardTwinError
from model.security.keys import IssuerKeys, IssuerKeyStore, generate_issuer_keys
from sim.cards.sources import CardSource, open_source, sim_card, sim_psam

REPO = Path(__file__).resolve().parents[2]
# This worktree's code, as CI's clone runs its own: `python -m sim` with the repository first.
CLI = [sys.executable, "-m", "sim"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
MOMENT = datetime(2026, 11, 23, 9, 0, 0)
Serve = Callable[..., VpcdServer]


def _target(
    keys: IssuerKeys, card: object, psam: object, loss: object, allow_block: bool = True
) -> HilTarget:
    return HilTarget(
        card=card,  # type: ignore[arg-type]
        psam=psam,  # type: ignore[arg-type]
        host=LoadHost(IssuerKeyStore(keys)),
        keys=IssuerKeyStore(keys),
        loss=loss,  # type: ignore[arg-type]
        allow_block=allow_block,
        moment=MOMENT,
    )


def test_hil_suite_green_through_pcscd_and_vpcd(
    pcscd: object, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    trace_path, report = tmp_path / "trace.txt", tmp_path / "hil.xml"
    with ApduTrace.open(trace_path) as trace, ExitStack() as stack:
        card = open_source(CardSource("vpcd", slot=0), lambda: sim_card(issuer_keys), stack, trace, "card")
        psam = open_source(CardSource("vpcd", slot=1), lambda: sim_psam(issuer_keys), stack, trace, "psam")
        assert isinstance(card.channel, PcscChannel) and isinstance(psam.channel, PcscChannel)
        results = run_suite(_target(issuer_keys, card.channel, psam.channel, card.loss), trace)
        assert card.server is not None and card.server.tears_done == 2  # DEBIT and CREDIT answers lost
        chip = card.chip
        assert isinstance(chip, CardOS) and chip.state.blocked
    assert [r.name for r in results] == list(CASE_NAMES)
    assert [r.outcome for r in results] == [Outcome.PASSED] * len(CASE_NAMES), results
    write_junit(report, results, "cardtwin-hil", {"card": "vpcd:0", "sam": "vpcd:1"})
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites" and root.get("tests") == str(len(CASE_NAMES))
    assert root.get("failures") == "0" and root.get("errors") == "0" and root.get("skipped") == "0"
    assert {c.get("name") for c in root.iter("testcase")} == set(CASE_NAMES)
    # Each case's own APDUs in its system-out: the load's CREDIT in the load case, not elsewhere.
    outs = {c.get("name"): c.findtext("system-out") or "" for c in root.iter("testcase")}
    assert "CREDIT FOR LOAD" in outs["load"] and "CREDIT FOR LOAD" not in outs["purchase"]
    text = trace_path.read_text()
    # The lost answers were lost for real: pcscd delivered nothing and the channel said so.
    assert text.count("DEBIT FOR PURCHASE: no answer (empty response)") == 1
    assert text.count("CREDIT FOR LOAD: no answer (empty response)") == 1
    assert "GET TRANSACTION PROOF" in text and "\tpsam\t>>\tINIT SAM FOR PURCHASE" in text


def test_hil_against_a_pcsc_reader_loses_answers_on_the_link(
    serve: Serve, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    # A card the suite did not serve itself (as a real card): the answer is lost on its way back.
    served = sim_card(issuer_keys)
    serve(served, 0)
    with ExitStack() as stack:
        card = open_source(
            CardSource("pcsc", reader="Virtual PCD 00 00"), lambda: sim_card(issuer_keys), stack
        )
        psam = open_source(CardSource("sim"), lambda: sim_psam(issuer_keys), stack)
        assert card.loss is None
        results = run_suite(_target(issuer_keys, card.channel, psam.channel, None, allow_block=False))
    outcomes = {r.name: r.outcome for r in results}
    assert outcomes.pop("blocked_card") is Outcome.SKIPPED
    assert set(outcomes.values()) == {Outcome.PASSED}, results
    assert not served.state.blocked
    # Loads 2 x 10.00; purchases: 1.50, metro 4.00, 1.50 (recovered): exactly once each.
    assert served.state.ep_balance_fen == 2_000 - 150 - 400 - 150


def test_hil_in_process(issuer_keys: IssuerKeys) -> None:
    with ExitStack() as stack:
        card = open_source(CardSource("sim"), lambda: sim_card(issuer_keys), stack)
        psam = open_source(CardSource("sim"), lambda: sim_psam(issuer_keys), stack)
        results = run_suite(_target(issuer_keys, card.channel, psam.channel, card.loss))
    assert {r.outcome for r in results} == {Outcome.PASSED}, results


def test_hil_fails_a_card_of_another_issuer(serve: Serve, issuer_keys: IssuerKeys, tmp_path: Path) -> None:
    stranger_keys = generate_issuer_keys(seed=99, issuer_id=bytes.fromhex("3301000000000001"))
    stranger = CardOS(
        CardFactory(stranger_keys).personalise(CardProfile(asn=bytes.fromhex("3301000000000099")))
    )
    stranger.state.ep_balance_fen = 1_000
    serve(stranger, 0)
    with ExitStack() as stack:
        card = open_source(CardSource("pcsc", reader="PCD 00 00"), lambda: sim_card(issuer_keys), stack)
        psam = open_source(CardSource("sim"), lambda: sim_psam(issuer_keys), stack)
        results = run_suite(_target(issuer_keys, card.channel, psam.channel, None), only=("load", "purchase"))
    outcomes = {r.name: r for r in results}
    assert outcomes["select"].outcome is Outcome.PASSED
    assert outcomes["load"].outcome is Outcome.FAILED and "MAC1 does not verify" in outcomes["load"].message
    assert outcomes["purchase"].outcome is Outcome.FAILED and "9302" in outcomes["purchase"].message
    report = tmp_path / "r.xml"
    write_junit(report, results, "cardtwin-hil", {})
    root = ET.parse(report).getroot()
    assert root.get("failures") == "2"
    assert next(f.get("message") or "" for f in root.iter("failure")).startswith("LoadDeclinedError")
    assert stranger.state.ep_balance_fen == 1_000


def test_hil_unknown_case(issuer_keys: IssuerKeys) -> None:
    with pytest.raises(CardTwinError, match="unknown case"):
        run_suite(_target(issuer_keys, None, None, None), only=("teleport",))


def test_cli_hil_through_pcscd_and_vpcd(pcscd: object, tmp_path: Path) -> None:
    report, trace = tmp_path / "hil.xml", tmp_path / "hil-trace.txt"
    run = subprocess.run(
        [
            *CLI,
            "hil",
            "--card",
            "vpcd",
            "--sam",
            "vpcd",
            "--allow-block",
            "--junit",
            str(report),
            "--trace",
            str(trace),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=ENV,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "hil: 207 cases: 207 passed, 0 failed, 0 skipped" in run.stdout
    root = ET.parse(report).getroot()
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["card"] == "vpcd" and props["sam"] == "vpcd"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert {n: s.get("tests") for n, s in suites.items()} == {
        "cardtwin-hil.conformance": "197",
        "cardtwin-hil.hil": "10",
    }
    for case in root.iter("testcase"):
        out = case.findtext("system-out") or ""
        assert out.startswith("clause: ") and "(none given)" not in out.splitlines()[0], case.get("name")
        assert ">>" in out, f"{case.get('name')}: no APDU in its trace"
    text = trace.read_text()
    assert "\tcard\t>>\tDEBIT FOR PURCHASE" in text and "00A40000021001" in text


def test_cli_hil_reports_failures_with_exit_1(serve: Serve, tmp_path: Path) -> None:
    stranger_keys = generate_issuer_keys(seed=99, issuer_id=bytes.fromhex("3301000000000001"))
    # The widest MAC-failure limit: the suite's conformance cases would otherwise block the
    # stranger card before the HIL cases meet its keys.
    stranger = CardOS(
        CardFactory(stranger_keys).personalise(CardProfile(asn=bytes(7) + b"\x09")),
        mac_errors_max=MAC_ERRORS_LIMIT,
    )
    serve(stranger, 0)
    report = tmp_path / "hil.xml"
    run = subprocess.run(
        [
            *CLI,
            "hil",
            "--card",
            "pcsc:Virtual PCD 00 00",
            "--sam",
            "sim",
            "--junit",
            str(report),
            "--trace",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=ENV,
    )
    assert run.returncode == 1
    assert "FAILED   load" in run.stdout and ET.parse(report).getroot().get("failures") != "0"
    bad = subprocess.run(
        [*CLI, "hil", "--card", "vpcd:0", "--sam", "vpcd:0", "--junit", str(tmp_path / "bad.xml")],
        capture_output=True,
        text=True,
        check=False,
        env=ENV,
    )
    assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [
        "cardtwin: error: card and PSAM both on vpcd slot 0: give the PSAM another"
    ]


def _key_file(keys: IssuerKeys, path: Path) -> Path:
    names = {0: "3des", 4: "sm4"}
    lines = [f'issuer_id = "{keys.issuer_id.hex()}"']
    for (usage, algorithm, index), key in keys.masters.items():
        lines += [
            "[[master]]",
            f'usage = "{usage.value}"',
            f'algorithm = "{names[int(algorithm)]}"',
            f"index = {index}",
            f'key = "{key.hex()}"',
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_hil_with_a_key_file(serve: Serve, tmp_path: Path) -> None:
    # A "real" card personalised by another issuer: only its key file makes the suite pass.
    keys = generate_issuer_keys(seed=42, issuer_id=bytes.fromhex("4401000000000007"))
    serve(CardOS(CardFactory(keys).personalise(CardProfile(asn=bytes.fromhex("4401000000001234")))), 0)
    key_file = _key_file(keys, tmp_path / "issuer-keys.toml")
    args = ["hil", "--card", "pcsc:PCD 00 00", "--sam", "sim", "--junit", str(tmp_path / "r.xml")]
    run = subprocess.run(
        [*CLI, *args, "--trace", str(tmp_path / "t.txt"), "--keys", str(key_file)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=ENV,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "hil: 207 cases: 206 passed, 0 failed, 1 skipped" in run.stdout  # blocked_card
    key_file.write_text('issuer_id = "12"\n')
    bad = subprocess.run(
        [*CLI, *args, "--keys", str(key_file)], capture_output=True, text=True, check=False, env=ENV
    )
    assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [
        f"cardtwin: error: {key_file}: 'issuer_id' has 1 bytes, expected 8"
    ]
