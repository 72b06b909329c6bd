"""A `CardChannel` to a card in a PC/SC reader (pyscard over pcscd).

The terminal code above it must see logical responses only, as with an in-process card, so
this channel owns the transport's quirks:

- T=0 cards answer a case-4 command with 61xx (xx bytes waiting): the channel fetches them with
  GET RESPONSE (a bounded number of rounds) and returns data + the final status word.
- 6Cxx (wrong Le, exact length xx): the channel sends the same command again once with Le=xx.
- A card taken away, reset by another application or gone mute raises
  `model.errors.CardRemovedError`, and the channel forgets its connection: the next transmit
  connects again to whatever card is then in the reader (a card swap), waiting at most
  `card_wait_s` for one. The terminal code resolves the command in flight by GET TRANSACTION
  PROOF once it recognises the card again.
- With `transport=False` none of that happens: one exchange per transmit, the card's 61xx and
  6Cxx handed up as they are (the conformance suite checks the card's transport behaviour).
- Bytes that are not a response APDU (shorter than a status word, or SW1 outside 6x/9x) raise
  `GarbageResponseError`.

Limits: waiting for a card (`card_wait_s`), each exchange (`transmit_timeout_s`: PC/SC has no
transmit timeout and vpcd waits for ever, so the channel enforces one and treats silence as a
removal), the GET RESPONSE rounds and a single 6Cxx resend.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

from smartcard import scard

from hardware_bridge.errors import (
    GarbageResponseError,
    NoCardError,
    NoReaderError,
    PcscError,
    PcscUnavailableError,
    ReaderNotFoundError,
)
from hardware_bridge.trace import ApduTrace, command_name
from model.card import encode_command, parse_command
from model.errors import ApduFormatError, CardRemovedError

CARD_WAIT_S_DEFAULT = 3.0
CARD_WAIT_S_MAX = 600.0
GET_RESPONSE_ROUNDS_MAX = 32  # 32 x 256 bytes: far more than any e-purse response
RESPONSE_BYTES_MAX = 65538
TRANSMIT_TIMEOUT_S_DEFAULT = 10.0  # e-purse and PSAM commands answer in well under a second
TRANSMIT_TIMEOUT_S_MAX = 300.0
WORKER_STOP_S = 1.0
PROTOCOLS = {
    "T0": scard.SCARD_PROTOCOL_T0,
    "T1": scard.SCARD_PROTOCOL_T1,
    "any": scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
}

# Transmit failures that mean "the card gave no answer": the command may or may not have run.
_NO_ANSWER = {
    scard.SCARD_W_REMOVED_CARD,
    scard.SCARD_E_NO_SMARTCARD,
    scard.SCARD_E_NOT_TRANSACTED,
    scard.SCARD_E_COMM_DATA_LOST,
    scard.SCARD_W_RESET_CARD,
    scard.SCARD_W_UNRESPONSIVE_CARD,
    scard.SCARD_W_UNPOWERED_CARD,
    scard.SCARD_E_READER_UNAVAILABLE,
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_E_INVALID_HANDLE,
    scard.SCARD_E_TIMEOUT,
}
_NO_PCSCD = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED}


def _message(hresult: int) -> str:
    return f"{scard.SCardGetErrorMessage(hresult)} [{hresult & 0xFFFFFFFF:08X}]"


def _check_service(hresult: int, where: str) -> None:
    if hresult in _NO_PCSCD:
        raise PcscUnavailableError(
            f"{where}: pcscd is not running ({_message(hresult)}); start it with `pcscd --foreground`"
        )


class PcscContext:
    """A PC/SC context: the application's session with pcscd."""

    def __init__(self) -> None:
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check_service(hresult, "PC/SC")
        if hresult != scard.SCARD_S_SUCCESS:
            raise PcscUnavailableError(f"PC/SC: cannot reach pcscd ({_message(hresult)})")
        self.handle: Any = context

    def release(self) -> None:
        if self.handle is not None:
            scard.SCardReleaseContext(self.handle)
            self.handle = None

    def __enter__(self) -> PcscContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def readers(self) -> list[str]:
        hresult, readers = scard.SCardListReaders(self.handle, [])
        _check_service(hresult, "PC/SC list readers")
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hresult != scard.SCARD_S_SUCCESS:
            raise PcscError(f"PC/SC list readers: {_message(hresult)}")
        return [str(r) for r in readers]

    def find_reader(self, name: str) -> str:
        """The reader called `name`: its exact name, or the one reader whose name contains it."""
        readers = self.readers()
        if not readers:
            raise NoReaderError("PC/SC: pcscd runs but reports no reader (is a reader or vpcd configured?)")
        if name in readers:
            return name
        near = [r for r in readers if name.lower() in r.lower()]
        if len(near) == 1:
            return near[0]
        known = ", ".join(repr(r) for r in readers)
        why = "matches several" if near else "matches none"
        raise ReaderNotFoundError(f"reader {name!r} {why} of the readers pcscd knows: {known}")

    def card_state(self, reader: str, timeout_s: float = 0.0) -> tuple[bool, bytes]:
        """(card present, ATR) of `reader`, waiting up to `timeout_s` for a card to appear."""
        deadline = time.monotonic() + timeout_s
        state = scard.SCARD_STATE_UNAWARE
        while True:
            remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
            hresult, states = scard.SCardGetStatusChange(self.handle, remaining_ms, [(reader, state)])
            _check_service(hresult, f"reader {reader!r}")
            if hresult == scard.SCARD_E_TIMEOUT:
                return False, b""
            if hresult == scard.SCARD_E_UNKNOWN_READER:
                raise ReaderNotFoundError(f"reader {reader!r}: pcscd does not know it (unplugged?)")
            if hresult != scard.SCARD_S_SUCCESS:
                raise PcscError(f"reader {reader!r}: status: {_message(hresult)}")
            _, event_state, atr = states[0]
            present = bool(event_state & scard.SCARD_STATE_PRESENT) and not (
                event_state & scard.SCARD_STATE_MUTE
            )
            if present or time.monotonic() >= deadline:
                return present, bytes(atr)
            state = event_state & ~scard.SCARD_STATE_CHANGED

    def card_stays(self, reader: str, hold_s: float) -> bool:
        """Whether a card pcscd shows in `reader` is still shown after `hold_s`.

        pcscd learns of a removal only at its next presence poll (every 0.4 s for vpcd), so a
        card taken out a moment ago still shows as present; an application that trusted that
        would talk to a card that is gone."""
        deadline = time.monotonic() + hold_s
        present, _ = self.card_state(reader)
        state = scard.SCARD_STATE_PRESENT if present else scard.SCARD_STATE_EMPTY
        while present:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                return True
            hresult, states = scard.SCardGetStatusChange(self.handle, remaining_ms, [(reader, state)])
            _check_service(hresult, f"reader {reader!r}")
            if hresult == scard.SCARD_E_TIMEOUT:
                return True
            if hresult != scard.SCARD_S_SUCCESS:
                raise PcscError(f"reader {reader!r}: status: {_message(hresult)}")
            event_state = states[0][1]
            present = bool(event_state & scard.SCARD_STATE_PRESENT)
            state = event_state & ~scard.SCARD_STATE_CHANGED
        return False


