"""The options several commands share, each declared once with its bounds and its help.

A command takes a shared option as a decorator (`@seed_option()`); where its meaning differs
(a replay seed, a bench's fixed default), the command passes its own `help`, `default` or
`show_default`, never other bounds. Only click, vpcd's constants and the card algorithms are imported
here, so the lightest command (`card list`) pays nothing for the options of the heaviest (`sweep`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from hardware_bridge.vpcd import VPCD_SLOTS
from model.security import Algorithm

F = TypeVar("F", bound=Callable[..., Any])


class Decorator(Protocol):
    """What click.option returns: a command function in, the same function out (typed)."""

    def __call__(self, f: F, /) -> F: ...


SEED_MAX = 2**32 - 1  # numpy's seed sequence takes any non-negative int; keep names printable
SAMPLE_MIN = 1e-6  # below this a city of millions has no simulated citizen left
SHARDS_MAX = 64
WORKERS_MAX = 256  # a LocalCluster larger than this is a typo, not a machine
SERVE_SECONDS_MAX = 7 * 24 * 3600
SOURCE_HELP = "sim | vpcd[:N] | pcsc:READER-NAME"

WORKERS = click.IntRange(1, WORKERS_MAX)


def seed_option(help: str = "Override the scenario's seed (0 or more).", **kw: Any) -> Decorator:
    """`--seed`: 0..SEED_MAX (a usage error outside it); default None: the scenario's own."""
    kw.setdefault("default", None)
    return click.option("--seed", type=click.IntRange(0, SEED_MAX), help=help, **kw)


def sample_option(
    help: str = f"Override the share of cardholders simulated ({SAMPLE_MIN:g}..1).",
    checked_by_engine: bool = False,
    **kw: Any,
) -> Decorator:
    """`--sample`: the share of cardholders simulated, SAMPLE_MIN..1. `checked_by_engine`: a
    plain float, for commands whose engine checks the final value (a scenario's own sample or
    an override) with the scenario's bounds, in one line naming the flag."""
    kw.setdefault("default", None)
    kind = float if checked_by_engine else click.FloatRange(SAMPLE_MIN, 1.0)
    return click.option("--sample", type=kind, help=help, **kw)


def shards_option(
    help: str = f"Split the population over this many processes (1..{SHARDS_MAX}).", **kw: Any
) -> Decorator:
    """`--shards`: 1..SHARDS_MAX population shards (processes)."""
    kw.setdefault("default", None)
    return click.option("--shards", type=click.IntRange(1, SHARDS_MAX), help=help, **kw)


def out_dir_option(help: str = "Results folder.", **kw: Any) -> Decorator:
    """`--out FOLDER`: where a command writes its results (a folder, never a file)."""
    kw.setdefault("default", None)
    return click.option("--out", type=click.Path(file_okay=False, path_type=Path), help=help, **kw)


def json_option(help: str = "Print the summary as one JSON object instead of text.") -> Decorator:
    """`--json`: the machine-readable summary."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def list_option(help: str) -> Decorator:
    """`--list`: the shipped scenarios this command takes, by name, then exit."""
    return click.option("--list", "list_", is_flag=True, help=help)


def dask_option(help: str = '"local" or a scheduler tcp://HOST:PORT.', **kw: Any) -> Decorator:
    """`--dask`: where the runs go: "local" (a LocalCluster) or a scheduler address."""
    kw.setdefault("default", "local")
    kw.setdefault("show_default", kw["default"] is not None)
    return click.option("--dask", help=help, **kw)


def workers_option(default: int) -> Decorator:
    """`--workers`: the LocalCluster's size, 1..WORKERS_MAX (`default`: the engine's)."""
    return click.option(
        "--workers",
        type=WORKERS,
        default=default,
        show_default=True,
        help=f"LocalCluster size (1..{WORKERS_MAX}).",
    )


def keys_option() -> Decorator:
    """`--keys FILE`: an issuer key file (`cardtwin keys new`)."""
    return click.option(
        "--keys",
        "key_file",
        type=click.Path(path_type=Path),
        default=None,
        help="Issuer key file (TOML); default: the reproducible TEST keys.",
    )


def card_option(default: str) -> Decorator:
    """`--card SOURCE`: the card under test (`sim.cards.sources`)."""
    return click.option("--card", "card_source", default=default, show_default=True, help=SOURCE_HELP)


def sam_option() -> Decorator:
    """`--sam SOURCE`: the PSAM the terminal side uses."""
    return click.option("--sam", "sam_source", default="sim", show_default=True, help=SOURCE_HELP + " (PSAM)")


def slot_option() -> Decorator:
    """`--slot N`: the vpcd slot (reader `Virtual PCD 00 0N`), 0..VPCD_SLOTS - 1."""
    return click.option(
        "--slot", default=0, show_default=True, type=click.IntRange(0, VPCD_SLOTS - 1), help="vpcd slot."
    )


def seconds_option() -> Decorator:
    """`--seconds`: how long a served card stays, 0 (until Ctrl-C) to SERVE_SECONDS_MAX."""
    return click.option(
        "--seconds",
        default=0.0,
        type=click.FloatRange(0, SERVE_SECONDS_MAX),
        callback=lambda _ctx, _param, value: _finite(value, "--seconds"),
        help="Stop after this long (default 0: until Ctrl-C).",
    )


def _finite(value: float, flag: str) -> float:
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of seconds", param_hint=f"'{flag}'")
    return value


ALGORITHMS = {"3des": Algorithm.DES3, "sm4": Algorithm.SM4}


def algorithm_option(help: str) -> Decorator:
    """`--algorithm 3des|sm4`: the card's algorithm family, passed on as an `Algorithm`."""
    return click.option(
        "--algorithm",
        type=click.Choice(list(ALGORITHMS)),
        default="3des",
        show_default=True,
        callback=lambda _ctx, _param, value: ALGORITHMS[value],
        help=help,
    )
