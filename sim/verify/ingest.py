"""The clearing house as a separate process, for the verify campaign's `clearing-kill9` fault
(the child that ingests, and the campaign's side that starts it and SIGKILLs it mid-way) and its
`clearing-concurrent` fault (the real `cardtwin clearing`, started while the campaign holds the
database, must be refused in one line and write nothing).

    python -m sim.verify.ingest DB FOLDER YYYY-MM-DD

ingests FOLDER's batch files in name order into the clearing database DB (the registry and
issuer keys are FOLDER/registry.toml and FOLDER/issuer-keys.toml), printing `ingesting NAME`
before each file, so the campaign (`ingest_killed_at`) can SIGKILL it in the middle of the
night's work. Nothing else: the settlement and the checks run in the campaign once it has
restarted the ingest.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from model.backoffice import Registry, load_registry
from model.security import IssuerKeys, load_issuer_keys, write_issuer_keys
from sim.day import BATCH_SUFFIX, BackOffice

CHILD_WAIT_S = 120.0  # a clearing child that takes longer has hung


def _progress(name: str) -> str:
    """The line the child prints as it starts on a file: the parent's only view of its work."""
    return f"ingesting {name}"


def _inbox_name(i: int) -> str:
    """The `i`-th upload's file name: name order is arrival order."""
    return f"{i:06d}{BATCH_SUFFIX}"


def main(argv: list[str]) -> int:
    db, folder, day = Path(argv[0]), Path(argv[1]), date.fromisoformat(argv[2])
    office = BackOffice.open(
        db, load_registry(folder / "registry.toml"), load_issuer_keys(folder / "issuer-keys.toml")
    )
    for path in sorted(folder.glob(f"*{BATCH_SUFFIX}")):
        print(_progress(path.name), flush=True)
        office.clearing.ingest_file(path.read_bytes(), path.name, day)
    office.close()  # gives the writer lock back: its file goes with it
    print("done", flush=True)
    return 0


@dataclass(frozen=True, slots=True)
class ChildEnd:
    """How the child ended: SIGKILLed as planned, or `problem` (hung, or failed on its own)."""

    killed: bool
    problem: str = ""


def ingest_killed_at(
    db: Path,
    registry: Registry,
    issuer_keys: IssuerKeys,
    uploads: Sequence[bytes],
    business: date,
    target: int,
) -> ChildEnd:
    """Ingest `uploads` (in this order) into `db` in a child process, and SIGKILL it as it
    starts on the `target`-th: whatever it had written of that file is left half-done."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_inbox(folder, registry, issuer_keys, uploads)
        command = [sys.executable, "-m", "sim.verify.ingest", str(db), tmp, business.isoformat()]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return _kill_at(child, _progress(_inbox_name(target)))


def _kill_at(child: subprocess.Popen[str], line: str) -> ChildEnd:
    killed = False
    assert child.stdout is not None
    for out in child.stdout:
        if out.strip() == line:
            os.kill(child.pid, signal.SIGKILL)  # our own child, by its id
            killed = True
            break
    try:
        _, err = child.communicate(timeout=CHILD_WAIT_S)
    except subprocess.TimeoutExpired:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
        return ChildEnd(False, f"clearing child hung over {CHILD_WAIT_S:.0f} s")
    if killed or child.returncode == 0:
        return ChildEnd(killed)
    last = err.strip().splitlines()[-1] if err.strip() else f"exit {child.returncode}"
    return ChildEnd(False, f"clearing child failed: {last}")


def write_inbox(folder: Path, registry: Registry, issuer_keys: IssuerKeys, uploads: Sequence[bytes]) -> None:
    for i, raw in enumerate(uploads):
        (folder / _inbox_name(i)).write_bytes(raw)
    (folder / "registry.toml").write_text(registry.to_toml(), encoding="utf-8")
    write_issuer_keys(folder / "issuer-keys.toml", issuer_keys)


def second_writer_refused(
    db: Path, registry: Registry, issuer_keys: IssuerKeys, uploads: Sequence[bytes], business: date
) -> str:
    """Run the real `cardtwin clearing` on `db` (which the caller holds open): '' when it is
    refused in one line naming the holder, else what went wrong."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_inbox(folder, registry, issuer_keys, uploads)
        command = [
            sys.executable,
            "-m",
            "sim",
            "clearing",
            tmp,
            "--db",
            str(db),
            "--day",
            business.isoformat(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_WAIT_S)
        except subprocess.TimeoutExpired:
            return f"second clearing process hung over {CHILD_WAIT_S:.0f} s"
    lines = (done.stdout + done.stderr).strip().splitlines()
    if done.returncode == 1 and len(lines) == 1 and "another clearing run holds this database" in lines[0]:
        return ""
    return f"second clearing process not refused in one line (exit {done.returncode}): {lines[-1:]}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
