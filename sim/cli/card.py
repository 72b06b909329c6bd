"""`cardtwin card list|info|serve|trace` and `cardtwin hil`: cards in readers, for QA.

Sources are `sim`, `vpcd[:N]` or `pcsc:READER-NAME` (see `sim.cards.sources`).
"""

from __future__ import annotations

import math
import time
from contextlib import ExitStack, suppress
from pathlib import Path

import click

from devices.bankcard_os import BankCardOS
from devices.bankcard_state import personalise
from devices.card_os import CardOS, PowerLost
from hardware_bridge.bankcard_serve import bank_card_server
from hardware_bridge.hil import CASE_NAMES, Outcome
from hardware_bridge.junit import write_error_report, write_junit
from hardware_bridge.pcsc_channel import list_readers
from hardware_bridge.script import load_script
from hardware_bridge.trace import ApduTrace
from hardware_bridge.vpcd import VPCD_SLOTS, ServedChip, VpcdServer
from model.bankcard import IssuerMasterKeys, KernelError
from model.bankcard.info import BankCardInfo, read_bank_card
from model.card import CardChannel, commands, describe_sw, parse_response, read_card
from model.errors import ApduFormatError, ApplicationNotFoundError, CardStatusError, CardTwinError
from model.money import format_fen, parse_yuan
from model.security import IssuerKeys
from sim.cards import (
    CardSourceError,
    HilPlan,
    describe_image,
    issuer_keys,
    open_source,
    parse_source,
    read_image,
    run_hil,
    sim_card,
    sim_psam,
    vpcd_reader,
    write_image,
)

SERVE_SECONDS_MAX = 7 * 24 * 3600
SERVED_BANK_PAN = "6222020000000000018"  # `card serve --bank`: a TEST card of the test keys
REINSERTS_MAX = 100  # a reader that drops the card this often is broken, not unlucky
TRACE_APDUS_MAX = 256

_source_help = "sim | vpcd[:N] | pcsc:READER-NAME"
_keys_option = click.option(
    "--keys",
    "key_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Issuer key file (TOML); default: the reproducible TEST keys.",
)


@click.group()
def card() -> None:
    """PC/SC readers and cards: list them, read a card, serve a simulated one, trace APDUs."""


@card.command("list")
def card_list() -> None:
    """List the readers pcscd knows and the card in each."""
    readers = list_readers()
    if not readers:
        click.echo("no reader")
    for reader in readers:
        what = f"card, ATR {reader.atr.hex().upper()}" if reader.card_present else "no card"
        click.echo(f"{reader.name}\t{what}")


@card.command("info")
@click.option("--card", "card_source", default="pcsc:Virtual PCD 00 00", show_default=True, help=_source_help)
@_keys_option
def card_info(card_source: str, key_file: Path | None) -> None:
    """Print the card's identity, balance and log (an e-purse), or a PBOC bank card's public
    data and electronic cash (no transaction is started: its ATC does not move)."""
    source = parse_source(card_source)
    keys = issuer_keys(key_file)
    with ExitStack() as stack:
        opened = open_source(source, lambda: sim_card(keys), stack, reuse_served=True)
        try:
            info = read_card(opened.channel)
        except ApplicationNotFoundError as no_epurse:  # no e-purse: perhaps a bank card
            try:
                bank = read_bank_card(opened.channel)
            except (CardStatusError, KernelError):
                raise no_epurse from None  # neither: the e-purse's error says what is missing
            for line in _bank_lines(bank, source):
                click.echo(line)
            return
    public = info.public
    click.echo(f"card {public.asn.hex().upper()} issuer {public.issuer_id.hex().upper()} ({source})")
    click.echo(f"valid {public.start} to {public.expiry}, type {public.card_type.name.lower()}")
    click.echo(f"balance: {format_fen(info.balance_fen)} CNY")
    for entry in info.log:
        click.echo(
            f"  #{entry.counter:<3} type {entry.tx_type:02X} {format_fen(entry.amount_fen):>8}  "
            f"terminal {entry.terminal_id.hex().upper()}  {entry.moment:%Y-%m-%d %H:%M:%S}"
        )


def _bank_lines(info: BankCardInfo, source: object) -> list[str]:
    def fen(value: int | None) -> str:
        return "not answered" if value is None else f"{format_fen(value)} CNY"

    year, month, day = info.expiry
    return [
        f"PBOC {info.kind} card {info.pan_masked} (PAN sequence {info.pan_sequence:02d}, AID "
        f"{info.aid.hex().upper()}) ({source})",
        f"expires {year:04d}-{month:02d}-{day:02d}, currency {info.currency or 0:04X}, "
        f"ATC {info.atc}, PIN tries left {info.pin_tries_left}",
        f"EC balance: {fen(info.ec_balance_fen)}",
        f"EC limits: balance {fen(info.ec_balance_limit_fen)}, single {fen(info.ec_single_limit_fen)}, "
        f"reset threshold {fen(info.ec_reset_threshold_fen)}",
    ]


