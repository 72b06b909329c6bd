"""The `clearing-sigkill` fault: the real `cardtwin clearing` command SIGKILLed at seeded random
moments of a night, restarted, and its database compared with an uninterrupted run's.

The night's uploads are written as an inbox (batch files, registry.toml, issuer-keys.toml);
the campaign's database as it stood before the night is copied twice (SQLite's backup API).
On one copy `cardtwin clearing INBOX --db REF --day D` runs to its end: the reference. On the
other the same command is started, and once it says it has begun the night ("clearing day")
it is SIGKILLed after a seeded fraction of the reference's night; then started again, killed
again, as many times as the seed says, and finally run to its end. Checked: the final run
exits as the reference did, `PRAGMA integrity_check` is ok, and every table of the two
databases holds the same rows (the same ids too: nothing the killed runs began survives).

The kill moments are seeded; where each lands in the child's work is the machine's timing,
so a seed's replay checks the same property at slightly different points (the injected count
is the number of kills sent, the same every replay).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from model.backoffice import Registry
from model.security import IssuerKeys
from sim.verify.ingest import CHILD_WAIT_S, write_inbox

BEGUN_LINE = "clearing day"  # what `cardtwin clearing` prints as its night begins
KILLS_MAX = 8


def killed_runs_match(
    db: Path,
    registry: Registry,
    issuer_keys: IssuerKeys,
    uploads: Sequence[bytes],
    business: date,
    fractions: Sequence[float],
) -> str:
    """'' when a night SIGKILLed at each of `fractions` (of the reference night's duration)
    and rerun ends with the uninterrupted run's database, else what differs."""
    assert len(fractions) <= KILLS_MAX and all(0.0 <= f <= 1.0 for f in fractions)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "inbox"
        folder.mkdir()
        write_inbox(folder, registry, issuer_keys, uploads)
        reference, victim = Path(tmp) / "reference.sqlite", Path(tmp) / "victim.sqlite"
        for copy in (reference, victim):
            _copy(db, copy)
        command = [
            sys.executable,
            "-m",
            "sim",
            "clearing",
            str(folder),
            "--day",
            business.isoformat(),
            "--db",
        ]
        ref_code, night_s = _run([*command, str(reference)])
        for fraction in fractions:
            problem = _killed([*command, str(victim)], fraction * night_s)
            if problem:
                return problem
        code, _ = _run([*command, str(victim)])
        if code != ref_code:
            return f"clearing-sigkill: after {len(fractions)} kills, rerun exit {code}, reference {ref_code}"
        return _difference(reference, victim)


def _copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _run(command: list[str]) -> tuple[int, float]:
    """Run to the end: (exit code, seconds from the night's first line to the exit)."""
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    begun = None
    for line in child.stdout:
        if begun is None and line.startswith(BEGUN_LINE):
            begun = time.perf_counter()
    code = child.wait(timeout=CHILD_WAIT_S)
    return code, time.perf_counter() - (begun if begun is not None else time.perf_counter())


def _killed(command: list[str], after_s: float) -> str:
    """Start the night and SIGKILL it `after_s` seconds after it begins; '' unless it hung."""
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith(BEGUN_LINE):
            break
    try:
        child.wait(timeout=after_s)  # it may finish first: then the kill finds nothing to cut
    except subprocess.TimeoutExpired:
        os.kill(child.pid, signal.SIGKILL)  # our own child, by its id
    try:
        child.communicate(timeout=CHILD_WAIT_S)
    except subprocess.TimeoutExpired:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
        return f"clearing-sigkill: a clearing child hung over {CHILD_WAIT_S:.0f} s"
    return ""


def _difference(reference: Path, victim: Path) -> str:
    ref, vic = sqlite3.connect(reference), sqlite3.connect(victim)
    try:
        integrity = vic.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            return f"clearing-sigkill: the killed database fails its integrity check: {integrity}"
        tables = [
            row[0] for row in ref.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        theirs = [
            row[0] for row in vic.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        if tables != theirs:
            return f"clearing-sigkill: tables differ: {sorted(set(tables) ^ set(theirs))}"
        for table in tables:
            query = f'SELECT * FROM "{table}"'  # some tables have no rowid: rows compared as a set
            left = sorted(ref.execute(query).fetchall(), key=repr)
            right = sorted(vic.execute(query).fetchall(), key=repr)
            if left != right:
                return (
                    f"clearing-sigkill: table {table} differs from the uninterrupted run "
                    f"({len(left)} rows vs {len(right)})"
                )
        return ""
    finally:
        ref.close()
        vic.close()
