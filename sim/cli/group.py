"""The `cardtwin` click group.

Every error a user can cause is a `CardTwinError`; the CLI prints it on one line, without a
traceback, and exits with status 1.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import click

from model.errors import CardTwinError

# Each command's module, imported only when the command runs (`--help` reads its docstring from
# the source instead, CardTwinGroup.format_commands): importing
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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own listing, over stand-ins for the commands not loaded yet: `cardtwin --help`
        # imported every command's stack (1.7 CPU-s: numpy, matplotlib, dask) to print one line each.
        shown = {
            name: self.commands.get(name) or self._described(ctx, name) for name in self.list_commands(ctx)
        }
        listed = {name: command for name, command in shown.items() if command is not None}
        click.Group.format_commands(click.Group(commands=listed), ctx, formatter)

    def _described(self, ctx: click.Context, name: str) -> click.Command | None:
        """A stand-in carrying the command's docstring, read from its module's source; the
        command itself when the source does not say (a help= of its own, no module file)."""
        if name in COMMAND_MODULES:
            module, attr = COMMAND_MODULES[name].split(":")
            spec = importlib.util.find_spec(module)
            if spec is not None and spec.origin is not None and spec.origin.endswith(".py"):
                tree = ast.parse(Path(spec.origin).read_text("utf-8"))
                for node in tree.body:
                    if isinstance(node, ast.FunctionDef) and node.name == attr and ast.get_docstring(node):
                        return click.Command(name, help=ast.get_docstring(node))
        return self.get_command(ctx, name)

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