@card.command("serve")
@click.option(
    "--slot", default=0, show_default=True, type=click.IntRange(0, VPCD_SLOTS - 1), help="vpcd slot."
)
@click.option("--psam", "serve_psam", is_flag=True, help="Serve a simulated PSAM instead of a card.")
@click.option("--bank", "serve_bank", is_flag=True, help="Serve a simulated PBOC bank card (test keys).")
@click.option(
    "--balance",
    "balance_yuan",
    default=None,
    help="Starting EP balance (EC balance with --bank) in yuan, 0 up to the card's maximum (default 0.00).",
)
@click.option(
    "--seconds",
    default=0.0,
    type=click.FloatRange(0, SERVE_SECONDS_MAX),
    callback=lambda _ctx, _param, value: _finite(value, "--seconds"),
    help="Stop after this long (default 0: until Ctrl-C).",
)
@click.option(
    "--image",
    "image_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Card image: serve the card it holds (if the file exists) and write the card back to it at the end.",
)
@_keys_option
def card_serve(
    slot: int,
    serve_psam: bool,
    serve_bank: bool,
    balance_yuan: str | None,
    seconds: float,
    image_path: Path | None,
    key_file: Path | None,
) -> None:
    """Serve a simulated card (or PSAM) on vpcd so pcscd presents it in a reader.

    The card answers every byte string with a status word and keeps serving: a chip failure
    answers 6F00, and a connection vpcd drops is made again (at most REINSERTS_MAX times)."""
    if serve_bank:
        if serve_psam or image_path is not None or key_file is not None:
            raise CardSourceError("--bank: a bank card takes neither --psam, --image nor --keys")
        _serve_bank(slot, balance_yuan or "0.00", seconds)
        return
    keys = issuer_keys(key_file)
    chip: ServedChip
    card_os: CardOS | None = None
    if serve_psam:
        if image_path is not None or balance_yuan is not None:
            raise CardSourceError("--psam: a PSAM takes neither --image nor --balance")
        chip, what = sim_psam(keys), "PSAM"
    else:
        card_os = _served_card(keys, image_path, balance_yuan)
        chip, what = card_os, f"card {card_os.state.asn.hex().upper()}"
    with VpcdServer(chip, slot, power_lost=(PowerLost,)) as server:
        click.echo(f"serving {what} in reader {vpcd_reader(slot)!r} (vpcd port {server.port}); Ctrl-C stops")
        with suppress(KeyboardInterrupt):
            _serve_until(server, seconds)
        click.echo(f"served {server.commands_served} commands")
    if card_os is not None and image_path is not None:
        write_image(image_path, card_os.state)
        click.echo(f"card image written to {image_path}")


def _serve_bank(slot: int, balance_yuan: str, seconds: float) -> None:
    state = personalise(IssuerMasterKeys.generate(1, "ICBC"), SERVED_BANK_PAN, 1, "123456")
    state.ec_balance_fen = _serve_balance(balance_yuan, state.ec_balance_limit_fen)
    with bank_card_server(BankCardOS(state), slot, (PowerLost,)) as server:
        click.echo(f"serving PBOC card {state.pan} in reader {vpcd_reader(slot)!r}; Ctrl-C stops")
        with suppress(KeyboardInterrupt):
            _serve_until(server, seconds)
        click.echo(f"served {server.commands_served} commands")


def _served_card(keys: IssuerKeys, image_path: Path | None, balance_yuan: str | None) -> CardOS:
    if image_path is not None and image_path.exists():
        if balance_yuan is not None:
            raise CardSourceError(f"--balance with --image {image_path}: the image holds the balance")
        return CardOS(read_image(image_path))
    card_os = sim_card(keys)
    card_os.state.ep_balance_fen = _serve_balance(balance_yuan or "0.00", card_os.state.max_balance_fen)
    return card_os


@card.command("dump")
@click.argument("image_path", metavar="IMAGE", type=click.Path(dir_okay=False, path_type=Path))
def card_dump(image_path: Path) -> None:
    """Print the card image IMAGE (from `card serve --image`) in words: identity, purses, counters, log."""
    for line in describe_image(read_image(image_path)):
        click.echo(line)