@dataclass(frozen=True, slots=True)
class ReaderStatus:
    name: str
    card_present: bool
    atr: bytes


def list_readers() -> list[ReaderStatus]:
    """Every reader pcscd knows, and whether it holds a card."""
    with PcscContext() as context:
        return [ReaderStatus(r, *context.card_state(r)) for r in context.readers()]


class PcscChannel:
    """One reader slot holding a card, as a `CardChannel`."""

    def __init__(
        self,
        reader: str,
        protocol: str = "any",
        card_wait_s: float = CARD_WAIT_S_DEFAULT,
        trace: ApduTrace | None = None,
        label: str = "card",
        transmit_timeout_s: float = TRANSMIT_TIMEOUT_S_DEFAULT,
        transport: bool = True,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise PcscError(f"protocol {protocol!r}: one of {', '.join(PROTOCOLS)}")
        if not 0 <= card_wait_s <= CARD_WAIT_S_MAX:
            raise PcscError(f"card wait {card_wait_s} s: outside 0..{CARD_WAIT_S_MAX:.0f}")
        if not 0 < transmit_timeout_s <= TRANSMIT_TIMEOUT_S_MAX:
            raise PcscError(
                f"transmit timeout {transmit_timeout_s} s: outside 0..{TRANSMIT_TIMEOUT_S_MAX:.0f}"
            )
        self._context = PcscContext()
        try:
            self.reader = self._context.find_reader(reader)
        except BaseException:
            self._context.release()
            raise
        self.transmit_timeout_s = transmit_timeout_s
        # False: one exchange per transmit, 61xx and 6Cxx handed up as they are (conformance).
        self.transport = transport
        self._transmitter = _Transmitter()  # only once nothing can fail: it owns a thread
        self.timeouts = 0
        self.protocols = PROTOCOLS[protocol]
        self.card_wait_s = card_wait_s
        self.trace = trace
        self.label = label
        self.atr = b""
        self.active_protocol = 0
        self.connections = 0  # how many times a card was connected: > 1 after a swap
        self._card: Any = None

    # -- connection -----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._card is not None

    def connect(self) -> None:
        """Connect to the card in the reader, waiting up to `card_wait_s` for one."""
        if self._card is not None:
            return
        present, _ = self._context.card_state(self.reader, self.card_wait_s)
        if not present:
            raise NoCardError(f"reader {self.reader!r}: no card (waited {self.card_wait_s:g} s)")
        hresult, card, active = scard.SCardConnect(
            self._context.handle, self.reader, scard.SCARD_SHARE_SHARED, self.protocols
        )
        _check_service(hresult, f"reader {self.reader!r}")
        if hresult in (scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_REMOVED_CARD):
            raise NoCardError(f"reader {self.reader!r}: no card ({_message(hresult)})")
        if hresult in (scard.SCARD_W_UNRESPONSIVE_CARD, scard.SCARD_W_UNPOWERED_CARD):
            raise NoCardError(f"reader {self.reader!r}: the card does not answer reset ({_message(hresult)})")
        if hresult == scard.SCARD_E_PROTO_MISMATCH:
            raise PcscError(f"reader {self.reader!r}: the card speaks none of the protocols asked for")
        if hresult != scard.SCARD_S_SUCCESS:
            raise PcscError(f"reader {self.reader!r}: connect: {_message(hresult)}")
        self._card, self.active_protocol = card, active
        self.connections += 1
        _, self.atr = self._context.card_state(self.reader)
        if self.trace is not None:
            name = {scard.SCARD_PROTOCOL_T0: "T=0", scard.SCARD_PROTOCOL_T1: "T=1"}.get(active, str(active))
            self.trace.event(self.label, f"connected {self.reader!r} {name} ATR {self.atr.hex().upper()}")

    def disconnect(self) -> None:
        """Leave the card powered (another application may use it) and forget the handle."""
        if self._card is not None:
            card, self._card = self._card, None
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)

    def close(self) -> None:
        self.disconnect()
        self._transmitter.stop()
        self._context.release()

    def __enter__(self) -> PcscChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- CardChannel ----------------------------------------------------------------------

    def transmit(self, command: bytes) -> bytes:
        self.connect()
        response = self._exchange(command)
        if not self.transport:
            return response
        sw1, sw2 = response[-2], response[-1]
        if sw1 == 0x6C:
            response = self._exchange(_with_le(command, sw2 or 256))
            sw1, sw2 = response[-2], response[-1]
            if sw1 == 0x6C:
                raise GarbageResponseError(
                    f"reader {self.reader!r}: {command_name(command)}: card asked twice for another Le"
                )
        data = response[:-2]
        rounds = 0
        while sw1 == 0x61:
            rounds += 1
            if rounds > GET_RESPONSE_ROUNDS_MAX:
                raise GarbageResponseError(
                    f"reader {self.reader!r}: {command_name(command)}: "
                    f"still 61xx after {GET_RESPONSE_ROUNDS_MAX} GET RESPONSE rounds"
                )
            more = self._exchange(encode_command(0x00, 0xC0, 0x00, 0x00, b"", sw2 or 256))
            data += more[:-2]
            sw1, sw2 = more[-2], more[-1]
            if len(data) > RESPONSE_BYTES_MAX:
                raise GarbageResponseError(
                    f"reader {self.reader!r}: response over {RESPONSE_BYTES_MAX} bytes"
                )
        return data + bytes((sw1, sw2))

    def _exchange(self, command: bytes) -> bytes:
        """One physical exchange: a status word guaranteed, or an error."""
        if self.trace is not None:
            self.trace.command(self.label, command)
        start = time.perf_counter()
        try:
            hresult, response = self._transmitter.call(
                self._card, self.active_protocol, command, self.transmit_timeout_s
            )
        except TimeoutError:
            # The call stays blocked inside pcscd; its handle cannot even be closed (the client
            # library holds the context's lock), so the worker and the handle are abandoned.
            self.timeouts += 1
            self._card = None
            self._transmitter = _Transmitter()
            text = (
                f"reader {self.reader!r}: {command_name(command)}: no answer within "
                f"{self.transmit_timeout_s:g} s"
            )
            if self.trace is not None:
                self.trace.event(self.label, text)
            raise CardRemovedError(text) from None
        elapsed = time.perf_counter() - start
        if hresult != scard.SCARD_S_SUCCESS:
            # The connection is gone whatever happened; the next transmit connects anew.
            self.disconnect()
            if hresult in _NO_ANSWER:
                text = f"reader {self.reader!r}: {command_name(command)}: no answer ({_message(hresult)})"
                if self.trace is not None:
                    self.trace.event(self.label, text)
                raise CardRemovedError(text)
            raise PcscError(f"reader {self.reader!r}: {command_name(command)}: {_message(hresult)}")
        raw = bytes(response)
        if self.trace is not None:
            self.trace.response(self.label, raw, elapsed)
        if not raw:
            # A reader that delivers nothing lost the card mid-command (vpcd does this when the
            # card's connection drops); the card may have committed, so it is a removal.
            self.disconnect()
            text = f"reader {self.reader!r}: {command_name(command)}: no answer (empty response)"
            if self.trace is not None:
                self.trace.event(self.label, text)
            raise CardRemovedError(text)
        if len(raw) < 2 or not (0x61 <= raw[-2] <= 0x6F or 0x90 <= raw[-2] <= 0x9F):
            raise GarbageResponseError(
                f"reader {self.reader!r}: {command_name(command)}: answer {raw.hex().upper() or '(empty)'} "
                "is not a response APDU (no valid status word)"
            )
        return raw


