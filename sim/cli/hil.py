"""`cardtwin hil`: the conformance and HIL suites against a card and a PSAM (sim, vpcd or a
PC/SC reader), or the bank suite against a PBOC card (`sim.cards.bank_hil`), written as JUnit
XML and an APDU trace.
"""

from __future__ import annotations

from pathlib import Path

import click

from hardware_bridge.bank_cases import CASE_NAMES as BANK_CASE_NAMES
from hardware_bridge.hil import CASE_NAMES, CaseResult, Outcome
from hardware_bridge.junit import write_error_report, write_junit
from hardware_bridge.script import load_script
from model.errors import CardTwinError
from model.money import parse_yuan
from sim.cards import CardSourceError, HilPlan, issuer_keys, parse_source, run_hil
from sim.cards.bank_hil import BankPlan, run_bank_hil
from sim.cli.options import card_option, keys_option, sam_option


@click.command()
@card_option("sim")
@sam_option()
@keys_option()
@click.option(
    "--junit",
    "junit_path",
    type=click.Path(path_type=Path),
    default=Path("hil-report.xml"),
    show_default=True,
    help="JUnit XML report, written even when the run cannot start.",
)
@click.option(
    "--trace",
    "trace_path",
    type=click.Path(path_type=Path),
    default=Path("hil-trace.txt"),
    show_default=True,
    help="APDU trace of the whole run.",
)
@click.option("--allow-block", is_flag=True, help="Run the blocking cases: they block the card for good.")
@click.option(
    "--suite",
    type=click.Choice(["all", "conformance", "hil", "bank"]),
    default="all",
    show_default=True,
    help="conformance: raw APDUs against the spec; hil: the terminal code against the card;"
    " bank: the PBOC financial card's cases (bank terminals, acquirer, switch, issuer).",
)
@click.option(
    "--case",
    "cases",
    multiple=True,
    type=click.Choice(CASE_NAMES + BANK_CASE_NAMES),
    help="Run only these HIL cases (bank_* with --suite bank).",
)
@click.option(
    "--tap",
    "tap_source",
    default=None,
    help="--suite bank with a pcsc card: the reader of its contactless interface (pcsc:READER-NAME);"
    " a sim or vpcd card brings its own.",
)
@click.option(
    "--script",
    "script_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Run this hand-written APDU script instead of the suites (format: hardware_bridge/script.py).",
)
@click.option(
    "--pin",
    "pin_hex",
    default="123456",
    show_default=True,
    help="The card's ED PIN, in hex (--suite bank: the offline PIN's digits).",
)
@click.option(
    "--load", "load_yuan", default="10.00", show_default=True, help="Amount of each (EC) load, in yuan."
)
@click.option(
    "--fare",
    "fare_yuan",
    default="1.50",
    show_default=True,
    help="Fare of each (EC offline) purchase, in yuan.",
)
def hil(
    card_source: str,
    sam_source: str,
    key_file: Path | None,
    junit_path: Path,
    trace_path: Path,
    allow_block: bool,
    suite: str,
    cases: tuple[str, ...],
    tap_source: str | None,
    script_path: Path | None,
    pin_hex: str,
    load_yuan: str,
    fare_yuan: str,
) -> None:
    """Run the conformance and HIL suites against a card and a PSAM (--suite bank: the PBOC
    financial card's cases, no PSAM); write JUnit XML and a trace.

    Exit status: 0 all passed, 1 a case failed or errored, or the run could not start (the
    JUnit report then holds one error case saying why)."""
    if suite == "bank":
        _bank(
            card_source,
            tap_source,
            key_file,
            junit_path,
            trace_path,
            cases,
            script_path,
            pin_hex,
            load_yuan,
            fare_yuan,
        )
        return
    properties = {"card": card_source, "sam": sam_source, "keys": str(key_file or "TEST keys")}
    try:
        if tap_source is not None:
            raise CardSourceError("--tap: only the bank suite has a contactless interface (--suite bank)")
        banking = sorted(set(cases) & set(BANK_CASE_NAMES))
        if banking:
            raise CardSourceError(f"--case {', '.join(banking)}: a bank card's case (--suite bank)")
        plan = HilPlan(
            card=parse_source(card_source, "--card", default_slot=0),
            sam=parse_source(sam_source, "--sam", default_slot=1),
            keys=issuer_keys(key_file),
            pin=_pin(pin_hex),
            load_fen=parse_yuan(load_yuan, "--load"),
            fare_fen=parse_yuan(fare_yuan, "--fare"),
            suite=suite,
            cases=cases,
            script=load_script(script_path) if script_path is not None else None,
            allow_block=allow_block,
        )
        results = run_hil(plan, trace_path)
    except CardTwinError as exc:
        write_error_report(junit_path, "cardtwin-hil", properties, exc)
        raise
    write_junit(junit_path, results, "cardtwin-hil", properties)
    _report(results, junit_path, trace_path)


