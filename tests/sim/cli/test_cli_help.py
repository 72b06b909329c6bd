"""Every command documents itself: a docstring, help text for every option, every argument named
in its command's help, a scenario argument's names listed (`--list`), and the exit-code
convention in `cardtwin --help`."""

from __future__ import annotations

import click
from click.testing import CliRunner

from sim.cli import main


def _commands(command: click.Command, path: str) -> list[tuple[str, click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{path} {name}: listed but not found"
            found += _commands(sub, f"{path} {name}")
    return found


def test_every_command_is_listed_and_loads_by_its_own_name() -> None:
    listed = main.list_commands(click.Context(main))
    assert {"bench", "card", "clearing", "compare", "dashboard", "demo", "hil", "keys", "plan"} <= set(listed)
    assert {"region", "rollout", "run", "sweep", "verify"} <= set(listed)
    assert main.get_command(click.Context(main), "no-such-command") is None
    result = CliRunner().invoke(main, ["--help"])
    assert all(name in result.output for name in listed)


def test_every_command_option_and_argument_has_help() -> None:
    missing: list[str] = []
    for path, command in _commands(main, "cardtwin"):
        text = command.help or ""
        if not text.strip():
            missing.append(f"{path}: no docstring")
        for param in command.params:
            if isinstance(param, click.Option) and not (param.help or "").strip():
                missing.append(f"{path} {param.opts[0]}: no help")
            # click arguments carry no help of their own: the command's help must name them.
            if isinstance(param, click.Argument) and param.human_readable_name not in text:
                missing.append(f"{path} {param.human_readable_name}: not named in the help")
    assert missing == []


def test_every_command_taking_a_scenario_has_list_and_says_names_or_paths() -> None:
    takers = []
    for path, command in _commands(main, "cardtwin"):
        arguments = {p.name for p in command.params if isinstance(p, click.Argument)}
        if arguments & {"scenario", "a", "b"}:
            takers.append(path.removeprefix("cardtwin "))
            assert any("--list" in p.opts for p in command.params), path
            assert "shipped name" in " ".join((command.help or "").split()), path
    assert sorted(takers) == ["bench sweep", "compare", "plan", "region", "rollout", "run", "sweep"]


def test_the_group_help_states_the_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Exit status: 0 done, 1 an error the input caused (one line on stderr, naming what and" in (
        " ".join(result.output.split())
    )
