"""The faulty day of the verify campaign: the twin's real day (`sim.day.twin.CityDay`) with faults
injected where they happen in the field: a tear at any APDU of a tap, and, between terminal and
clearing house, uploads that arrive late, twice, out of order or corrupted, or edited by a
dishonest terminal operator after it sent them (`FaultyPort`), and
lost-card reports that reach terminals hours after the operator hears of them.

The campaign (`sim.verify.campaign`) owns the period, the clearing database and the checks; this
module only decides, from the seed's named streams, what goes wrong on one day, and writes down
what really happened in the seed's `GroundTruth`, which the campaign hands it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from devices.card_os import TearHook, TearPhase
from devices.card_state import CardState
from model.backoffice import record_key
from model.records import RECORD_SIZE, TransactionRecord, encode_record, write_batch
from sim.city import Kind, Tear, Terminal, World
from sim.day import DAY_S, Batch, BatchCollector, CityDay, default_port
from sim.rng import stream
from sim.verify.injectors import AnyTear

TEAR_PER_TAP = 0.02
LATE_PER_BATCH = 0.03
DUPLICATE_PER_BATCH = 0.05
REORDER_PER_BATCH = 0.1
CORRUPT_PER_BATCH = 0.03
DISHONEST_PER_BATCH = 0.08
DISHONEST_DELAY_S = (600.0, 7200.0)  # after the genuine upload: the operator edits what it sent
DISHONEST_KINDS = ("re-encoded-counter", "replay-fresh-crc", "forged-no-proof", "raised-amount")
HOTLISTED_PER_DAY = 3
HOTLIST_DELAY_S_MAX = 6 * 3600
REORDER_S_MAX = 3 * 3600


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """The seed's ground truth, written down as the period runs and never shown to the back
    office: the faults injected by class (by the injectors, the faulty days and the nights),
    every record a card made and a terminal sent (by record key), the cards reported lost (when:
    the back office lists each at once) and when each purchase terminal received the list naming
    a card. The campaign builds it for its seed and fault classes, which decide every draw; the
    checks hold the clearing house's books against it."""

    seed: int
    faults: frozenset[str]
    injected: Counter[str] = field(default_factory=Counter)
    genuine: dict[bytes, TransactionRecord] = field(default_factory=dict)
    hotlisted: dict[bytes, datetime] = field(default_factory=dict)  # card -> reported (= effective)
    # (terminal, card) -> when the terminal received the list naming the card
    hotlist_at: dict[tuple[bytes, bytes], datetime] = field(default_factory=dict)
    # the bytes of every record a dishonest terminal made up (no card made them)
    dishonest: set[bytes] = field(default_factory=set)


# -- the faulty port: what happens to uploads between terminal and clearing house -------------


@dataclass(slots=True)
class Transit:
    """One upload on its way: absolute arrival time over the period, the bytes, and the genuine
    records the terminal sent (a corrupted copy carries the records it was meant to carry)."""

    at_s: float
    order: int
    name: str
    raw: bytes
    keys: tuple[bytes, ...]


