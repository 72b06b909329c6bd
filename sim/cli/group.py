"""The `cardtwin` click group.

Every error a user can cause is a `CardTwinError`; the CLI prints it on one line, without a
traceback, and exits with status 1.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from model.errors import CardTwinError

# Each command's module, imported only when the command runs (or help lists it): importing
# every command up front pulled in the rollout, sweep and plotting stacks, ~2 CPU-s, for every
# `cardtwin clearing` the verify campaign's SIGKILL fault starts.
COMMAND_MODULES: dict[str, str] = {
    "bench": "sim.cli.bench:bench",
    "card": "sim.cli.card:card",
    "clearing": "sim.cli.clearing:clearing",
    "compare": "sim.cli.rollout:compare",
    "dashboard": "sim.cli.dashboard:dashboard",
    "demo": "sim.cli.demo:demo",
    "hil": "sim.cli.hil:hil",
    "keys": "sim.cli.keys:keys",
    "plan": "sim.cli.plan:plan",
    "region": "sim.cli.region:region",
    "rollout": "sim.cli.rollout:rollout",
    "run": "sim.cli.run:run",
    "sweep": "sim.cli.sweep:sweep",
    "verify": "sim.cli.verify:verify",
}


class CardTwinGroup(click.Group):
    """A click group that turns project errors into one-line messages, and loads each command's
    module when that command is asked for (`COMMAND_MODULES`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            module, attr = COMMAND_MODULES[cmd_name].split(":")
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command) and command.name == cmd_name, cmd_name
            self.add_command(command)
        return super().get_command(ctx, cmd_name)

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
