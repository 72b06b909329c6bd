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


def _no_traceback(args: list[str]) -> str:
    """Run the CLI; an error a user can cause is a non-zero exit with no traceback, and the
    project's own errors are one line."""
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    assert "Traceback" not in result.output, args
    assert result.exit_code in (1, 2), (args, result.exit_code, result.output)
    if result.exit_code == 1:  # a CardTwinError: one line, the last (2 is click's usage message)
        lines = result.output.strip().splitlines()
        assert [n for n, line in enumerate(lines) if "error" in line] == [len(lines) - 1], (args, lines)
    return result.output


def test_clearing_and_verify_with_absurd_values_end_in_one_line_errors(tmp_path: Path) -> None:
    folder, db = tmp_path / "in", str(tmp_path / "c.db")
    folder.mkdir()
    (folder / "registry.toml").write_text("", encoding="utf-8")
    write_issuer_keys(folder / "issuer-keys.toml", generate_issuer_keys(3, bytes.fromhex("3301000000000001")))
    base = ["clearing", str(folder), "--db", db]
    for args, expected in [
        (["--cutoff-days", "-1"], "--cutoff-days: -1 is not in 0..366"),
        (["--cutoff-days", "100000000000"], "--cutoff-days: 100000000000 is not in 0..366"),
        (["--day", "0001-01-01"], "--day: 0001-01-01 is not in 2000-01-01..2099-12-31"),
        (["--day", "9999-12-31"], "is not in 2000-01-01"),
        (["--day", "nan"], "is not a date YYYY-MM-DD"),
        (["--seed", "-1"], "--seed: -1 is not in 0..4294967295"),
        (["--release", "0", "--note", "x"], "--release: 0 is not a quarantine id"),
        (["--release", "-5", "--note", "x"], "--release: -5 is not a quarantine id"),
        (["--release", "99", "--note", "x", "--day", "2026-11-24"], "release: no quarantine entry 99"),
        (["--keys", str(tmp_path / "none.toml")], "cannot read key file"),
        (["--registry", str(tmp_path)], "is a directory"),
    ]:
        assert expected in _no_traceback(base + args), args
    for args in (["--cutoff-days", "nan"], ["--seed", "1e20"], ["--release", "inf"]):
        _no_traceback(base + args)
    out = tmp_path / "file"
    out.write_text("", encoding="utf-8")
    # A database path under a plain file: nothing can be written there (root ignores modes).
    assert "cannot open the writer lock" in _no_traceback(
        ["clearing", str(folder), "--db", str(out / "c.db"), "--day", "2026-11-24"]
    )
    for args, expected in [
        (["--seeds", "0"], "--seeds: 0 out of range"),
        (["--seeds", "-3"], "--seeds: -3 out of range"),
        (["--seeds", "100000000"], "--seeds: 100000000 out of range"),
        (["--days", "0"], "--days: 0 out of range"),
        (["--sample", "nan"], "--sample: nan out of range"),
        (["--sample", "-1"], "--sample: -1.0 out of range"),
        (["--sample", "1e300"], "out of range"),
        (["--seed", "-1"], "--first-seed/--seed: -1 out of range"),
        (["--first-seed", "99999999999"], "out of range"),
        (["--faults", "nonsense"], "nonsense"),
        (["--seeds", "1", "--out", str(out / "x")], "--out: "),
    ]:
        assert expected in _no_traceback(["verify", *args]), args
    _no_traceback(["verify", "--days", "1e9"])
