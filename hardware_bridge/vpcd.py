"""Serve a simulated chip on vsmartcard's vpcd socket, so that pcscd presents it as a card.

The vpcd driver inside pcscd listens on TCP (127.0.0.1:35963 for reader `Virtual PCD 00 00`,
35964 for `... 00 01`); the card is the TCP client. Every message both ways is a 2-byte
big-endian length and a payload. A 1-byte payload from vpcd is a control message: 00 power
off, 01 power on, 02 reset, 04 get ATR (the only one answered; vpcd polls presence with it).
A longer payload is a command APDU, answered with the response APDU. Connecting is inserting
the card, closing the socket is removing it.

A reader can send a 1-byte command APDU, and vpcd forwards it as a 1-byte payload: the same
bytes as a control message. The served card never dies on one (a card that answers every byte
string with a status word is what a QA engineer expects of a chip):
- a byte that is no control code is a 1-byte command: the chip answers it (6700);
- `01`/`02` (power on, reset) are always followed at once by get-ATR from the driver, and `00`
  (power off) by pcscd's presence poll (get-ATR every 0.4 s). When instead nothing follows for
  `CONTROL_SILENCE_S`, the driver is blocked waiting for an answer (it holds its I/O lock, so
  even the poll waits): the byte was a command, and the chip answers it. The power-up itself is
  only applied once the get-ATR confirms it, so such a command does not reset the session;
- `04` (get ATR) is answered with the ATR, and the ATR is built to end in `67 00` (its last
  historical byte 67, its check byte 00), so a reader that sent the 1-byte command `04` still
  gets a status word: wrong length.
A chip that raises while processing a command answers 6F00 (no precise diagnosis) and keeps
serving; the failure is counted in `chip_failures` and kept in `failure`.

`VpcdServer` runs that client in a thread. It serves any `ServedChip` (the card OS, the PSAM,
or a test chip) and can lose a response for real: `tear_next` drops the connection just
before or just after the chip processes a chosen command, exactly what a card pulled from the
field mid-command does to pcscd and to every application above it.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from hardware_bridge.errors import VpcdError

VPCD_HOST = "127.0.0.1"
VPCD_PORT_BASE = 35963  # reader `Virtual PCD 00 00`; slot N listens on VPCD_PORT_BASE + N
VPCD_SLOTS = 2  # the Debian driver's reader.conf declares two readers
CONNECT_TIMEOUT_S = 5.0
POLL_S = 0.05  # how often the serving thread looks at its stop flag
MESSAGE_MAX = 2 + 65538  # an extended APDU plus SW is the most vpcd ever sends or takes
STOP_TIMEOUT_S = 5.0
CONTROL_SILENCE_S = 1.5  # > 3 presence polls of pcscd (0.4 s): a control byte nobody followed up
SWAP_OUT_S = 0.6  # > pcscd's 0.4 s presence poll of the vpcd reader

CHIP_FAILURE_SW = bytes.fromhex("6F00")  # ISO 7816-4: no precise diagnosis
CTRL_POWER_OFF = 0x00
CTRL_POWER_ON = 0x01
CTRL_RESET = 0x02
CTRL_GET_ATR = 0x04


class ServedChip(Protocol):
    """What the server needs of a chip: the chip's own APDU interface."""

    def process(self, raw: bytes) -> bytes: ...

    def power_on(self) -> None: ...


ATR_TAIL_SW1 = 0x67  # the ATR ends in 67 00: see the module docstring on the 1-byte command 04
HISTORICAL_MAX = 13  # 15 historical bytes fit an ATR; the last two are the filler and 67


def _xor(data: bytes) -> int:
    out = 0
    for byte in data:
        out ^= byte
    return out


def build_atr(historical: bytes = b"CardTwinEP") -> bytes:
    """An ISO 7816-3 ATR offering T=1 (what the vpcd reader reports), with its check byte.

    TS=3B (direct convention), T0=8K (TD1 follows, K historical bytes), TD1=80 (TD2 follows,
    T=0 indicated), TD2=01 (T=1). TCK is required once any protocol other than T=0 is offered.
    The historical bytes are `historical`, a filler byte and 67, the filler chosen so that TCK
    is 00: the ATR's last two bytes read as status word 6700.
    """
    if not 0 <= len(historical) <= HISTORICAL_MAX:
        raise VpcdError(f"ATR: {len(historical)} historical bytes, at most {HISTORICAL_MAX} fit")
    head = bytes((0x80 | (len(historical) + 2), 0x80, 0x01)) + historical
    filler = _xor(head) ^ ATR_TAIL_SW1
    body = head + bytes((filler, ATR_TAIL_SW1))
    tck = _xor(body)
    assert tck == 0x00, "the filler makes the check byte 00"
    return b"\x3b" + body + bytes((tck,))


