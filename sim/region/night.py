"""The region's nights and mornings: upload, route, ingest, interchange, settle, cross-settle.

Night N (day + N): each house that is up takes its terminals' uploads (a house that is down
leaves them in the terminals), routes the visiting cards' records out and ingests the rest;
then every file an outbox has not had acknowledged goes to its issuer's house (new ones first
closed), through a transport that the faults may make lose, delay or repeat a file or an
acknowledgement, or find the receiving house down. Morning N+1: each house that is up
settles T+1 and sends each partner its advice; advices are sent again every morning until the
day's run ends (applying one twice is a no-op), as files are until acknowledged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from model.backoffice.interchange_wire import InterchangeError
from model.records import NO_PSAM, TransactionRecord, write_batch
from model.terminal.acceptor import CardAcceptor
from sim.region.world import City

NIGHTS_MAX = 7


@dataclass(frozen=True, slots=True)
class Faults:
    """Interchange faults of one run (all off: a clean night)."""

    lost_night: int | None = None  # every file's first delivery that night is lost (resent later)
    late_night: int | None = None  # that night's files arrive one night late, after their resend
    duplicated: bool = False  # every file and advice is delivered twice
    ack_lost_night: int | None = None  # that night's acknowledgements never reach the sender
    house_down: str | None = None  # this city's house is down on night 0 and the morning after


def fault_plan(
    lost: bool, ack_lost: bool, late: bool, duplicated: bool, house_down: str | None
) -> tuple[Faults, int]:
    """The faults on nights of their own (a house down masks all of night 0's traffic; a loss
    comes before the late night, so its resends are what arrives late), and the nights to run:
    two clean ones after the last fault, so everything resent can arrive and settle."""
    night = 1 if house_down else 0
    lost_night = ack_night = late_night = None
    if lost or ack_lost:
        lost_night, ack_night = (night if lost else None), (night if ack_lost else None)
        night += 1
    if late:
        late_night, night = night, night + 1
    return Faults(lost_night, late_night, duplicated, ack_night, house_down), night + 2


@dataclass(slots=True)
class Traffic:
    """What crossed between the houses, counted by the transport."""

    files: Counter[str] = field(default_factory=Counter)  # sent, lost, late, duplicated, refused-down
    advices: Counter[str] = field(default_factory=Counter)
    made: list[TransactionRecord] = field(default_factory=list)  # every record the terminals uploaded


def _terminals(city: City) -> list[tuple[CardAcceptor, bytes]]:
    out: list[tuple[CardAcceptor, bytes]] = [(city.kiosk, NO_PSAM)]
    for bus in city.buses:
        out += [(slot, slot.terminal_id) for slot in bus.slots()]
    return out


def upload(city: City, day: date, traffic: Traffic) -> None:
    """Every terminal's journal as one batch, routed, the local part ingested."""
    files: list[tuple[str, bytes]] = []
    created = datetime.combine(day, time(23, 0))
    for terminal, psam in _terminals(city):
        records = terminal.journal.drain()
        if not records:
            continue
        traffic.made += records
        seq = city.batch_seqs.get(terminal.terminal_id, 0) + 1
        city.batch_seqs[terminal.terminal_id] = seq
        name = f"{terminal.terminal_id.hex()}-{seq:06d}.ctb"
        routed = city.outbox.route(write_batch(terminal.terminal_id, psam, seq, created, records), name)
        if routed.local is not None:
            files.append((name, routed.local))
    city.office.clearing.ingest_files(files, day)


def _deliver(src: City, dst: City, raw: bytes, name: str, day: date, ack_lost: bool) -> None:
    ack = dst.inbox.receive(raw, name, day)
    if not ack_lost:
        src.outbox.apply_ack(ack, f"ack of {name}")


def exchange(
    cities: list[City],
    day: date,
    night: int,
    faults: Faults,
    late: list[tuple[City, City, bytes]],
    traffic: Traffic,
) -> None:
    """Close and send every unacknowledged file; deliver what was late from the night before."""
    up = {c.spec.name for c in cities if not (faults.house_down == c.spec.name and night == 0)}
    for src, dst, raw in late:
        for _ in range(2 if faults.duplicated else 1):
            _deliver(src, dst, raw, "late file", day, False)
        traffic.files["late-arrived"] += 1
        traffic.files["duplicated"] += 1 if faults.duplicated else 0
    late.clear()
    for src in cities:
        for dst in cities:
            if src is dst or src.spec.name not in up:
                continue
            src.outbox.close_file(dst.code, day)
            for n, raw in enumerate(src.outbox.unacked(dst.code)):
                name = f"ix-{src.code.hex()}-{dst.code.hex()}-n{night}-{n}"
                traffic.files["sent"] += 1
                if dst.spec.name not in up:
                    traffic.files["receiver-down"] += 1
                elif faults.lost_night == night:
                    traffic.files["lost"] += 1
                elif faults.late_night == night:
                    late.append((src, dst, raw))
                    traffic.files["late"] += 1
                else:
                    ack_lost = faults.ack_lost_night == night
                    for _ in range(2 if faults.duplicated else 1):
                        _deliver(src, dst, raw, name, day, ack_lost)
                    traffic.files["duplicated"] += 1 if faults.duplicated else 0
                    traffic.files["ack-lost"] += 1 if ack_lost else 0


def settle(
    cities: list[City],
    business_day: date,
    night: int,
    faults: Faults,
    advices: list[tuple[City, City, bytes]],
    traffic: Traffic,
) -> None:
    """Each house that is up settles T+1; each advice (new and old) goes to its acquirer."""
    down = faults.house_down if night == 0 else None
    for city in cities:
        if city.spec.name == down:
            continue
        report = city.office.settlement.run(business_day)
        advices += [
            (city, other, city.inbox.advice(report, other.code)) for other in cities if other is not city
        ]
    for src, dst, raw in advices:
        if down in (src.spec.name, dst.spec.name):
            traffic.advices["receiver-down"] += 1
            continue
        for _ in range(2 if faults.duplicated else 1):
            try:
                dst.outbox.apply_advice(raw, f"advice {src.spec.name}->{dst.spec.name}", dst.fees)
            except InterchangeError:
                traffic.advices["refused"] += 1
                raise
        traffic.advices["delivered"] += 1
        traffic.advices["duplicated"] += 1 if faults.duplicated else 0


def run_nights(cities: list[City], day: date, faults: Faults, nights: int) -> Traffic:
    """The night of `day` and `nights - 1` more (no taps), each followed by its settlement."""
    assert 1 <= nights <= NIGHTS_MAX
    traffic = Traffic()
    late: list[tuple[City, City, bytes]] = []
    advices: list[tuple[City, City, bytes]] = []
    for night in range(nights):
        today = day + timedelta(days=night)
        for city in cities:
            if not (faults.house_down == city.spec.name and night == 0):
                upload(city, today, traffic)
        exchange(cities, today, night, faults, late, traffic)
        settle(cities, today + timedelta(days=1), night, faults, advices, traffic)
    return traffic
