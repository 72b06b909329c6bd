"""Every command with absurd values: a one-line error naming the flag (or file), exit 1 for an
error the input caused and 2 for a usage error, never a traceback. Run as CI runs it: this
repository's code in a fresh `python -m sim` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devices.card_state import IMAGE_VERSION

REPO = Path(__file__).resolve().parents[3]
CLI = [sys.executable, "-m", "sim"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, check=False, env=ENV)


@pytest.mark.parametrize(
    ("args", "code", "names"),
    [
        (["run", "--seed", "-1"], 2, "'--seed'"),
        (["run", "--sample", "1e-12"], 2, "'--sample'"),
        (["run", "--sample", "2"], 2, "'--sample'"),
        (["run", "--shards", "0"], 2, "'--shards'"),
        (["run", "--out", "/proc/no/such"], 1, "--out /proc/no/such: cannot create it"),
        (["run", "no-such-scenario"], 1, "scenario 'no-such-scenario': no such file"),
        (["demo", "--load", "-1"], 1, "--load -1: a load is more than 0.00"),
        (["demo", "--load", "lots"], 1, "--load: 'lots' is not an amount in yuan"),
        (["demo", "--seed", "-3"], 2, "'--seed'"),
        (["bench", "purchase", "--count", "-5"], 2, "'--count'"),
        (["bench", "purchase", "--rounds", "0"], 2, "'--rounds'"),
        (["bench", "clearing", "--count", "0"], 2, "'--count'"),
        (["bench", "day", "--sample", "0"], 2, "'--sample'"),
        (["bench", "day", "--shards", "1000"], 2, "'--shards'"),
        (["card", "serve", "--balance", "99999999"], 1, "--balance 99999999: outside 0.00..1000.00"),
        (["card", "serve", "--balance", "-5"], 1, "--balance -5: outside 0.00..1000.00"),
        (["card", "trace", "--card", "sim", "zz"], 1, "APDU #1 'zz': not hex"),
        (["hil", "--pin", "12", "--junit", "/dev/null"], 1, "--pin '12': 1 bytes, a PIN has 2..6"),
        (
            ["hil", "--script", "/no/such.apdu", "--junit", "/dev/null"],
            1,
            "/no/such.apdu: cannot read the script",
        ),
        (["hil", "--card", "usb:0", "--junit", "/dev/null"], 1, "--card source 'usb:0'"),
    ],
)
def test_absurd_values_are_one_line_errors(args: list[str], code: int, names: str) -> None:
    run = _cli(*args)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == code, run.stderr
    assert names in run.stderr
    if code == 1:
        assert len(run.stderr.strip().splitlines()) == 1 and run.stderr.startswith("cardtwin: error: ")


def test_run_takes_names_and_paths_lists_and_prints_json(tmp_path: Path) -> None:
    listing = _cli("run", "--list")
    assert listing.returncode == 0 and listing.stdout == "hangzhou-2009-weekday\tscenarios/default.toml\n"
    by_name = _cli(
        "run", "hangzhou-2009-weekday", "--sample", "0.0002", "--json", "--out", str(tmp_path / "a")
    )
    by_path = _cli(
        "run",
        str(REPO / "scenarios" / "default.toml"),
        "--sample",
        "0.0002",
        "--json",
        "--out",
        str(tmp_path / "b"),
    )
    assert by_name.returncode == 0 and by_path.returncode == 0, by_name.stderr + by_path.stderr
    one, two = json.loads(by_name.stdout), json.loads(by_path.stdout)
    assert one["scenario"] == "hangzhou-2009-weekday" and one["sample"] == 0.0002
    # The same day by name and by path: the same figures to the fen (only where they came from differs).
    for key in (
        "transactions",
        "loads_fen",
        "purchases_fen",
        "closing_float_fen",
        "fees_fen",
        "settled_records",
    ):
        assert one[key] == two[key], key
    assert one["closing_float_fen"] == one["opening_float_fen"] + one["loads_fen"] - one["purchases_fen"]
    # Not a terminal: progress as log lines on stderr, ending at 100%.
    assert by_name.stderr.strip().splitlines()[-1].endswith("(100%)")


def test_run_summary_is_words_not_a_python_repr(tmp_path: Path) -> None:
    run = _cli("run", "--sample", "0.0002", "--out", str(tmp_path / "r"))
    assert run.returncode == 0, run.stderr
    refused = next(line for line in run.stdout.splitlines() if line.startswith("taps refused: "))
    assert "{" not in refused and "'" not in refused


def test_keys_new_writes_a_0600_key_file_the_suite_reads(tmp_path: Path) -> None:
    key_file = tmp_path / "issuer-keys.toml"
    made = _cli("keys", "new", "--out", str(key_file), "--issuer", "4401000000000007", "--seed", "9")
    assert made.returncode == 0, made.stderr
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_text().startswith('issuer_id = "4401000000000007"')
    again = _cli("keys", "new", "--out", str(key_file))
    assert (
        again.returncode == 1
        and again.stderr.strip() == f"cardtwin: error: --out {key_file}: exists; pass --force to overwrite it"
    )
    bad = _cli("keys", "new", "--out", str(tmp_path / "x.toml"), "--issuer", "33")
    assert bad.returncode == 1 and "--issuer '33': 1 bytes, an issuer ID has 8" in bad.stderr
    suite = _cli(
        "hil",
        "--suite",
        "conformance",
        "--keys",
        str(key_file),
        "--junit",
        str(tmp_path / "r.xml"),
        "--trace",
        str(tmp_path / "t.txt"),
    )
    assert suite.returncode == 0, suite.stdout[-2000:]
    assert "hil: 198 cases: 197 passed, 0 failed, 1 skipped" in suite.stdout  # the blocking case


def test_card_dump_refuses_what_is_no_image(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a card")
    run = _cli("card", "dump", str(junk))
    expected = f"cardtwin: error: {junk}: card image: version 110, expected {IMAGE_VERSION}"
    assert run.returncode == 1 and run.stderr.strip() == expected
