"""The SCENARIO argument of every command that takes one (run, plan, sweep, bench sweep,
rollout, compare): one rule, declared here once, and the `--list` of the names it takes.

A path that exists wins; otherwise the name of a shipped scenario: a day scenario by its
`[run] name` (`hangzhou-2009-weekday`), a rollout scenario by its file stem
(`hangzhou-2004-2009`). Anything else is refused in one line naming the argument and the
shipped names a command of that kind takes.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import click

from scenarios.rollout_loader import shipped as shipped_rollouts
from scenarios.schema import DEFAULT_SCENARIO, Scenario, ScenarioError, load
from sim.cli.options import Decorator

Kind = Literal["day", "rollout"]
DAY_AND_ROLLOUT: tuple[Kind, ...] = ("day", "rollout")


def _default_day_path() -> Path:
    return Path(str(resources.files("scenarios").joinpath(DEFAULT_SCENARIO))).resolve()


def shipped_days() -> dict[str, Path]:
    """The day scenarios shipped with CardTwin, by their `[run] name`."""
    return {load(None).run.name: _default_day_path()}


def shipped(kinds: tuple[Kind, ...] = DAY_AND_ROLLOUT) -> dict[str, Path]:
    """The shipped scenarios of these kinds, by name."""
    found: dict[str, Path] = {}
    if "day" in kinds:
        found.update(shipped_days())
    if "rollout" in kinds:
        found.update(shipped_rollouts())
    return found


def kinds_of_sweep(kind: str) -> tuple[Kind, ...]:
    """The scenarios a sweep (or a bench sweep) of this `--kind` runs."""
    return ("day",) if kind == "day" else ("rollout",)


def echo_shipped(kinds: tuple[Kind, ...]) -> None:
    """`--list`: each shipped scenario of these kinds, its name and its file, one a line."""
    for name, path in sorted(shipped(kinds).items()):
        click.echo(f"{name}\t{path}")


def list_shipped_option(kinds: tuple[Kind, ...]) -> Decorator:
    """`--list` for a command whose other parameters are required: it lists and exits before
    click asks for them (an eager flag)."""

    def listed(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value and not ctx.resilient_parsing:
            echo_shipped(kinds)
            ctx.exit()

    return click.option(
        "--list",
        is_flag=True,
        is_eager=True,
        expose_value=False,
        callback=listed,
        help=f"List the shipped {' and '.join(kinds)} scenarios (names a scenario argument takes) and exit.",
    )


def resolve(text: str, kinds: tuple[Kind, ...] = DAY_AND_ROLLOUT, where: str = "scenario") -> Path:
    """The file SCENARIO names: the path itself when it exists, else a shipped scenario's."""
    if Path(text).exists():
        return Path(text)
    names = shipped(kinds)
    if text in names:
        return names[text]
    kind = " or ".join(kinds)
    raise ScenarioError(
        f"{where} {text!r}: no such file, and no shipped {kind} scenario of that name "
        f"({', '.join(sorted(names))})"
    )


def load_day(text: str | None, where: str = "scenario") -> Scenario:
    """A day scenario from SCENARIO (None: the shipped default)."""
    path = None if text is None else resolve(text, ("day",), where)
    # The shipped default loads as the package's own file, so it is shown as scenarios/default.toml.
    if path is None or path.resolve() == _default_day_path():
        return load(None)
    return load(path)
