"""`cardtwin card serve`: a simulated card, PSAM or PBOC bank card on vpcd, so pcscd presents it
in a reader until Ctrl-C or `--seconds`; dropped connections are made again.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import click

from devices.bankcard_os import BankCardOS
from devices.bankcard_state import personalise
from devices.card_os import CardOS, PowerLost
from hardware_bridge.bankcard_serve import bank_card_server
from hardware_bridge.vpcd import ServedChip, VpcdServer
from model.bankcard import IssuerMasterKeys
from model.money import format_fen, parse_yuan
from model.security import IssuerKeys
from sim.cards import CardSourceError, issuer_keys, read_image, sim_card, sim_psam, vpcd_reader, write_image
from sim.cli.options import keys_option, seconds_option, slot_option

SERVED_BANK_PAN = "6222020000000000018"  # `card serve --bank`: a TEST card of the test keys
REINSERTS_MAX = 100  # a reader that drops the card this often is broken, not unlucky


@click.command("serve")
@slot_option()
@click.option("--psam", "serve_psam", is_flag=True, help="Serve a simulated PSAM instead of a card.")
@click.option("--bank", "serve_bank", is_flag=True, help="Serve a simulated PBOC bank card (test keys).")
@click.option(
    "--balance",
    "balance_yuan",
    default=None,
    help="Starting EP balance (EC balance with --bank) in yuan, 0 up to the card's maximum (default 0.00).",
)
@seconds_option()
@click.option(
    "--image",
    "image_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Card image: serve the card it holds (if the file exists) and write the card back to it at the end.",
)
@keys_option()
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
    with VpcdServer(chip, slot, power_lost=(PowerLost,)) as server, _stop_signals():
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
    with bank_card_server(BankCardOS(state), slot, (PowerLost,)) as server, _stop_signals():
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


def _serve_balance(text: str, max_balance_fen: int) -> int:
    balance_fen = parse_yuan(text, "--balance")
    if not 0 <= balance_fen <= max_balance_fen:
        raise CardSourceError(
            f"--balance {text}: outside 0.00..{format_fen(max_balance_fen)} (the card's maximum balance)"
        )
    return balance_fen


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def _stop_signals() -> Iterator[None]:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt while the card is served.

    A shell starts a background job with SIGINT ignored, and Python then never raises
    KeyboardInterrupt: `card serve &` could not be stopped by Ctrl-C's signal, and the card was
    never written back. SIGTERM (a service manager's stop) ends it the same way."""
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