@card.command("restore")
@click.argument("image_path", metavar="IMAGE", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--slot", default=0, show_default=True, type=click.IntRange(0, VPCD_SLOTS - 1), help="vpcd slot."
)
@click.option(
    "--seconds",
    default=0.0,
    type=click.FloatRange(0, SERVE_SECONDS_MAX),
    callback=lambda _ctx, _param, value: _finite(value, "--seconds"),
    help="Stop after this long (default 0: until Ctrl-C).",
)
@click.pass_context
def card_restore(ctx: click.Context, image_path: Path, slot: int, seconds: float) -> None:
    """Serve the card of IMAGE again (as `card serve --image IMAGE`), to reproduce a failure."""
    ctx.invoke(
        card_serve,
        slot=slot,
        serve_psam=False,
        balance_yuan=None,
        seconds=seconds,
        image_path=image_path,
        key_file=None,
    )


def _finite(value: float, flag: str) -> float:
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of seconds", param_hint=f"'{flag}'")
    return value


def _serve_balance(text: str, max_balance_fen: int) -> int:
    balance_fen = parse_yuan(text, "--balance")
    if not 0 <= balance_fen <= max_balance_fen:
        raise CardSourceError(
            f"--balance {text}: outside 0.00..{format_fen(max_balance_fen)} (the card's maximum balance)"
        )
    return balance_fen


def _serve_until(server: VpcdServer, seconds: float) -> None:
    """Keep the card in the reader until `seconds` pass (0: for ever); put it back if dropped."""
    deadline = time.monotonic() + seconds if seconds else None
    reinserts = 0
    failures_seen = 0
    while deadline is None or time.monotonic() < deadline:
        time.sleep(0.2)
        if server.chip_failures > failures_seen:
            failures_seen = server.chip_failures
            click.echo(f"answered 6F00: {server.chip_failure}", err=True)
        if server.inserted:
            continue
        if reinserts >= REINSERTS_MAX:
            raise CardSourceError(f"card dropped {reinserts} times, last: {server.failure}; giving up")
        reinserts += 1
        click.echo(f"card dropped ({server.failure or 'connection closed'}); inserting it again", err=True)
        server.insert()


@card.command("trace")
@click.option("--card", "card_source", default="pcsc:Virtual PCD 00 00", show_default=True, help=_source_help)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=Path("apdu-trace.txt"),
    show_default=True,
    help="File the APDU trace is written to.",
)
@_keys_option
@click.argument("apdus", nargs=-1)
def card_trace(card_source: str, out: Path, key_file: Path | None, apdus: tuple[str, ...]) -> None:
    """Send APDUS (hex, one per argument; default SELECT e-purse and GET BALANCE) and write their
    trace to --out."""
    if len(apdus) > TRACE_APDUS_MAX:
        raise CardSourceError(f"{len(apdus)} APDUs: at most {TRACE_APDUS_MAX} at once")
    raw: list[bytes] = []
    for number, text in enumerate(apdus, start=1):
        try:
            raw.append(bytes.fromhex(text))
        except ValueError:
            raise ApduFormatError(f"APDU #{number} {text!r}: not hex") from None
    if not raw:
        raw = [commands.select(), commands.get_balance()]
    keys = issuer_keys(key_file)
    with ApduTrace.open(out) as trace, ExitStack() as stack:
        opened = open_source(
            parse_source(card_source), lambda: sim_card(keys), stack, trace, reuse_served=True
        )
        channel: CardChannel = opened.channel
        for command in raw:
            data, sw = parse_response(channel.transmit(command))
            click.echo(f"{command.hex().upper()} -> {data.hex().upper()} {sw:04X} ({describe_sw(sw)})")
    click.echo(f"trace: {out}")


@click.command()
@click.option("--card", "card_source", default="sim", show_default=True, help=_source_help)
@click.option("--sam", "sam_source", default="sim", show_default=True, help=_source_help + " (PSAM)")
@_keys_option
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
    type=click.Choice(["all", "conformance", "hil"]),
    default="all",
    show_default=True,
    help="conformance: raw APDUs against the spec; hil: the terminal code against the card.",
)
@click.option(
    "--case", "cases", multiple=True, type=click.Choice(CASE_NAMES), help="Run only these HIL cases."
)
@click.option(
    "--script",
    "script_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Run this hand-written APDU script instead of the suites (format: hardware_bridge/script.py).",
)
@click.option("--pin", "pin_hex", default="123456", show_default=True, help="The card's ED PIN, in hex.")
@click.option("--load", "load_yuan", default="10.00", show_default=True, help="Amount of each load, in yuan.")
@click.option(
    "--fare", "fare_yuan", default="1.50", show_default=True, help="Fare of each purchase, in yuan."
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
    script_path: Path | None,
    pin_hex: str,
    load_yuan: str,
    fare_yuan: str,
) -> None:
    """Run the conformance and HIL suites against a card and a PSAM; write JUnit XML and a trace.

    Exit status: 0 all passed, 1 a case failed or errored, or the run could not start (the
    JUnit report then holds one error case saying why)."""
    properties = {"card": card_source, "sam": sam_source, "keys": str(key_file or "TEST keys")}
    try:
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
