"""`cardtwin card dump|restore IMAGE`: a card image (written by `card serve --image`) in words,
and served again to reproduce a failure.
"""

from __future__ import annotations

from pathlib import Path

import click

from sim.cards import describe_image, read_image
from sim.cli.card_serve import card_serve
from sim.cli.options import seconds_option, slot_option


@click.command("dump")
@click.argument("image_path", metavar="IMAGE", type=click.Path(dir_okay=False, path_type=Path))
def card_dump(image_path: Path) -> None:
    """Print the card image IMAGE (from `card serve --image`) in words: identity, purses, counters, log."""
    for line in describe_image(read_image(image_path)):
        click.echo(line)


@click.command("restore")
@click.argument("image_path", metavar="IMAGE", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@slot_option()
@seconds_option()
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
