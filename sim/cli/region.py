"""`cardtwin region [SCENARIO]`: the two-city day, visiting cards cleared across houses.

SCENARIO is a region file or a shipped one's name (`cardtwin region --list`); the clearing
databases of both cities go to `--out`. `--faults` puts interchange faults into the nights
(late, lost or duplicated files, a house down), as `cardtwin verify` does. Exit status 1 when a
check of the money fails.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click

from scenarios.region_schema import DEFAULT_REGION, load_region, region_shipped
from sim.cli.options import json_option, list_option, out_dir_option
from sim.region import NIGHTS_DEFAULT, lines, run_region
from sim.region.night import NIGHTS_MAX, fault_plan

_FAULTS = ("late", "lost", "duplicated", "ack-lost")


@click.command("region")
@click.argument("scenario", required=False)
@list_option("List the shipped region scenarios.")
# Not the shared --seed: a region file's seed is 0..2**31 (scenarios.region_schema), and so is this.
@click.option("--seed", type=click.IntRange(0, 2**31), default=None, help="Override the scenario's seed.")
@click.option(
    "--nights",
    type=click.IntRange(1, NIGHTS_MAX),
    default=None,
    help=f"Nights of upload, interchange and settlement (default {NIGHTS_DEFAULT}, or two clean "
    "nights after the last fault).",
)
@click.option("--fault", "faults", multiple=True, type=click.Choice(_FAULTS), help="An interchange fault.")
@click.option("--house-down", default=None, help="A city whose clearing house is down the first night.")
@out_dir_option("Folder for both cities' clearing databases (default results/region-NAME-seedS).")
@json_option("The figures as one JSON object (fen).")
def region(
    scenario: str | None,
    list_: bool,
    seed: int | None,
    nights: int | None,
    faults: tuple[str, ...],
    house_down: str | None,
    out: Path | None,
    as_json: bool,
) -> None:
    """Run the two-city day of SCENARIO (a region file or a shipped name; default: the
    Hangzhou-Shaoxing weekday) and check every fen in both ledgers and the interchange."""
    if list_:
        for name, path in region_shipped().items():
            click.echo(f"{name}  {path}")
        return
    s = load_region(scenario or DEFAULT_REGION)
    if seed is not None:
        s = dataclasses.replace(s, seed=seed)
    names = [c.name for c in s.cities]
    if house_down is not None and house_down not in names:
        raise click.BadParameter(
            f"{house_down!r} is not a city of {s.name} ({', '.join(names)})", param_hint="--house-down"
        )
    folder = out or Path("results") / f"region-{s.name}-seed{s.seed}"
    if folder.exists() and any(folder.glob("clearing-*.sqlite")):
        raise click.BadParameter(
            f"{folder} already holds clearing databases: choose another", param_hint="--out"
        )
    chosen = set(faults)
    plan, needed = fault_plan(
        "lost" in chosen, "ack-lost" in chosen, "late" in chosen, "duplicated" in chosen, house_down
    )
    result = run_region(s, folder, plan, nights or max(needed, NIGHTS_DEFAULT))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": result.ok,
                    "interchange": result.interchange,
                    "checks": [[c.name, c.left_fen, c.right_fen] for c in result.checks],
                }
            )
        )
    else:
        for line in lines(result):
            click.echo(line)
        click.echo(f"clearing databases in {folder}")
    if not result.ok:
        sys.exit(1)
