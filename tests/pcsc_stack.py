"""The real PC/SC stack for tests: pcscd in the foreground, with vsmartcard's vpcd readers.

The session fixture (in conftest.py) starts its own `pcscd --foreground` (never the systemd
unit, which auto-exits when idle), after stopping a stale one found by its pid file or by
process name (one at a time, by pid), and waits until both vpcd readers appear. These tests
are never skipped: if pcscd cannot start, the fixture fails with pcscd's own log.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

from hardware_bridge.errors import PcscUnavailableError
from hardware_bridge.pcsc_channel import PcscContext

PID_FILE = Path("/run/pcscd/pcscd.pid")
READERS = ("Virtual PCD 00 00", "Virtual PCD 00 01")
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0


def _sudo() -> list[str]:
    # pcscd writes /run/pcscd: root on this machine, passwordless sudo on a CI runner.
    return [] if os.geteuid() == 0 else ["sudo", "-n"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale_pids() -> set[int]:
    pids: set[int] = set()
    with contextlib.suppress(OSError, ValueError):  # no pid file, or a torn one
        pids.add(int(PID_FILE.read_text().strip("\x00 \n")))
    found = subprocess.run(["pgrep", "-x", "pcscd"], capture_output=True, text=True, check=False)
    pids.update(int(p) for p in found.stdout.split())
    return {p for p in pids if p != os.getpid() and _alive(p)}


def _stop_pid(pid: int) -> None:
    subprocess.run([*_sudo(), "kill", "-TERM", str(pid)], check=False, capture_output=True)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        subprocess.run([*_sudo(), "kill", "-KILL", str(pid)], check=False, capture_output=True)


def stop_stale_pcscd() -> None:
    for pid in sorted(_stale_pids()):
        _stop_pid(pid)


SHOWN_TIMEOUT_S = 3.0  # several of pcscd's 0.4 s presence polls


def wait_empty(reader: str, timeout_s: float = SHOWN_TIMEOUT_S) -> None:
    """Wait until pcscd shows `reader` empty.

    A card served the moment the previous one left is taken by vpcd in the same presence poll
    that finds the old one gone, so pcscd never sees the reader empty and keeps showing (and
    talking to) the previous card."""
    deadline = time.monotonic() + timeout_s
    with PcscContext() as context:
        while context.card_state(reader)[0]:
            if time.monotonic() >= deadline:
                raise RuntimeError(f"{reader}: pcscd still shows a card after {timeout_s:g} s")
            time.sleep(0.05)


def wait_shown(reader: str, atr: bytes, timeout_s: float = SHOWN_TIMEOUT_S) -> None:
    """Wait until pcscd shows `atr` in `reader`.

    vpcd has spoken to a newly served card before pcscd's next presence poll, and until that
    poll pcscd may still show the card a previous test served there; a test that read the
    reader then would see the old card's ATR."""
    deadline = time.monotonic() + timeout_s
    with PcscContext() as context:
        while True:
            present, shown = context.card_state(reader)
            if present and shown == atr:
                return
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"{reader}: pcscd shows {shown.hex().upper() or 'no card'}, not {atr.hex().upper()}"
                )
            time.sleep(0.05)


def readers_now() -> list[str]:
    try:
        with PcscContext() as context:
            return context.readers()
    except PcscUnavailableError:
        return []


class Pcscd:
    """One `pcscd --foreground` process started by the tests."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [*_sudo(), "pcscd", "--foreground"], stdout=self._log, stderr=subprocess.STDOUT
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pcscd exited with {self.process.returncode}:\n{self.log()}")
            if all(r in readers_now() for r in READERS):
                return
            time.sleep(0.1)
        raise RuntimeError(f"pcscd showed no vpcd readers {READERS} in {START_TIMEOUT_S} s:\n{self.log()}")

    def stop(self) -> None:
        # Our own child: wait() reaps it (kill -0 would see the zombie as alive).
        if self.process.poll() is None:
            subprocess.run(
                [*_sudo(), "kill", "-TERM", str(self.process.pid)], check=False, capture_output=True
            )
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                subprocess.run(
                    [*_sudo(), "kill", "-KILL", str(self.process.pid)], check=False, capture_output=True
                )
                self.process.wait(STOP_TIMEOUT_S)
        self._log.close()
