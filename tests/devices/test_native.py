"""The compiled tap path (`model.native`) answers what the sources answer, byte for byte.

The same seeded random sessions (`tests/devices/native_replay.py`: purchases, loads, metro trips,
PINs, random and mutated APDUs, power lost at random commands) run in two processes, one on
the sources (`CARDTWIN_PURE=1`) and one on the compiled modules; every command, answer, record
and card image must be the same. Without a current native build (`scripts/build_native.py`,
which `scripts/setup.sh` runs) there is nothing to compare: the test fails (it skips only
under `CARDTWIN_PURE=1`).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from model import native

ROOT = Path(__file__).resolve().parents[2]
STEPS = 4_000


def _run(args: list[str], pure: bool) -> str:
    """`python args` from the project root, on the sources (`pure`) or the compiled modules."""
    env = {k: v for k, v in os.environ.items() if k != native.PURE_ENV}
    if pure:
        env[native.PURE_ENV] = "1"
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, check=True, timeout=300
    )
    return done.stdout


def _replay(seed: int, pure: bool) -> list[str]:
    return _run(["-m", "tests.devices.native_replay", str(seed), str(STEPS)], pure).splitlines()


@pytest.mark.parametrize("seed", [1, 2])
def test_compiled_modules_answer_every_command_as_the_sources_do(seed: int) -> None:
    # scripts/test.sh (the README's test command, CI's too) builds first, so a missing build
    # is a failure; only a run that opted out of the build on purpose has nothing to compare.
    if os.environ.get("CARDTWIN_PURE") == "1":
        pytest.skip("CARDTWIN_PURE=1: the compiled modules are not loaded in this run")
    assert native.current_build() is not None, (
        "no current native build: run scripts/build_native.py (scripts/setup.sh runs it)"
    )
    pure, compiled = _replay(seed, pure=True), _replay(seed, pure=False)
    assert (pure[0], compiled[0]) == ("pure", "compiled")
    # The sessions did what they are there for: charges, refusals, lost power, images.
    kinds = {line.split(" ")[0] for line in pure}
    assert {"card", "psam", "record", "error", "image"} <= kinds
    assert sum(line.startswith("record") for line in pure) > STEPS // 4
    assert any("CardRemovedError" in line for line in pure)
    for n, (a, b) in enumerate(zip(pure[1:], compiled[1:], strict=True), start=2):
        assert a == b, f"line {n}: the sources say {a!r}, the compiled modules {b!r}"


def _run_city_day(out: Path, pure: bool) -> list[str]:
    # All but the last line, which says how long the run took and where its report went.
    return _run(["-m", "sim", "run", "--sample", "0.002", "--out", str(out)], pure).splitlines()[:-1]


def _tables(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return list(connection.iterdump())


def test_a_city_day_and_its_night_come_out_the_same_compiled_and_from_the_sources(tmp_path: Path) -> None:
    # The back office's night (its checks, holds, stage and TAC verifier) is compiled too: the
    # whole day's report and every row of its clearing database must not depend on which ran.
    if os.environ.get("CARDTWIN_PURE") == "1":
        pytest.skip("CARDTWIN_PURE=1: the compiled modules are not loaded in this run")
    assert native.current_build() is not None, "no current native build: run scripts/build_native.py"
    pure, compiled = tmp_path / "pure", tmp_path / "compiled"
    assert _run_city_day(pure, pure=True) == _run_city_day(compiled, pure=False)
    files = sorted(p.name for p in pure.iterdir() if p.suffix == ".csv")
    assert len(files) > 15 and files == sorted(p.name for p in compiled.iterdir() if p.suffix == ".csv")
    for name in files:
        assert (pure / name).read_bytes() == (compiled / name).read_bytes(), name
    rows = _tables(pure / "clearing.sqlite")
    assert len(rows) > 1_000 and rows == _tables(compiled / "clearing.sqlite")