DEFAULT_ATR = build_atr()


class TearPhase(Enum):
    """When, around the chip's processing of a command, the connection is dropped."""

    BEFORE = "before"  # the chip never sees the command
    AFTER = "after"  # the chip processed (and committed) it; only the response is lost


@dataclass(frozen=True, slots=True)
class _Tear:
    matches: Callable[[bytes], bool]
    phase: TearPhase


class VpcdServer:
    """One chip served on one vpcd reader slot, in a background thread.

    `power_lost` lists exception types the chip raises when it loses power itself (the card
    OS's tear hook): the server then drops the connection, as a dead card would.
    """

    def __init__(
        self,
        chip: ServedChip,
        slot: int = 0,
        host: str = VPCD_HOST,
        atr: bytes = DEFAULT_ATR,
        power_lost: tuple[type[BaseException], ...] = (),
        name: str = "",
    ) -> None:
        if not 0 <= slot < 64:
            raise VpcdError(f"vpcd slot {slot}: out of range")
        self.chip = chip
        self.host = host
        self.port = VPCD_PORT_BASE + slot
        self.atr = atr
        self.power_lost = power_lost
        self.name = name or f"vpcd {host}:{self.port}"
        self.commands_served = 0
        self.tears_done = 0
        self.chip_failures = 0  # commands the chip raised on, answered 6F00
        self.chip_failure = ""  # the last of them
        self._control: tuple[int, float] | None = None  # a 00/01/02 not yet followed up, and when
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._tear: _Tear | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: str = ""
        self._greeted = threading.Event()

    # -- life cycle -----------------------------------------------------------------------

    def start(self, inserted: bool = True) -> VpcdServer:
        """Start serving; with `inserted`, connect at once (the card is in the reader)."""
        assert self._thread is None, "server started twice"
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        if inserted:
            try:
                self.insert()
            except BaseException:
                self.stop()
                raise
        return self

    def stop(self) -> None:
        """Remove the card and end the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
            assert not self._thread.is_alive(), f"{self.name}: serving thread did not stop"
            self._thread = None
        self.remove()

    def __enter__(self) -> VpcdServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    @property
    def failure(self) -> str:
        """Why the serving thread dropped the card on its own, if it did (protocol errors)."""
        return self._failure

    def insert(self, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        """Put the card in the reader: connect to vpcd (retrying while pcscd starts up), and
        return once vpcd has spoken to the card, so pcscd knows it is there."""
        assert self._thread is not None, "insert before start"
        with self._lock:
            if self._sock is not None:
                return
            self._greeted.clear()
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    sock = socket.create_connection((self.host, self.port), timeout=timeout_s)
                    break
                except OSError as exc:
                    if time.monotonic() >= deadline:
                        raise VpcdError(
                            f"{self.name}: no vpcd reader listening ({exc.strerror or exc}); "
                            "is pcscd running with vsmartcard-vpcd?"
                        ) from None
                    time.sleep(0.1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(True)
            self._sock = sock
            self._buffer = b""
            self._failure = ""
            self._control = None
            self.chip.power_on()
        # vpcd accepts a new card only when pcscd next polls the reader (about every 0.4 s);
        # until then an application would still talk to the reader's idea of the old card.
        if not self._greeted.wait(timeout_s):
            self.remove()
            raise VpcdError(f"{self.name}: vpcd accepted the connection but never polled the card")

    def remove(self) -> None:
        """Take the card out of the reader: close the socket."""
        with self._lock:
            self._close()

    def present(self, chip: ServedChip, out_s: float = SWAP_OUT_S) -> None:
        """Swap cards: take the current one out and put `chip` in the same reader. This is how
        one reader serves many simulated cards in turn (each citizen's tap in the city twin).

        The reader stays empty for `out_s`: pcscd only polls vpcd for presence every 0.4 s, and
        a swap it never saw would leave applications talking to the new card on the old one's
        session (unselected, its volatile state gone) instead of being told the card changed.
        """
        assert 0 <= out_s <= 10, "a swap is not a pause"
        self.remove()
        time.sleep(out_s)
        with self._lock:
            self.chip = chip
        self.insert()

    def tear_next(self, matches: Callable[[bytes], bool], phase: TearPhase = TearPhase.AFTER) -> None:
        """Drop the connection at the next command `matches` accepts, once (a card pulled away
        mid-command). AFTER lets the chip commit first, so only the response is lost."""
        with self._lock:
            self._tear = _Tear(matches, phase)

    # -- the serving thread ---------------------------------------------------------------

    def _close(self) -> None:
        # Forget the socket before closing it: the close is what tells pcscd, and an application
        # woken by that must already see the card as removed.
        sock, self._sock = self._sock, None
        self._buffer = b""
        if sock is not None:
            sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            sock = self._sock
            if sock is None:
                time.sleep(POLL_S)
                continue
            try:
                ready, _, _ = select.select([sock], [], [], POLL_S)
            except (OSError, ValueError):  # closed by remove() in between
                continue
            if not ready:
                with self._lock:
                    if self._sock is sock:
                        self._answer_silent_control(sock)
                continue
            with self._lock:
                if self._sock is not sock:
                    continue
                try:
                    self._receive(sock)
                except (OSError, VpcdError) as exc:
                    self._failure = f"{self.name}: {exc}"
                    self._close()
                except Exception as exc:  # the thread boundary
                    # A chip that crashes must look like a dead card (removed), not a reader
                    # that hangs pcscd and every application until their timeouts.
                    self._failure = f"{self.name}: the chip failed: {type(exc).__name__}: {exc}"
                    self._close()

    def _receive(self, sock: socket.socket) -> None:
        chunk = sock.recv(4096)
        # vpcd writes the length and the payload separately; without a quick ACK, Nagle on its
        # side and delayed ACK on ours cost 40 ms per message.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        if not chunk:
            raise VpcdError("vpcd closed the connection")
        self._buffer += chunk
        while len(self._buffer) >= 2:
            size = int.from_bytes(self._buffer[:2], "big")
            if not 0 < size <= MESSAGE_MAX:
                raise VpcdError(f"vpcd sent a message of length {size}")
            if len(self._buffer) < 2 + size:
                return
            message, self._buffer = self._buffer[2 : 2 + size], self._buffer[2 + size :]
            if not self._handle(sock, message):
                return

    def _answer_silent_control(self, sock: socket.socket) -> None:
        """A 00/01/02 nobody followed up for CONTROL_SILENCE_S was a 1-byte command: answer it."""
        control = self._control
        if control is None or time.monotonic() - control[1] < CONTROL_SILENCE_S:
            return
        self._control = None
        try:
            self._command(sock, bytes((control[0],)))
        except OSError as exc:
            self._failure = f"{self.name}: {exc}"
            self._close()

    def _handle(self, sock: socket.socket, message: bytes) -> bool:
        """Answer one message; False once the connection was dropped."""
        self._greeted.set()
        if len(message) == 1:
            return self._handle_control(sock, message[0])
        self._control = None  # a command follows: the control byte before it was one
        return self._command(sock, message)

    def _handle_control(self, sock: socket.socket, control: int) -> bool:
        pending, self._control = self._control, None
        if control == CTRL_GET_ATR:
            if pending is not None and pending[0] in (CTRL_POWER_ON, CTRL_RESET):
                self.chip.power_on()  # the power-up is confirmed: the chip's volatile state is gone
            self._send(sock, self.atr)
            return True
        if control in (CTRL_POWER_ON, CTRL_RESET, CTRL_POWER_OFF):
            # A control message, or a 1-byte command: the silence after it tells (docstring).
            self._control = (control, time.monotonic())
            return True
        return self._command(sock, bytes((control,)))  # no control code: a 1-byte command

    def _command(self, sock: socket.socket, message: bytes) -> bool:
        tear = self._tear
        if tear is not None and not tear.matches(message):
            tear = None
        if tear is not None:
            self._tear = None  # one-shot
            if tear.phase is TearPhase.BEFORE:
                return self._drop()
        try:
            response = self.chip.process(message)
        except self.power_lost:
            return self._drop()
        except Exception as exc:  # the chip's own bug: a card answers 6F00 and lives on
            self.chip_failures += 1
            self.chip_failure = f"{self.name}: the chip failed on {message[:8].hex().upper()}: {exc!r}"
            response = CHIP_FAILURE_SW
        self.commands_served += 1
        if tear is not None:
            return self._drop()
        # Whatever the chip answers goes back as is: a chip answering garbage must look like
        # a reader answering garbage to the application.
        self._send(sock, response)
        return True

    def _drop(self) -> bool:
        self.tears_done += 1
        self._close()
        return False

    @staticmethod
    def _send(sock: socket.socket, payload: bytes) -> None:
        assert 0 < len(payload) <= MESSAGE_MAX
        sock.sendall(len(payload).to_bytes(2, "big") + payload)
