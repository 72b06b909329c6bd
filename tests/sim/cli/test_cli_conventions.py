"""The CLI's conventions beyond absurd values: `clearing --list-held` only reads, the README's
review example works, sweeps refuse what cannot be a sweep, one seed prints no "± nan"."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from sim.cli import main


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
