"""The `cardtwin` click group.

Every error a user can cause is a `CardTwinError`; the CLI prints it on one line, without a
traceback, and exits with status 1.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from model.errors import CardTwinError


class CardTwinGroup(click.Group):
    """A click group that turns project errors into one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CardTwinError as exc:
            click.echo(f"cardtwin: error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=CardTwinGroup)
@click.version_option(package_name="cardtwin")
def main() -> None:
    """CardTwin: a digital twin of a city smart-card (e-purse) ecosystem.

    A SCENARIO argument is a file or the name of a shipped scenario (`cardtwin run --list`,
    `cardtwin rollout --list`).

    Exit status: 0 done, 1 an error the input caused (one line on stderr, naming what and
    where: `cardtwin: error: WHAT: WHY`), 2 a usage error (an unknown option or a value out of
    its range, reported by the option parser).
    """
