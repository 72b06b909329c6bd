"""One city day in SimPy: demand generators, taps through the real terminal code, recharge
queues, uploads, and the night's clearing.

Processes:
- one demand generator per sector (bus, metro, taxi, retail) walks its time-sorted taps; a tap
  materialises the citizen's card from its image, runs the terminal application against it
  through a `SimChannel` (APDUs, PSAM, crypto), and stores the new image;
- a metro entry starts a trip process that taps out at the exit station after the ride;
- a card left under its owner's top-up threshold starts a recharge process: walk to a
  recharge point or a service window, queue (bounded), load through the load host, funded by
  the citizen's bank or in cash;
- online terminals' journals are swept to the clearing port every minute; buses and taxis
  upload at the depot at the end of their shift (late or duplicated uploads are faults);
- at midnight the clearing port closes the day.

A torn tap (the tear fault) is followed by the citizen tapping again at the same terminal,
which first resolves the torn transaction with the card (the terminal's recovery): nothing is
charged twice and nothing committed is lost.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Generator
from datetime import datetime, time, timedelta
from typing import Any, Protocol

import numpy as np
import simpy

from devices.card_os import CardOS, TearHook, TearPhase
from devices.card_state import CardState
from devices.sim_channel import SimChannel
from model.card import CardChannel, CardType
from model.errors import CardRemovedError, CardTwinError, InsufficientBalanceError, TransactionTornError
from model.records import RECORD_HEAD, TransactionRecord
from model.terminal import bus_fare_fen, metro_exit_fare, taxi_fare_fen
from model.timefmt import card_time, decode_datetime, encode_datetime
from sim.cards import CardReader
from sim.city import Kind, TapKind, Taps, Tear, Terminal, World
from sim.day.metrics import DayMetrics
from sim.day.night import Batch, CardTally, ClearingPort, NightReport
from sim.day.recharge import Background, ServicePoint
from sim.day.recharge_demand import PlaceDemand, recharge_demand
from sim.rng import keyed, stream
from sim.services import start_services

DAY_S = 24 * 3600
ONLINE_SWEEP_S = 60.0
DEPOT_SPREAD_S = 1800.0  # buses reach the depot over half an hour
RECHARGE_ATTEMPTS_MAX = 3
TORN_ATTEMPTS_MAX = 4  # presentations of one card at one tap while the terminal says it was torn
# Taps a sector holds as Python numbers at a time (~36 B each, 6 lists): 1024 held ~0.4 MB in
# a process, a fixed cost that weighed ~40 B a citizen in a 10,000-citizen shard.
GENERATOR_CHUNK = 256
RECHARGE_RETRY_S = 1800.0  # after turning away from a queue, come back in half an hour
_COMMIT_INS = (0x52, 0x54)  # CREDIT FOR LOAD, DEBIT FOR PURCHASE
_SECTOR_OF = {TapKind.BUS: 0, TapKind.METRO: 1, TapKind.TAXI: 2, TapKind.RETAIL: 3}
_KIOSK_SECTOR, _WINDOW_SECTOR, _MEDICAL_SECTOR = 4, 5, 6
_TEARS = {int(t): t for t in Tear}  # (by value: every tap, a dict rather than the enum's call)
_CARD_TYPES = {int(t): t for t in CardType}


class TapChannel(Protocol):
    """The field a card is tapped in: a `CardChannel` the citizen can present the card to again."""

    def transmit(self, command: bytes) -> bytes: ...

    def insert(self) -> None: ...


def _reason(exc: CardTwinError) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__.removesuffix("Error")).lower()


def _by_district(
    points: list[tuple[ServicePoint, list[Terminal]]],
) -> dict[int, list[tuple[ServicePoint, list[Terminal]]]]:
    """The points of each district, in the points' order (a point's district: its first terminal's)."""
    near: dict[int, list[tuple[ServicePoint, list[Terminal]]]] = {}
    for point in points:
        near.setdefault(point[1][0].district, []).append(point)
    return near


class _OneTear:
    """The tear fault: cut the power once, on the committing command, before or after commit."""

    __slots__ = ("armed", "phase")

    def __init__(self, phase: TearPhase) -> None:
        self.phase = phase
        self.armed = True

    def __call__(self, raw: bytes, phase: TearPhase) -> bool:
        if self.armed and phase is self.phase and len(raw) > 1 and raw[1] in _COMMIT_INS:
            self.armed = False
            return True
        return False