class _Transmitter:
    """SCardTransmit on a worker thread, so that the caller can give up on a card that never
    answers: PC/SC has no transmit timeout, and the vpcd driver waits for ever (checked: a
    150 s silence was waited out). One long-lived thread, not one per APDU: a thread start
    would double the round trip."""

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[tuple[Any, int, bytes] | None] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[tuple[int, list[int]]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="pcsc-transmit", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            request = self._requests.get()
            if request is None:
                return
            card, protocol, command = request
            self._results.put(scard.SCardTransmit(card, protocol, list(command)))

    def call(self, card: Any, protocol: int, command: bytes, timeout_s: float) -> tuple[int, list[int]]:
        self._requests.put((card, protocol, command))
        try:
            return self._results.get(timeout=timeout_s)
        except queue.Empty:
            self._requests.put(None)  # the worker ends once pcscd lets go of it
            raise TimeoutError from None

    def stop(self) -> None:
        self._requests.put(None)
        self._thread.join(WORKER_STOP_S)  # idle: it ends at once


def _with_le(command: bytes, le: int) -> bytes:
    """The same command with Le replaced (6Cxx asks for exactly that length)."""
    try:
        parsed = parse_command(command)
    except ApduFormatError as exc:
        raise GarbageResponseError(f"6Cxx answered to a malformed command: {exc}") from None
    return parsed._replace(le=le).to_bytes()
