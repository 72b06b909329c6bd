"""Real cards in the loop: chosen citizens tap through a PC/SC reader inside a city day.

A scenario names a reader (`run.real_card_reader`, a card source such as `vpcd:0`) and the
citizens whose cards go through it (`run.real_card_citizens`). For each of their taps the twin
takes the citizen's card out of its compact image as usual, then, instead of handing the
terminal an in-process channel, serves the card on vpcd and hands the terminal a pyscard
channel through pcscd: the terminal application, the PSAM and the card OS are the same code,
only the path between terminal and card is the real PC/SC stack. So the day's money must come
out the same to the fen, and what differs is measured: the wall time of every APDU round trip
and of every tap, card swap included.

Only served cards (`vpcd[:N]`) are supported: a physical card in a `pcsc:` reader keeps its
balance on the chip, not in the twin's population, so the day's money invariants could not
account for it, and a physical card would also need the world to run on its issuer's keys.

This module imports the hardware bridge, so the twin imports it only when a scenario asks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import TracebackType

from devices.card_os import CardOS, PowerLost
from hardware_bridge.latency import LatencyChannel, LatencyStats
from hardware_bridge.pcsc_channel import PcscChannel
from hardware_bridge.vpcd import VpcdServer, build_atr
from model.errors import CardTwinError
from sim.cards.sources import parse_source, vpcd_reader

# A swap waits for pcscd to notice the card left and came back (it polls vpcd every 0.4 s);
# a card that is not there after this long is a broken stack, not a slow one.
CARD_WAIT_S = 5.0
QUANTILES = (0.5, 0.95)


class RealCardError(CardTwinError):
    """A real-cards-in-the-loop option that cannot be honoured."""


@dataclass(frozen=True, slots=True)
class ReaderReport:
    """What the reader measured over a day: plain numbers, so it pickles from a shard process."""

    reader: str
    citizens: int
    taps: int
    apdus: int
    apdu_us_mean: float
    apdu_us_p50: float
    apdu_us_p95: float
    apdu_us_max: float
    swap_s_mean: float  # the previous card leaves the field, this one enters and is connected
    swap_s_max: float
    reconnects: int  # re-presentations after a torn tap


class ReaderChannel:
    """The terminal's side of the reader: latency-timed transmit, and `insert` to present the
    card again after a torn tap (what `SimChannel.insert` is for an in-process card)."""

    def __init__(self, timed: LatencyChannel, server: VpcdServer) -> None:
        self.timed = timed
        self.server = server
        self.reconnects = 0

    def transmit(self, command: bytes) -> bytes:
        return self.timed.transmit(command)

    def insert(self) -> None:
        # vpcd dropped the card when it lost power; the pyscard handle went with it and the
        # next transmit connects to the re-inserted card.
        self.reconnects += 1
        self.server.insert()


class CardReader:
    """One vpcd reader slot through which the chosen citizens' cards are tapped, in turn."""

    def __init__(self, source_text: str, citizens: list[int], population: int) -> None:
        source = parse_source(source_text, "run.real_card_reader")
        outside = [c for c in citizens if not 0 <= c < population]
        if outside:
            raise RealCardError(
                f"run.real_card_citizens: citizen {outside[0]} is not in the simulated population "
                f"(citizens 0..{population - 1} at this sample)"
            )
        if source.kind != "vpcd":
            raise RealCardError(
                f"run.real_card_reader {source_text!r}: only served cards (vpcd[:N]) can stand in for "
                "citizens; a physical card's balance lives on the chip, outside the twin's accounts"
            )
        # With one shard (the schema insists) a citizen's number is its population row.
        self.rows = frozenset(citizens)
        self.name = str(source)
        self.server = VpcdServer(
            _EmptyField(), source.slot, atr=build_atr(b"CardTwinEP"), power_lost=(PowerLost,), name=self.name
        )
        self._pcsc: PcscChannel | None = None
        self.slot = source.slot
        self._channel: ReaderChannel | None = None
        self._swaps = LatencyStats()

    def __enter__(self) -> CardReader:
        self.server.start(inserted=False)
        try:
            self._pcsc = PcscChannel(vpcd_reader(self.slot), card_wait_s=CARD_WAIT_S)
        except BaseException:
            self.server.stop()
            raise
        self._channel = ReaderChannel(LatencyChannel(self._pcsc), self.server)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pcsc is not None:
            self._pcsc.close()
        self.server.stop()

    def present(self, card: CardOS) -> ReaderChannel:
        """A citizen's card enters the reader's field: the previous one leaves, this one is served."""
        assert self._pcsc is not None and self._channel is not None, "present outside `with`"
        started = time.perf_counter()
        self._pcsc.disconnect()
        self.server.present(card)
        self._pcsc.connect()
        self._swaps.add(time.perf_counter() - started)
        return self._channel

    def report(self) -> ReaderReport:
        assert self._channel is not None
        stats = self._channel.timed.stats
        p50, p95 = (stats.quantile_s(q) * 1e6 for q in QUANTILES)
        return ReaderReport(
            reader=self.name,
            citizens=len(self.rows),
            taps=self._swaps.count,
            apdus=stats.count,
            apdu_us_mean=stats.mean_s * 1e6,
            apdu_us_p50=p50,
            apdu_us_p95=p95,
            apdu_us_max=stats.max_s * 1e6,
            swap_s_mean=self._swaps.mean_s,
            swap_s_max=self._swaps.max_s,
            reconnects=self._channel.reconnects,
        )


class _EmptyField:
    """The chip the server holds before the first citizen taps: the reader stays empty
    (`start(inserted=False)`), so it is never asked anything."""

    def process(self, raw: bytes) -> bytes:
        raise AssertionError("the empty reader field was sent an APDU")

    def power_on(self) -> None:
        pass
