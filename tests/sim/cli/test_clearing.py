"""`cardtwin clearing` and `cardtwin bench clearing`: good runs and one-line errors for bad input."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from model.security import generate_issuer_keys, write_issuer_keys
from sim.cli import main


def test_simulated_week_clears_settles_and_reconciles(tmp_path: Path) -> None:
    folder, db = tmp_path / "week", tmp_path / "week.db"
    result = CliRunner().invoke(main, ["clearing", str(folder), "--db", str(db), "--simulate-week"])
    assert result.exit_code == 0, result.output
    assert "simulated week: 82 uploads cleared over 8 mornings" in result.output
    assert "instruction: reserve pays" in result.output
    assert "MISMATCH" not in result.output and "held     hotlisted: 1 entries" in result.output
    assert len(list(folder.glob("*.ctb"))) == 82
    assert (folder / "registry.toml").exists() and (folder / "hotlist.toml").exists()
    # The same folder again: every file known, nothing posted twice.
    again = CliRunner().invoke(main, ["clearing", str(folder), "--db", str(db)])
    assert again.exit_code == 0, again.output
    assert "0 records posted, 0 quarantine entries, 82 files seen before" in again.output


def _one_line_error(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    db = str(tmp_path / "c.db")
    _one_line_error(["clearing", str(folder), "--db", db], "cannot read registry")
    (folder / "registry.toml").write_text('[[participant]]\nid = "bus"\n', encoding="utf-8")
    _one_line_error(
        ["clearing", str(folder), "--db", db], "participant #1: 'sector' must be a non-empty string"
    )
    (folder / "registry.toml").write_text("", encoding="utf-8")
    (folder / "issuer-keys.toml").write_text('issuer_id = "zz"\n', encoding="utf-8")
    _one_line_error(["clearing", str(folder), "--db", db], "'issuer_id' is not hex")
    (folder / "issuer-keys.toml").write_text('issuer_id = "3301000000000001"\n', encoding="utf-8")
    _one_line_error(["clearing", str(folder), "--db", db], "no master key DTK/3des/index 1")
    write_issuer_keys(folder / "issuer-keys.toml", generate_issuer_keys(3, bytes.fromhex("3301000000000001")))
    _one_line_error(["clearing", str(folder), "--db", db], "no readable batch file")
    _one_line_error(["clearing", str(folder), "--db", db, "--day", "yesterday"], "is not a date YYYY-MM-DD")
    (folder / "x.ctb").write_bytes(b"junk")
    _one_line_error(["clearing", str(folder), "--db", db, "--simulate-week"], "needs an empty or new folder")
    _one_line_error(["clearing", str(tmp_path / "missing"), "--db", db], "not a folder")


def test_garbage_batch_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    week, db = tmp_path / "week", tmp_path / "week.db"
    assert (
        CliRunner().invoke(main, ["clearing", str(week), "--db", str(db), "--simulate-week"]).exit_code == 0
    )
    (week / "99999-late-junk.ctb").write_bytes(b"\x00" * 300)
    result = CliRunner().invoke(main, ["clearing", str(week), "--db", str(db), "--day", "2026-11-24"])
    assert result.exit_code == 0, result.output
    assert "99999-late-junk.ctb: posted 0 records" in result.output
    assert "quarantine corrupt-batch: 99999-late-junk.ctb: not a batch file" in result.output


def test_bench_clearing_prints_its_figures_last() -> None:
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "clearing",
            "--uploads",
            "synthetic",
            "--count",
            "3000",
            "--cards",
            "100",
            "--batch-records",
            "8",
        ],
    )
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    rate, mean = last.split()
    assert rate.startswith("records_per_s=") and int(rate.split("=")[1]) > 0
    assert mean == "batch_records_mean=8.0"


def test_review_through_the_cli(tmp_path: Path) -> None:
    week, db = tmp_path / "week", tmp_path / "week.db"
    assert (
        CliRunner().invoke(main, ["clearing", str(week), "--db", str(db), "--simulate-week"]).exit_code == 0
    )
    listed = CliRunner().invoke(main, ["clearing", str(week), "--db", str(db), "--list-held"])
    assert listed.exit_code == 0, listed.output
    held = [line for line in listed.output.splitlines() if line.startswith("held ")]
    forged = next(line for line in held if " forged-tac: " in line)
    forged_id = forged.split()[1]
    refused = CliRunner().invoke(
        main, ["clearing", str(week), "--db", str(db), "--release", forged_id, "--note", "trust me"]
    )
    assert refused.exit_code == 1
    assert f"quarantine {forged_id} (forged-tac): its TAC still does not verify" in refused.output
    no_note = CliRunner().invoke(main, ["clearing", str(week), "--db", str(db), "--release", "999999"])
    assert no_note.exit_code == 1 and "no quarantine entry 999999" in no_note.output


_HOLD_THE_DATABASE = """
import sys
from pathlib import Path
from model.backoffice import Registry
from model.security import load_issuer_keys
from sim.day import BackOffice
office = BackOffice.open(sys.argv[1], Registry([], []), load_issuer_keys(Path(sys.argv[2])))
print("holding", flush=True)
sys.stdin.readline()
office.close()
"""


def test_a_second_clearing_process_on_one_database_is_refused_in_one_line(tmp_path: Path) -> None:
    """Two real processes: the first holds the database, the real `cardtwin clearing` is refused."""
    import os
    import subprocess
    import sys

    folder, db = tmp_path / "in", tmp_path / "c.db"
    folder.mkdir()
    (folder / "registry.toml").write_text("", encoding="utf-8")
    write_issuer_keys(folder / "issuer-keys.toml", generate_issuer_keys(3, bytes.fromhex("3301000000000001")))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    command = [sys.executable, "-m", "sim", "clearing", str(folder), "--db", str(db), "--day", "2026-11-24"]
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_THE_DATABASE, str(db), str(folder / "issuer-keys.toml")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        refused = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        lines = (refused.stdout + refused.stderr).strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in lines[0]
        assert f"another clearing run holds this database (pid {holder.pid} since" in lines[0]
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=60)
    alone = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert alone.returncode == 0, alone.stdout + alone.stderr
