"""`cardtwin card list|info|trace`: the readers pcscd knows and the card in each, for QA; the
group also holds `card serve` (sim.cli.card_serve) and `card dump|restore` (sim.cli.card_image).

Sources are `sim`, `vpcd[:N]` or `pcsc:READER-NAME` (see `sim.cards.sources`).
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from hardware_bridge.pcsc_channel import list_readers
from hardware_bridge.trace import ApduTrace
from model.bankcard import KernelError
from model.bankcard.info import BankCardInfo, read_bank_card
from model.card import CardChannel, commands, describe_sw, parse_response, read_card
from model.errors import ApduFormatError, ApplicationNotFoundError, CardStatusError
from model.money import format_fen
from sim.cards import CardSourceError, issuer_keys, open_source, parse_source, sim_card
from sim.cli.card_image import card_dump, card_restore
from sim.cli.card_serve import card_serve
from sim.cli.options import card_option, keys_option

TRACE_APDUS_MAX = 256


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
@card_option("pcsc:Virtual PCD 00 00")
@keys_option()
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


@card.command("trace")
@card_option("pcsc:Virtual PCD 00 00")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=Path("apdu-trace.txt"),
    show_default=True,
    help="File the APDU trace is written to.",
)
@keys_option()
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


for _command in (card_serve, card_dump, card_restore):
    card.add_command(_command)