class CityDay:
    """Runs one day of one world (or shard) and hands its uploads to a clearing port."""

    def __init__(
        self,
        world: World,
        clearing: ClearingPort,
        progress: Callable[[int], None] | None = None,
        reader: CardReader | None = None,
    ):
        self.w = world
        # Real cards in the loop: these rows' cards are tapped through the PC/SC reader.
        self.reader = reader
        self._on_reader = reader.rows if reader is not None else frozenset()
        self.s = world.scenario
        self.clearing = clearing
        self.env = simpy.Environment()
        self.metrics = DayMetrics()
        self.progress = progress
        self._rng = stream(self.s.run.seed, "day", world.shard)
        self._dirty: dict[bytes, Terminal] = {}  # online terminals holding unsent records
        self._sequence: dict[bytes, int] = {}
        self.kiosk_points, self.window_points = self._service_points()
        # A recharge trip picks among its home district's points: listed once, not per trip.
        self._near = {
            window: _by_district(self.window_points if window else self.kiosk_points)
            for window in (False, True)
        }
        self._day_start = world.day_start  # (a property that builds a datetime: once, not per tap)
        self._moment_s, self._moment_at = -1, self._day_start  # the last second `_moment` made
        # The records' date today: their time of day is their second of the day (a day that
        # starts at midnight; any other start takes `_day_s_of`'s long way).
        midnight = self._day_start.time() == time(0)
        self._day_bcd = encode_datetime(self._day_start)[:4] if midnight else b""
        self.night: NightReport | None = None
        self._short = False  # the last tap failed for want of balance
        self.sent = CardTally.zeros(len(world.population))  # records uploaded, once each
        self.sent_records = 0
        self._recharge_count: dict[int, int] = {}
        self._metro_exit_at: dict[int, float] = {}  # rows riding the metro -> when they tap out
        # The citizen card beyond the purse (medical, account, identity, service centre): its own
        # processes on this day's clock, when the scenario has [services] (sim.services).
        self.services = start_services(self.env, world, self._cashier)

    def _service_points(
        self,
    ) -> tuple[list[tuple[ServicePoint, list[Terminal]]], list[tuple[ServicePoint, list[Terminal]]]]:
        """The recharge points and windows, each one full-scale place whose queue carries the
        city's customers of that place (`sim.day.recharge`). Every shard hosts every place, on
        its own replica of the terminals, with the same seeded queue: a citizen meets the same
        queue however the run is split."""
        s = self.s
        demand = recharge_demand(s)
        retry_s = RECHARGE_RETRY_S + s.service.walk_to_recharge_s  # turned away, back, walk again

        def point(name: str, positions: int, place: PlaceDemand, service_mean_s: float) -> ServicePoint:
            background = Background(
                place.rate_per_s, place.bin_s, service_mean_s, s.run.seed, retry_s, RECHARGE_ATTEMPTS_MAX
            )
            return ServicePoint(self.env, name, positions, s.service.queue_limit, background)

        kiosks = self.w.fleet.by_kind[Kind.KIOSK]
        per_point = s.city.kiosks_per_recharge_point
        kiosk_points = [
            (
                point(f"recharge point {i}", per_point, demand.kiosk, s.service.kiosk_service_s),
                kiosks[i * per_point : (i + 1) * per_point],
            )
            for i in range(len(kiosks) // per_point)
        ]
        window_points = [
            (point(f"window {i}", 1, demand.window, s.service.window_service_s), [t])
            for i, t in enumerate(self.w.fleet.by_kind[Kind.WINDOW])
        ]
        return kiosk_points, window_points

    def _close_service_points(self) -> None:
        """A load terminal's busy time is its full-scale place's: the stream's customers at its
        position over the day (the sampled citizens are among them, so theirs is not added);
        the same in every shard, as the stream is."""
        for point, terminals in self.kiosk_points + self.window_points:
            point.close(DAY_S)
            for terminal, busy_s in zip(terminals, point.stats.others_busy_s, strict=True):
                terminal.busy_s = busy_s

    # -- running ----------------------------------------------------------------------------

    def run(self) -> NightReport:
        for taps in self.w.demand:
            self.env.process(self._generator(taps))
        self.env.process(self._online_uploads())
        self.env.process(self._depot_uploads())
        self.env.run(until=DAY_S)
        self._close_service_points()
        self._upload_online()
        self.night = self.clearing.close_day(self.s.run.day)
        return self.night

    def _generator(self, taps: Taps) -> Generator[simpy.Event, Any, None]:
        """A sector's demand, in time order."""
        handler = {
            TapKind.BUS: self._bus,
            TapKind.METRO: self._metro_entry,
            TapKind.TAXI: self._taxi,
            TapKind.RETAIL: self._retail,
        }[taps.kind]
        # Python lists are quicker to walk than arrays but cost ~36 bytes an item: convert a
        # chunk at a time so a full-scale day does not hold every tap as Python objects.
        for start in range(0, len(taps), GENERATOR_CHUNK):
            stop = start + GENERATOR_CHUNK
            t_s, citizen, a, b, c, tear = (
                taps.t_s[start:stop].tolist(),
                taps.citizen[start:stop].tolist(),
                taps.a[start:stop].tolist(),
                taps.b[start:stop].tolist(),
                taps.c[start:stop].tolist(),
                taps.tear[start:stop].tolist(),
            )
            env, shard, shards, progress = self.env, self.w.shard, self.w.shards, self.progress
            for i in range(len(t_s)):
                if t_s[i] > env.now:
                    yield env.timeout(t_s[i] - env.now)
                handler((citizen[i] - shard) // shards, a[i], b[i], c[i], _TEARS[tear[i]])
                if progress is not None:
                    progress(1)

    def _tap(
        self,
        row: int,
        tear: Tear,
        action: Callable[[CardChannel], TransactionRecord],
        topup_when_short: bool = True,
    ) -> TransactionRecord | None:
        """Present the citizen's card to a terminal: the real protocol, on the real card state.
        A card short of the fare sends its owner to top up (the fare itself is lost: the
        passenger pays cash or walks)."""
        pop = self.w.population
        self._short = False
        card = CardOS(CardState.from_image(pop.images[row]), tear_hook=self._tear_hook(row, tear))
        channel: TapChannel = SimChannel(card)
        if row in self._on_reader:
            assert self.reader is not None
            channel = self.reader.present(card)
        try:
            for attempt in range(TORN_ATTEMPTS_MAX):
                try:
                    return action(channel)
                except (TransactionTornError, CardRemovedError) as exc:
                    # The citizen taps again, as the terminal asks; the terminal resolves the torn
                    # transaction first. Once asked, the citizen keeps presenting the card while it
                    # loses contact (a second tear in one tap, found by the verify campaign).
                    torn_before = attempt > 0 or isinstance(exc, TransactionTornError)
                    if attempt == TORN_ATTEMPTS_MAX - 1 or not torn_before:
                        raise
                    self.metrics.torn += 1
                    channel.insert()
            raise AssertionError("unreachable: the last attempt returns or raises")
        except InsufficientBalanceError as exc:
            self.metrics.reject(_reason(exc))
            self._short = True
            if topup_when_short and not pop.recharging[row]:
                self.env.process(self._recharge(row))
            return None
        except CardTwinError as exc:
            self.metrics.reject(_reason(exc))
            return None
        finally:
            pop.images[row] = card.state.to_image()

    def _tear_hook(self, row: int, tear: Tear) -> TearHook | None:
        """The card's tear hook for one tap: the scenario's tear fault cuts the power on the
        committing command. (The verify campaign, `sim.verify.campaign`, overrides this to cut it at any
        APDU boundary of the tap.)"""
        if tear is Tear.NONE:
            return None
        return _OneTear(TearPhase.BEFORE_COMMIT if tear is Tear.BEFORE_COMMIT else TearPhase.AFTER_COMMIT)

    def _moment(self) -> datetime:
        """Now, to the card's second (`card_time`, which every terminal applies: the tap's
        record, log and MACs carry whole seconds), made once per second of the clock, not per
        tap. A fraction within a microsecond of the next second rounds up to it in a timedelta,
        so such a moment is made the long way, to stay the same second."""
        now = self.env.now
        second = int(now)
        if now - second >= 0.999999:
            return card_time(self._day_start + timedelta(seconds=now))
        if second != self._moment_s:
            self._moment_s, self._moment_at = second, self._day_start + timedelta(seconds=second)
        return self._moment_at

    def _since_board(self, row: int) -> float | None:
        last = self.w.population.last_board_s[row]
        return None if math.isnan(last) else self.env.now - float(last)

    def _charged(self, terminal: Terminal, sector: int, row: int, record: TransactionRecord | None) -> None:
        if record is None:
            return
        self.metrics.tap(sector, self.env.now, record)
        if terminal.kind.online:
            self._dirty[terminal.terminal_id] = terminal
        pop = self.w.population
        if record.balance_after_fen < pop.topup_threshold_fen[row] and not pop.recharging[row]:
            self.env.process(self._recharge(row))

    def _bus(self, row: int, route: int, pick: int, _c: int, tear: Tear) -> None:
        buses = self.w.fleet.buses_by_route[route]
        bus = buses[pick % len(buses)]
        if bus.down_at(self.env.now):
            self.metrics.reject("terminal_down")
            return
        pop = self.w.population
        fare = bus_fare_fen(
            self.w.rules,
            _CARD_TYPES[int(pop.card_type[row])],
            int(self.w.city.route_numbers[route]),
            bool(pop.has_pass[row]),
            self._since_board(row),
        )
        moment = self._moment()
        app = bus.purchase_app
        record = self._tap(row, tear, lambda ch: app.purchase(ch, fare, moment))
        bus.busy_s += self.s.service.bus_tap_s
        if record is not None:
            pop.last_board_s[row] = self.env.now
        self._charged(bus, 0, row, record)

    def _gate(self, station: int, pick: int) -> Terminal | None:
        """The gate the citizen walks to, or the next one along if it is out of service."""
        gates = self.w.fleet.gates_by_station[station]
        for k in range(len(gates)):
            gate = gates[(pick + k) % len(gates)]
            if not gate.down_at(self.env.now):
                return gate
        return None

    def _metro_entry(self, row: int, entry: int, exit_: int, pick: int, tear: Tear) -> None:
        exit_at = self._metro_exit_at.get(row)
        if exit_at is not None and exit_at >= self.env.now:
            # Still on an earlier metro trip: this one starts once that one has ended.
            self.env.process(
                self._later(exit_at + 1 - self.env.now, self._metro_entry, row, entry, exit_, pick, tear)
            )
            return
        gate = self._gate(entry, pick)
        if gate is None:
            self.metrics.reject("terminal_down")
            return
        station_id = int(self.w.city.station_ids[entry])
        since = self._since_board(row)
        moment = self._moment()
        app = gate.purchase_app
        record = self._tap(row, tear, lambda ch: app.composite_entry(ch, station_id, moment))
        gate.busy_s += self.s.service.gate_tap_s
        if record is None:
            return
        self.w.population.last_board_s[row] = self.env.now
        self._charged(gate, 1, row, record)
        hops = self.w.city.stations_between(station_id, int(self.w.city.station_ids[exit_]))
        ride_s = max(1, hops) * self.s.service.metro_ride_s_per_station
        self._metro_exit_at[row] = self.env.now + ride_s
        self.env.process(self._metro_exit(row, exit_, pick, since, ride_s))

    def _metro_exit(
        self, row: int, exit_: int, pick: int, since: float | None, ride_s: float
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(ride_s)
        self._exit_tap(row, exit_, pick, since, retry=True)
        self._metro_exit_at.pop(row, None)

    def _later(
        self, delay_s: float, action: Callable[..., None], *args: Any
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(delay_s)
        action(*args)

    def _exit_tap(self, row: int, exit_: int, pick: int, since: float | None, retry: bool) -> None:
        gate = self._gate(exit_, pick)
        if gate is None:
            self.metrics.reject("terminal_down")
            return
        card_type = _CARD_TYPES[int(self.w.population.card_type[row])]
        fare = metro_exit_fare(self.w.rules, card_type, self.w.city.stations_between, since)
        station_id = int(self.w.city.station_ids[exit_])
        moment = self._moment()
        app = gate.purchase_app
        record = self._tap(
            row,
            Tear.NONE,
            lambda ch: app.composite_exit(ch, station_id, moment, fare),
            topup_when_short=False,
        )
        gate.busy_s += self.s.service.gate_tap_s
        if record is None and retry and self._short:
            # Not enough to leave: the passenger tops up at the station, then taps out again.
            if not self.w.population.recharging[row]:
                self.env.process(
                    self._recharge(row, then=lambda: self._exit_tap(row, exit_, pick, since, retry=False))
                )
            return
        self._charged(gate, 1, row, record)

    def _taxi(self, row: int, pick: int, distance_m: int, _c: int, tear: Tear) -> None:
        taxis = self.w.fleet.by_kind[Kind.TAXI]
        taxi = taxis[pick % len(taxis)]
        if taxi.down_at(self.env.now):
            self.metrics.reject("terminal_down")
            return
        fare = taxi_fare_fen(self.w.rules, distance_m)
        moment = self._moment()
        app = taxi.purchase_app
        record = self._tap(row, tear, lambda ch: app.purchase(ch, fare, moment))
        taxi.busy_s += self.s.service.taxi_tap_s
        self._charged(taxi, 2, row, record)

    def _retail(self, row: int, merchant: int, amount_fen: int, _c: int, tear: Tear) -> None:
        pos = self.w.fleet.by_kind[Kind.POS][merchant]
        if pos.down_at(self.env.now):
            self.metrics.reject("terminal_down")
            return
        moment = self._moment()
        app = pos.purchase_app
        record = self._tap(row, tear, lambda ch: app.purchase(ch, amount_fen, moment))
        pos.busy_s += self.s.service.pos_tap_s
        self._charged(pos, 3, row, record)

    def _cashier(self, row: int, cashier: Terminal, amount_fen: int) -> TransactionRecord | None:
        """A medical visit's own payment by e-purse at the institution's cashier (`sim.services`):
        a purchase like a shop's; a short purse is paid in cash there (no top-up trip for it)."""
        if cashier.down_at(self.env.now):
            self.metrics.reject("terminal_down")
            return None
        moment = self._moment()
        app = cashier.purchase_app
        appended = app.journal.total_appended
        record = self._tap(row, Tear.NONE, lambda ch: app.purchase(ch, amount_fen, moment), False)
        if record is None and app.journal.total_appended > appended:
            # Torn on every presentation, yet the terminal recovered the debit's proof on the way:
            # the card paid. Counting it as cash would charge the citizen twice.
            last = app.journal.records()[-1]
            if last.amount_fen == amount_fen and self.w.row_of_asn(last.asn) == row:
                record = last
        cashier.busy_s += self.s.service.pos_tap_s
        self._charged(cashier, _MEDICAL_SECTOR, row, record)
        return record

    # -- recharge -------------------------------------------------------------------------

    def _recharge(
        self, row: int, then: Callable[[], None] | None = None
    ) -> Generator[simpy.Event, Any, None]:
        """Walk to a recharge point (or a window), queue, top up; try again later if the queue
        was too long or the load failed, at most RECHARGE_ATTEMPTS_MAX times. The citizen's
        choices and service times come from a stream keyed by citizen and trip."""
        pop = self.w.population
        pop.recharging[row] = True
        self.metrics.recharge_trips += 1
        trip = self._recharge_count.get(row, 0)
        self._recharge_count[row] = trip + 1
        rng = keyed(self.s.run.seed, "recharge", int(pop.index[row]), trip)
        loaded = False
        try:
            for _attempt in range(RECHARGE_ATTEMPTS_MAX):
                yield self.env.timeout(self.s.service.walk_to_recharge_s)
                window = bool(pop.prefers_window[row])
                point, terminals = self._choose_point(row, window, rng.random())
                mean_s = self.s.service.window_service_s if window else self.s.service.kiosk_service_s
                service_s = rng.expovariate(1.0 / mean_s)
                tear = Tear.NONE
                if rng.random() < self.s.faults.tear_probability:
                    tear = Tear.BEFORE_COMMIT if rng.random() < 0.5 else Tear.AFTER_COMMIT
                outcome: list[bool] = []

                def serve(
                    position: int,
                    terminals: list[Terminal] = terminals,
                    window: bool = window,
                    outcome: list[bool] = outcome,
                    tear: Tear = tear,
                    service_s: float = service_s,
                ) -> None:
                    outcome.append(self._load(row, terminals[position], window, tear, service_s))

                def service_time_s(_position: int, service_s: float = service_s) -> float:
                    return service_s

                yield self.env.process(point.visit(service_time_s, serve))
                if outcome and outcome[0]:
                    loaded = True
                    break
                yield self.env.timeout(RECHARGE_RETRY_S)
            if not loaded:
                self.metrics.recharge_gave_up += 1
        finally:
            pop.recharging[row] = False
        if then is not None:
            then()

    def _choose_point(self, row: int, window: bool, u: float) -> tuple[ServicePoint, list[Terminal]]:
        points = self.window_points if window else self.kiosk_points
        near = self._near[window].get(int(self.w.population.home[row])) or points
        return near[int(u * len(near))]

    def _load(self, row: int, terminal: Terminal, window: bool, tear: Tear, service_s: float) -> bool:
        if terminal.down_at(self.env.now):
            self.metrics.reject("terminal_down")
            return False
        pop = self.w.population
        state = CardState.from_image(pop.images[row])
        amount = min(int(pop.topup_amount_fen[row]), state.max_balance_fen - state.ep_balance_fen)
        if amount <= 0:
            return True
        moment = self._moment()
        app = terminal.load_app
        record = self._tap(row, tear, lambda ch: app.load(ch, amount, moment))
        terminal.busy_s += service_s
        if record is None:
            return False
        self.metrics.tap(_WINDOW_SECTOR if window else _KIOSK_SECTOR, self.env.now, record)
        self._dirty[terminal.terminal_id] = terminal
        return True

    # -- uploads ----------------------------------------------------------------------------

    def _send(self, terminal: Terminal, measured: bool = True) -> None:
        """Upload the terminal's journal as it holds it (the upload format's records): the
        records are read for the day's tallies field by field, never rebuilt."""
        wire = terminal.app.journal.drain_wire()
        if not wire:
            return
        tid = terminal.terminal_id
        seq = self._sequence.get(tid, 0)
        self._sequence[tid] = seq + 1
        arrived_s = self.env.now + (self.s.service.upload_delay_s if terminal.kind.online else 0.0)
        batch = Batch(tid, seq, wire, arrived_s)
        delays_s = []
        row_of_asn, add = self.w.row_of_asn, self.sent.add_fields
        for asn, counter, amount, tx_type, _terminal, _serial, when in RECORD_HEAD.iter_unpack(wire):
            add(row_of_asn(asn), tx_type, amount, counter)
            delays_s.append(arrived_s - self._day_s_of(when))
        if measured:
            self.metrics.upload(delays_s)
        self.sent_records += batch.count
        self.metrics.batches += 1
        terminal.batches_sent += 1
        self.clearing.receive(batch)
        if self._rng.random() < self.s.faults.duplicate_upload_probability:
            # The terminal did not see the acknowledgement and sends the same batch again.
            self.metrics.duplicate_batches += 1
            self.clearing.receive(batch)

    def _day_s_of(self, date_time: bytes) -> float:
        """Seconds from the day's start to a record's BCD date and time (today's by its time
        of day; another day's, a record held over, the long way)."""
        if date_time[:4] == self._day_bcd:
            h, m, s = date_time[4], date_time[5], date_time[6]
            return float(
                (((h >> 4) * 10 + (h & 15)) * 60 + (m >> 4) * 10 + (m & 15)) * 60 + (s >> 4) * 10 + (s & 15)
            )
        return (decode_datetime(date_time, "uploaded record") - self._day_start).total_seconds()

    def _upload_online(self) -> None:
        dirty, self._dirty = self._dirty, {}
        for terminal in dirty.values():
            self._send(terminal)

    def _online_uploads(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(ONLINE_SWEEP_S)
            self._upload_online()

    def _depot_uploads(self) -> Generator[simpy.Event, Any, None]:
        """Buses and taxis upload at the depot after their shift, in arrival order."""
        offline = [t for kind in (Kind.BUS, Kind.TAXI) for t in self.w.fleet.by_kind[kind]]
        arrive = self.s.service.bus_depot_h * 3600 + self._rng.uniform(0, DEPOT_SPREAD_S, len(offline))
        late = self._rng.random(len(offline)) < self.s.faults.late_upload_probability
        for i in np.argsort(arrive, kind="stable").tolist():
            at = min(float(arrive[i]), DAY_S - 1)
            if at > self.env.now:
                yield self.env.timeout(at - self.env.now)
            if late[i]:
                # Missed the cut-off: the records stay in the terminal until the next upload.
                held = len(offline[i].app.journal)
                if held:
                    self.metrics.late_batches += 1
                    self.metrics.late_records += held
                continue
            self._send(offline[i])
