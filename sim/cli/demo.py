"""`cardtwin demo`: one citizen's morning, through the real card protocol."""

from __future__ import annotations

import click

from model.money import MoneyError, parse_yuan
from model.security import Algorithm
from sim.cli.options import algorithm_option, seed_option
from sim.scripted import run_morning


@click.command()
@seed_option("Seed of the card's random source.", default=1, show_default=True)
@algorithm_option("Card algorithm family.")
@click.option("--load", "load_yuan", default="50.00", show_default=True, help="Amount to load, in yuan.")
def demo(seed: int, algorithm: Algorithm, load_yuan: str) -> None:
    """Personalise a card, load it, ride a bus and the metro, print its balance and log."""
    load_fen = parse_yuan(load_yuan, "--load")
    if load_fen <= 0:
        raise MoneyError(f"--load {load_yuan}: a load is more than 0.00")
    for line in run_morning(seed, algorithm, load_fen):
        click.echo(line)
