"""APDU traces: every command and response with a timestamp, the command's name and the
meaning of the status word, one line each, written to a file as they happen.

A QA engineer reads a trace next to a failing HIL case, so a line says what was sent in the
protocol's own words (`INITIALIZE FOR PURCHASE`, `9401 insufficient balance`), not only hex.
A trace is bounded (`TRACE_RECORDS_MAX`): a run that loops cannot fill the disk.

Line format (tab-separated):
    2026-11-23T20:41:07.123456Z  card  >>  INITIALIZE FOR PURCHASE  805001020B01...
    2026-11-23T20:41:07.125901Z  card  <<  9000 ok  2.46 ms  000003E80000...9000
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from model.card import CardChannel, describe_sw
from model.errors import CardRemovedError, CardTwinError

TRACE_RECORDS_MAX = 200_000

# (CLA, INS) -> name; INITIALIZE is told apart by P1 (load, purchase, composite purchase).
_NAMES: dict[tuple[int, int], str] = {
    (0x00, 0xA4): "SELECT",
    (0x00, 0xB0): "READ BINARY",
    (0x00, 0xB2): "READ RECORD",
    (0x00, 0x20): "VERIFY PIN",
    (0x00, 0x84): "GET CHALLENGE",
    (0x00, 0xC0): "GET RESPONSE",
    (0x80, 0x5C): "GET BALANCE",
    (0x80, 0x52): "CREDIT FOR LOAD",
    (0x80, 0x54): "DEBIT FOR PURCHASE",
    (0x80, 0xDC): "UPDATE CAPP DATA CACHE",
    (0x80, 0x5A): "GET TRANSACTION PROOF",
    (0x84, 0x1E): "APPLICATION BLOCK",
    (0x80, 0x70): "INIT SAM FOR PURCHASE",
    (0x80, 0x72): "CREDIT SAM FOR PURCHASE",
    (0x80, 0xFA): "CIPHER DATA",
}
_INITIALIZE = {
    0x00: "INITIALIZE FOR LOAD",
    0x01: "INITIALIZE FOR PURCHASE",
    0x03: "INITIALIZE FOR CAPP PURCHASE",
}


class TraceError(CardTwinError):
    """The trace file cannot be written."""


def command_name(command: bytes) -> str:
    """The protocol name of a command APDU, or its CLA/INS in hex when unknown."""
    if len(command) < 4:
        return f"malformed ({len(command)} bytes)"
    cla, ins, p1 = command[0], command[1], command[2]
    if (cla, ins) == (0x80, 0x50):
        return _INITIALIZE.get(p1, "INITIALIZE")
    return _NAMES.get((cla, ins), f"CLA {cla:02X} INS {ins:02X}")


CAPTURE_LINES_MAX = 2_000  # one case's trace in a JUnit report; the file keeps everything


class ApduTrace:
    """A bounded, thread-safe APDU trace written to a text file (or any text stream)."""

    def __init__(self, out: TextIO, limit: int = TRACE_RECORDS_MAX) -> None:
        assert limit > 0
        self._out = out
        self.limit = limit
        self.records = 0
        self.truncated = False
        self._lock = threading.Lock()
        self._captured: list[str] | None = None  # one case's lines, for its JUnit system-out

    @classmethod
    def open(cls, path: Path, limit: int = TRACE_RECORDS_MAX) -> ApduTrace:
        try:
            return cls(path.open("w", encoding="utf-8"), limit)
        except OSError as exc:
            raise TraceError(f"{path}: cannot write the APDU trace: {exc.strerror or exc}") from None

    def close(self) -> None:
        with self._lock:
            self._out.close()

    def __enter__(self) -> ApduTrace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def capture(self) -> None:
        """Keep the lines from now on (at most CAPTURE_LINES_MAX) until `captured()`."""
        with self._lock:
            self._captured = []

    def captured(self) -> tuple[str, ...]:
        """The lines since `capture()`, and stop keeping them."""
        with self._lock:
            lines, self._captured = self._captured or [], None
        return tuple(lines)

    def _line(self, text: str) -> None:
        with self._lock:
            if self._captured is not None and len(self._captured) < CAPTURE_LINES_MAX:
                self._captured.append(text)
            if self.records >= self.limit:
                if not self.truncated:
                    self.truncated = True
                    self._out.write(f"{_now()}\t-\t--\ttrace truncated at {self.limit} records\n")
                    self._out.flush()
                return
            self.records += 1
            self._out.write(text + "\n")
            self._out.flush()  # a trace is read when something crashed: keep it on disk

    def command(self, label: str, command: bytes) -> None:
        self._line(f"{_now()}\t{label}\t>>\t{command_name(command)}\t{command.hex().upper()}")

    def response(self, label: str, response: bytes, elapsed_s: float) -> None:
        if len(response) >= 2:
            sw = int.from_bytes(response[-2:], "big")
            meaning = f"{sw:04X} {describe_sw(sw)}"
        else:
            meaning = "no status word"
        self._line(f"{_now()}\t{label}\t<<\t{meaning}\t{elapsed_s * 1000:.2f} ms\t{response.hex().upper()}")

    def event(self, label: str, text: str) -> None:
        """Something that is not an APDU but explains the next ones (card removed, reconnect)."""
        self._line(f"{_now()}\t{label}\t--\t{text}")


class TracedChannel:
    """Any `CardChannel`, with every exchange written to a trace."""

    def __init__(self, inner: CardChannel, trace: ApduTrace, label: str = "card") -> None:
        self.inner = inner
        self.trace = trace
        self.label = label

    def transmit(self, command: bytes) -> bytes:
        self.trace.command(self.label, command)
        start = time.perf_counter()
        try:
            response = self.inner.transmit(command)
        except CardRemovedError as exc:
            self.trace.event(self.label, f"no answer: {exc}")
            raise
        self.trace.response(self.label, response, time.perf_counter() - start)
        return response


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