def _report(results: list[CaseResult], junit_path: Path, trace_path: Path) -> None:
    for result in results:
        click.echo(f"{result.outcome.value.upper():<8} {result.name:<44} {result.message}")
    bad = [r for r in results if r.outcome in (Outcome.FAILED, Outcome.ERROR)]
    passed = sum(r.outcome is Outcome.PASSED for r in results)
    skipped = len(results) - passed - len(bad)
    click.echo(f"hil: {len(results)} cases: {passed} passed, {len(bad)} failed, {skipped} skipped")
    click.echo(f"report: {junit_path}  trace: {trace_path}")
    if bad:
        raise SystemExit(1)


def _pin(text: str) -> bytes:
    try:
        pin = bytes.fromhex(text)
    except ValueError:
        raise CardSourceError(f"--pin {text!r}: not hex (e.g. 123456)") from None
    if not 2 <= len(pin) <= 6:
        raise CardSourceError(f"--pin {text!r}: {len(pin)} bytes, a PIN has 2..6")
    return pin


def _bank(
    card_source: str,
    tap_source: str | None,
    key_file: Path | None,
    junit_path: Path,
    trace_path: Path,
    cases: tuple[str, ...],
    script_path: Path | None,
    pin: str,
    load_yuan: str,
    fare_yuan: str,
) -> None:
    """`--suite bank`: the financial-card cases against a PBOC card (no PSAM: the bank POS
    kernel needs none), on the TEST bank keys the simulated card is personalised from."""
    properties = {"card": card_source, "tap": tap_source or "(the card's own)", "keys": "TEST bank keys"}
    try:
        if key_file is not None or script_path is not None:
            raise CardSourceError("--suite bank: takes neither --keys (e-purse keys) nor --script")
        epurse = sorted(set(cases) - set(BANK_CASE_NAMES))
        if epurse:
            raise CardSourceError(f"--suite bank: --case {', '.join(epurse)} is an e-purse case")
        if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
            raise CardSourceError(f"--pin {pin!r}: a bank card's PIN is 4-12 digits")
        card = parse_source(card_source, "--card", default_slot=0)
        if tap_source is not None and card.kind != "pcsc":
            raise CardSourceError(
                f"--tap with --card {card}: a simulated card brings its contactless interface"
            )
        plan = BankPlan(
            card=card,
            tap=parse_source(tap_source, "--tap") if tap_source is not None else None,
            pin=pin,
            load_fen=parse_yuan(load_yuan, "--load"),
            purchase_fen=parse_yuan(fare_yuan, "--fare"),
            cases=cases,
        )
        results = run_bank_hil(plan, trace_path)
    except CardTwinError as exc:
        write_error_report(junit_path, "cardtwin-hil", properties, exc)
        raise
    write_junit(junit_path, results, "cardtwin-hil", properties)
    _report(results, junit_path, trace_path)
