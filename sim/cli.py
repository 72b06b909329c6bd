"""The `cardtwin` command line (click).

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
    """CardTwin: a digital twin of a city smart-card (e-purse) ecosystem."""


def _register() -> None:
    # Each command lives in its own module; importing them here keeps `main` the one entry.
    from sim.bench import bench
    from sim.card_cli import card, hil
    from sim.clearing_cli import clearing
    from sim.dashboard_cli import dashboard
    from sim.demo import demo
    from sim.plan_cli import plan
    from sim.rollout_cli import compare, rollout
    from sim.run_cli import run
    from sim.sweep_bench import bench_sweep
    from sim.sweep_cli import sweep
    from sim.verify_cli import verify

    main.add_command(demo)
    main.add_command(bench)
    main.add_command(clearing)
    main.add_command(card)
    main.add_command(hil)
    main.add_command(run)
    main.add_command(verify)
    main.add_command(rollout)
    main.add_command(compare)
    main.add_command(dashboard)
    main.add_command(plan)
    main.add_command(sweep)
    bench.add_command(bench_sweep)


_register()
