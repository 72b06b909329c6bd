"""Every command that takes a scenario takes a name or a path and lists the names (`--list`);
`cardtwin --help` lists the commands without importing their stacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.cli.scenario_arg import resolve, shipped

REPO = Path(__file__).resolve().parents[3]
DAYS = ["hangzhou-2009-weekday"]
ROLLOUTS = ["hangzhou-2004-2009", "huaibei-2011-2014", "one-card-plan-2005-2010"]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["compare", "--list"], ROLLOUTS),
        (["plan", "--list"], sorted(DAYS + ROLLOUTS)),
        (["sweep", "--list"], ROLLOUTS),
        (["sweep", "--list", "--kind", "day"], DAYS),
        (["bench", "sweep", "--list"], DAYS),
        (["bench", "sweep", "--list", "--kind", "rollout"], ROLLOUTS),
        (["run", "--list"], DAYS),
        (["region", "--list"], ["hangzhou-shaoxing-weekday"]),
    ],
)
def test_list_prints_the_names_a_command_takes(args: list[str], names: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    rows = [line.split(None, 1) for line in result.output.splitlines()]
    assert [name for name, _ in rows] == names
    assert all((REPO / path.strip()).is_file() for _, path in rows)


def test_a_shipped_name_and_its_path_are_the_same_scenario() -> None:
    names = shipped()
    assert sorted(names) == sorted(DAYS + ROLLOUTS)
    for name, path in names.items():
        assert resolve(name) == path
        assert resolve(str(path)) == Path(str(path))


_NO_ROLLOUT = "no such file, and no shipped rollout scenario"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "nope", "hangzhou-2004-2009"], f"A 'nope': {_NO_ROLLOUT}"),
        (["sweep", "nope"], f"scenario 'nope': {_NO_ROLLOUT}"),
        (["bench", "sweep", "nope", "--kind", "rollout"], f"scenario 'nope': {_NO_ROLLOUT}"),
        (["region", "nope"], "nope: no such file, and no shipped region scenario"),
    ],
)
def test_an_unknown_name_is_one_line_naming_the_known_ones(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"cardtwin: error: {message}")
    known = ["hangzhou-shaoxing-weekday"] if args[0] == "region" else ROLLOUTS
    assert lines[0].endswith(f"of that name ({', '.join(known)})")


# The stacks a command imports when it runs; listing commands must not.
_HEAVY = ["numpy", "pandas", "scipy", "matplotlib", "dask", "sim.day", "sim.rollout", "sim.sweep"]
_PROBE = """
import json, sys
import click
from sim.cli import main
if sys.argv[1] == "loaded":
    for name in main.list_commands(click.Context(main)):
        main.get_command(click.Context(main), name)
try:
    main(["--help"], prog_name="cardtwin")
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)))
"""


def _help(how: str) -> tuple[str, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"}
    code = _PROBE.replace("{heavy}", repr(_HEAVY))
    done = subprocess.run(
        [sys.executable, "-c", code, how], capture_output=True, text=True, timeout=120, check=True, env=env
    )
    *text, heavy = done.stdout.splitlines()
    return "\n".join(text), json.loads(heavy)


def test_group_help_imports_no_command_stack_and_reads_as_when_all_are_loaded() -> None:
    lazy, lazy_heavy = _help("lazy")
    loaded, loaded_heavy = _help("loaded")
    assert lazy_heavy == []
    assert {"numpy", "sim.day", "sim.rollout"} <= set(loaded_heavy)  # the probe can see them
    assert lazy == loaded
    assert "  compare    Run rollout scenarios A and B (files or shipped names) and" in lazy
