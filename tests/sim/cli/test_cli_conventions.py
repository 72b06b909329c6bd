"""The CLI's conventions beyond absurd values: `clearing --list-held` only reads, the README's
review example works, sweeps refuse what cannot be a sweep, one seed prints no "± nan"."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.cli.sweep import cell
from sim.sweep import interval


def _row_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_list_held_only_reads_and_the_readme_release_example_works(tmp_path: Path) -> None:
    week, db = tmp_path / "demo-week", tmp_path / "week.db"
    made = CliRunner().invoke(main, ["clearing", str(week), "--db", str(db), "--simulate-week"])
    assert made.exit_code == 0, made.output
    before = _row_counts(db)
    listed = CliRunner().invoke(main, ["clearing", str(week), "--db", str(db), "--list-held"])
    assert listed.exit_code == 0, listed.output
    assert all(line.startswith("held ") for line in listed.output.splitlines())
    assert "held 64 hotlisted: " in listed.output
    assert _row_counts(db) == before  # no ingest, no settlement, no hotlist entry
    # The README's example: the simulated week's hotlisted hold, released after review.
    released = CliRunner().invoke(
        main,
        ["clearing", str(week), "--db", str(db), "--release", "64", "--note", "checked with the operator"],
    )
    assert released.exit_code == 0, released.output
    assert "released quarantine 64: checked with the operator" in released.output.splitlines()


def test_list_held_refuses_actions_and_a_missing_database(tmp_path: Path) -> None:
    db = tmp_path / "none.db"
    missing = CliRunner().invoke(main, ["clearing", str(tmp_path), "--db", str(db), "--list-held"])
    assert missing.exit_code == 1
    assert missing.output.strip() == (
        f"cardtwin: error: --db {db}: no such database (--list-held reads an existing one)"
    )
    both = CliRunner().invoke(
        main, ["clearing", str(tmp_path), "--db", str(db), "--list-held", "--release", "3", "--note", "x"]
    )
    assert both.exit_code == 1
    assert (
        both.output.strip()
        == "cardtwin: error: --list-held: only reads the quarantine; run --release on its own"
    )
    assert not db.exists()


REPO = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=ENV,
    )


def test_one_seed_prints_means_without_nan_and_says_it_is_replications(tmp_path: Path) -> None:
    run = _cli("sweep", "hangzhou-2009-weekday", "--kind", "day", "--seeds", "1", "--sample", "0.0002",
               "--workers", "1", "--out", str(tmp_path / "s"))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "nan" not in run.stdout
    row = run.stdout.splitlines()[1].split()
    # taps city-wide: 3.22e6 with the medical cashiers (2 sampled taps) and full-scale queues,
    # 3.29e6 with trip chains (the same draws in another order: other balances, other refusals)
    assert row[:3] == ["as", "is", "3.29e+06"] and row[3:5] == ["(1", "run)"]
    assert run.stderr.startswith(
        "sweep day " + str(REPO / "scenarios" / "default.toml")
        + ": no --param: replications of the scenario as it is x 1 seeds = 1 runs on local"
    )  # fmt: skip
    # Not a terminal: progress as log lines on stderr.
    assert run.stderr.strip().splitlines()[-1] == "sweep: 1 of 1 runs (100%)"


def test_interval_cells_are_words() -> None:
    assert cell(interval([2.0])) == "2 (1 run)"
    assert cell(interval([])) == "undefined"
    assert cell(interval([1.0, 3.0])) == "2 ± 13"


def _out_of_range(option: str, value: int, low: int, high: int) -> str:
    return f"Error: Invalid value for '{option}': {value} is not in the range {low}<=x<={high}."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "--workers", "0"], _out_of_range("--workers", 0, 1, 256)),
        (["bench", "sweep", "--workers", "0"], _out_of_range("--workers", 0, 1, 256)),
        (["rollout", "x", "--workers", "0"], _out_of_range("--workers", 0, 1, 256)),
        (["rollout", "x", "--replications", "-1"], _out_of_range("--replications", -1, 0, 1000)),
    ],
)
def test_usage_errors_exit_2_naming_the_option(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == message


_DAYS = "hangzhou-2009-weekday"
_ROLLOUTS = "hangzhou-2004-2009, huaibei-2011-2014, one-card-plan-2005-2010"
_BOTH = ", ".join(sorted([_DAYS, *_ROLLOUTS.split(", ")]))


def _unknown(where: str, text: str, kind: str, names: str) -> str:
    return f"{where} {text!r}: no such file, and no shipped {kind} scenario of that name ({names})"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "hangzhou-2004-2009"], _unknown("scenario", "hangzhou-2004-2009", "day", _DAYS)),
        (["sweep", "nope", "--kind", "day"], _unknown("scenario", "nope", "day", _DAYS)),
        (["sweep", _DAYS], _unknown("scenario", _DAYS, "rollout", _ROLLOUTS)),
        (["bench", "sweep", "nope"], _unknown("scenario", "nope", "day", _DAYS)),
        (["plan", "nope", "--recharge-points", "5"], _unknown("scenario", "nope", "day or rollout", _BOTH)),
        (["rollout", "nope"], _unknown("scenario", "nope", "rollout", _ROLLOUTS)),
        (["compare", "hangzhou-2004-2009", "nope"], _unknown("B", "nope", "rollout", _ROLLOUTS)),
    ],
)
def test_scenario_arguments_share_one_resolver_and_name_the_argument(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert result.output.strip() == f"cardtwin: error: {message}"


def test_plan_takes_a_day_scenario_by_name_and_by_path(tmp_path: Path) -> None:
    outputs = []
    for scenario in (_DAYS, str(REPO / "scenarios" / "default.toml")):
        result = CliRunner().invoke(
            main, ["plan", scenario, "--recharge-points", "50", "--out", str(tmp_path / scenario[-5:])]
        )
        assert result.exit_code == 0, result.output
        outputs.append(result.output.splitlines()[1:3])  # the two plans' rows, the same figures
    assert outputs[0] == outputs[1]


def test_zero_seeds_is_an_input_error_naming_the_flag() -> None:
    result = CliRunner().invoke(main, ["sweep", "--kind", "day", "--seeds", "0"])
    assert result.exit_code == 1
    assert result.output.strip() == "cardtwin: error: --seeds: 0 out of range (allowed: 1..1000)"