class FaultyPort(BatchCollector):
    """The back-office clearing port with the network between: uploads late, twice, out of
    order or corrupted. Kept for the whole period (its batch tally is cumulative)."""

    def __init__(self, world: World, truth: GroundTruth) -> None:
        psam_of = cast(BatchCollector, default_port(world)).psam_of
        super().__init__(world.shard, world.day_start, psam_of)
        self.truth = truth
        self._rng = stream(truth.seed, "verify/upload")
        self.transit: list[Transit] = []
        self._order = 0
        self.day_offset_s = 0.0

    def receive(self, batch: Batch) -> None:
        super().receive(batch)
        upload = self.uploads.pop()
        keys = tuple(record_key(r.asn, r.tx_type, r.counter) for r in batch.records)
        for r, k in zip(batch.records, keys, strict=True):
            known = self.truth.genuine.get(k)
            assert known is None or known == r, f"record {k.hex()} made twice with different content"
            self.truth.genuine[k] = r
        at = self.day_offset_s + upload.arrived_s
        on = self.truth.faults
        injected = self.truth.injected
        rng = self._rng
        if "upload-late" in on and rng.random() < LATE_PER_BATCH:
            injected["upload-late"] += 1
            at += DAY_S
        if "upload-reorder" in on and rng.random() < REORDER_PER_BATCH:
            injected["upload-reorder"] += 1
            at = max(0.0, at + rng.uniform(-REORDER_S_MAX, REORDER_S_MAX))
        raw = upload.raw
        if "upload-corrupt" in on and rng.random() < CORRUPT_PER_BATCH:
            injected["upload-corrupt"] += 1
            if rng.random() < 0.5 and len(raw) > RECORD_SIZE:
                bad = raw[: len(raw) - int(rng.integers(1, RECORD_SIZE))]
            else:
                flipped = bytearray(raw)
                flipped[int(rng.integers(len(raw)))] ^= 1 << int(rng.integers(8))
                bad = bytes(flipped)
            self._add(at, upload.name + "-corrupt", bad, keys)
            at += float(rng.uniform(60, 3600))  # the terminal sees the NAK and sends it again
        self._add(at, upload.name, raw, keys)
        if "upload-duplicate" in on and rng.random() < DUPLICATE_PER_BATCH:
            injected["upload-duplicate"] += 1
            self._add(at + float(rng.uniform(1, 7200)), upload.name + "-again", raw, keys)
        if "terminal-dishonest" in on and rng.random() < DISHONEST_PER_BATCH:
            self._dishonest(batch, at + float(rng.uniform(*DISHONEST_DELAY_S)), upload.name)

    def _dishonest(self, batch: Batch, at: float, name: str) -> None:
        """The operator's edited copy of an upload it sent: one of DISHONEST_KINDS, the batch
        file rewritten whole (header totals and every CRC recomputed, as the format allows)."""
        purchases = [r for r in batch.records if not r.tx_type.is_load]
        if not purchases:
            return
        rng = self._rng
        kind = DISHONEST_KINDS[int(rng.integers(len(DISHONEST_KINDS)))]
        victim = purchases[int(rng.integers(len(purchases)))]
        if kind == "re-encoded-counter":
            records = [replace(victim, counter=(victim.counter + 1) % 0x10000)]
        elif kind == "replay-fresh-crc":
            records = list(purchases)
        elif kind == "forged-no-proof":
            # The card's next counter at the PSAM's next serial, before the real one arrives.
            serial = max(r.terminal_serial for r in purchases) + 1
            records = [
                replace(victim, counter=(victim.counter + 1) % 0x10000, terminal_serial=serial, tac=b"")
            ]
        else:
            raised = victim.amount_fen + 100
            records = [
                replace(victim, amount_fen=raised, balance_after_fen=victim.balance_before_fen - raised)
            ]
        if kind != "replay-fresh-crc":
            self.truth.dishonest.update(encode_record(r) for r in records)
        self.truth.injected["terminal-dishonest"] += 1
        created = self.day_start + timedelta(seconds=batch.sent_s + 1)
        raw = write_batch(
            batch.terminal_id, self.psam_of(batch.terminal_id), batch.sequence + 1, created, records
        )
        self._add(at, f"{name}-{kind}", raw, ())

    def _add(self, at: float, name: str, raw: bytes, keys: tuple[bytes, ...]) -> None:
        self.transit.append(Transit(at, self._order, name, raw, keys))
        self._order += 1


# -- the faulty day ---------------------------------------------------------------------------


class FaultyDay(CityDay):
    """A city day with the campaign's faults; state that spans days is handed over by `carry`."""

    def __init__(
        self, world: World, port: FaultyPort, truth: GroundTruth, day_index: int, carry: FaultyDay | None
    ) -> None:
        super().__init__(world, port)
        self.truth = truth
        self.day_index = day_index
        self._tear_rng = stream(truth.seed, "verify/tear", day_index)
        if carry is not None:
            # One period, many days: the records sent and batch numbers carry over.
            self.sent, self.sent_records = carry.sent, carry.sent_records
            self._sequence = carry._sequence
            self._recharge_count = carry._recharge_count
        if "hotlist-delay" in truth.faults:
            self.env.process(self._hotlist_propagation())

    def _tear_hook(self, row: int, tear: Tear) -> TearHook | None:
        hook = super()._tear_hook(row, tear)
        if hook is not None or "card-tear" not in self.truth.faults:
            return hook
        if self._tear_rng.random() >= TEAR_PER_TAP:
            return None
        phase = TearPhase.BEFORE_COMMIT if self._tear_rng.random() < 0.5 else TearPhase.AFTER_COMMIT
        return AnyTear(int(self._tear_rng.integers(8)), phase, self.truth.injected)

    def _hotlist_propagation(self) -> Any:
        """Citizens lose cards during the day; the back office lists each at once (effective at
        the report), and every purchase terminal receives the list after its own delay."""
        rng = stream(self.truth.seed, "verify/hotlist", self.day_index)
        pop = self.w.population
        d = self.s.demand
        events: list[tuple[float, int, bytes]] = []
        purchase = [t for t in self.w.fleet.all() if t.kind not in (Kind.KIOSK, Kind.WINDOW)]
        for _ in range(HOTLISTED_PER_DAY):
            row = int(rng.integers(len(pop)))
            asn = CardState.from_image(pop.images[row]).asn
            if asn in self.truth.hotlisted:
                continue
            reported_s = float(rng.uniform(d.service_start_h * 3600, d.service_end_h * 3600))
            reported = self.w.day_start + timedelta(seconds=reported_s)
            self.truth.hotlisted[asn] = reported
            self.truth.injected["hotlist-delay"] += 1
            for n in range(len(purchase)):
                events.append((reported_s + float(rng.uniform(0, HOTLIST_DELAY_S_MAX)), n, asn))
        for at, n, asn in sorted(events):
            if at >= DAY_S:
                continue  # past midnight: lost with the day (this terminal never hears of the card)
            if at > self.env.now:
                yield self.env.timeout(at - self.env.now)
            self._receive_hotlist(purchase[n], asn, self.w.day_start + timedelta(seconds=at))

    def _receive_hotlist(self, terminal: Terminal, asn: bytes, at: datetime) -> None:
        app: Any = terminal.app
        app.hotlist.add(asn)
        self.truth.hotlist_at[(terminal.terminal_id, asn)] = at
