"""Fault injectors for the verify campaign (`sim.verify.campaign`): each wraps one real component at the
boundary where the fault happens in the field, and changes nothing else about it.

- `AnyTear`: the card's tear hook, cutting the power at any APDU boundary of a tap (before the
  card processed the command, or after it answered and the answer was lost);
- `FlakyPsam`: the terminal's PSAM link failing on a command (before the PSAM saw it, or after
  it processed it, e.g. after it spent a serial on MAC1);
- `PowerCut`: the terminal losing power around writing a record to its journal, with the
  record flushed to flash or not yet;
- `SkewedApp`: a terminal application whose clock is off by a fixed amount;
- `BankOutage`: a funding whose bank link is down for a stretch of the day (a load whose card
  is already initialised is declined half-way);

Each counts what it actually injected in a shared `Counter` keyed by fault class; a fault that
was armed but never fired is not counted. Every draw comes from a seeded generator handed in,
so the same seed injects the same faults.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from devices.card_os import TearPhase
from model.backoffice import Funding, LoadRequest
from model.card import CardChannel
from model.errors import CardRemovedError, CardTwinError, LoadDeclinedError, TransactionTornError
from model.records import TransactionRecord
from model.terminal import PendingTransaction

APDUS_PER_TAP_MAX = 12  # a purchase with recovery is ~8 card commands; tear points beyond are moot


class AnyTear:
    """Cut the card's power once, at the `index`-th command of the tap, before or after it."""

    __slots__ = ("armed", "counts", "index", "phase", "seen")

    def __init__(self, index: int, phase: TearPhase, counts: Counter[str]) -> None:
        assert 0 <= index < APDUS_PER_TAP_MAX
        self.index = index
        self.phase = phase
        self.counts = counts
        self.seen = 0
        self.armed = True

    def __call__(self, raw: bytes, phase: TearPhase) -> bool:
        if not self.armed:
            return False
        if phase is TearPhase.BEFORE_COMMIT:
            self.seen += 1
        if self.seen - 1 == self.index and phase is self.phase:
            self.armed = False
            self.counts["card-tear"] += 1
            return True
        return False


class FlakyPsam:
    """A terminal's PSAM channel that fails a command now and then: not delivered, or processed
    by the PSAM with its answer lost. The PSAM chip itself is not reset (a link error)."""

    __slots__ = ("counts", "inner", "probability", "rng")

    def __init__(self, inner: CardChannel, probability: float, rng: random.Random, counts: Counter[str]):
        assert 0 <= probability <= 1
        self.inner = inner
        self.probability = probability
        self.rng = rng
        self.counts = counts

    def transmit(self, command: bytes) -> bytes:
        if self.rng.random() >= self.probability:
            return self.inner.transmit(command)
        self.counts["psam-failure"] += 1
        if self.rng.random() < 0.5:
            raise CardRemovedError("PSAM link error: command not delivered")
        self.inner.transmit(command)
        raise CardRemovedError("PSAM link error: answer lost")


class TerminalPowerLostError(CardTwinError):
    """The terminal lost power after it wrote the record (an injected fault): the passenger
    saw no answer and walks on; the record stands."""


class UnflushedPowerLostError(TransactionTornError):
    """The terminal lost power after the card committed and before the record reached flash
    (an injected fault): the passenger presents the card again to the rebooted terminal,
    which recovers the record from the card through its written-ahead pending entry."""


class PowerCut:
    """Wraps a terminal's `record_committed` (the record's one write to flash) and cuts the
    power now and then: after the write (`flushed`) or before it (`unflushed`)."""

    __slots__ = ("counts", "inner", "probability", "rng")

    def __init__(
        self,
        inner: Callable[[PendingTransaction, TransactionRecord], None],
        probability: float,
        rng: random.Random,
        counts: Counter[str],
    ) -> None:
        self.inner = inner
        self.probability = probability
        self.rng = rng
        self.counts = counts

    def __call__(self, pending: PendingTransaction, record: TransactionRecord) -> None:
        if self.rng.random() >= self.probability:
            self.inner(pending, record)
            return
        self.counts["power-loss"] += 1
        if self.rng.random() < 0.5:
            self.inner(pending, record)
            raise TerminalPowerLostError(f"terminal {record.terminal_id.hex()}: power lost (record flushed)")
        self.counts["power-loss-unflushed"] += 1
        raise UnflushedPowerLostError(f"terminal {record.terminal_id.hex()}: power lost (record not flushed)")


class SkewedApp:
    """A terminal application whose clock is `skew` off: every transaction it dates is shifted.
    Everything else (journal, pending book, PSAM) is the application's own."""

    _DATED = frozenset({"purchase", "composite_entry", "composite_exit", "load"})

    def __init__(self, app: Any, skew: timedelta) -> None:
        self._app = app
        self.skew = skew

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._app, name)
        if name not in self._DATED:
            return attr
        skew = self.skew

        def dated(card: CardChannel, value: int, moment: datetime, *rest: Any, **kw: Any) -> Any:
            return attr(card, value, moment + skew, *rest, **kw)

        return dated

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("_app", "skew"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._app, name, value)


class BankOutage:
    """The city's funding with one bank's link down from `start` to `end` (simulated seconds):
    a bank load asked for in that stretch is declined after the card was initialised."""

    def __init__(
        self,
        inner: Funding,
        clock: Callable[[], float],
        windows: dict[str, tuple[float, float]],
        bank_of: Callable[[LoadRequest], str | None],
        counts: Counter[str],
    ) -> None:
        self.inner = inner
        self.clock = clock
        self.windows = windows
        self.bank_of = bank_of  # the bank that funds a load, None for cash
        self.counts = counts

    def reserve(self, host_serial: int, request: LoadRequest) -> None:
        bank = self.bank_of(request)
        window = self.windows.get(bank) if bank is not None else None
        now = self.clock()
        if window is not None and window[0] <= now < window[1]:
            self.counts["bank-outage"] += 1
            raise LoadDeclinedError(f"bank {bank}: outage, load for card {request.asn.hex()} declined")
        self.inner.reserve(host_serial, request)

    def capture(self, host_serial: int) -> None:
        self.inner.capture(host_serial)

    def release(self, host_serial: int) -> None:
        self.inner.release(host_serial)
