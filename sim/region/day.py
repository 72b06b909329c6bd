"""The region's day of taps: residents ride at home, commuters at home and in the other city.

Time-ordered events over one day, each run through the real code: the morning top-up at the
home kiosk (LoadTerminal through the issuer's load host), bus taps (the bus picks its home or
interoperable PSAM by the card's issuer), a card losing power at the committing command and
presented again (the terminal resolves it from the card's log), cards reported lost at noon
(their issuer's house lists them at once; its own buses receive the list after
`hotlist_local_delay_h`, the other city's after `hotlist_interchange_delay_h` more) and ridden
on by whoever found them. Randomness: one stream named by the scenario's seed.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from devices.card_os import CardOS, TearHook, TearPhase
from devices.sim_channel import SimChannel
from model.errors import CardBlockedError, HotlistedCardError, InsufficientBalanceError, TransactionTornError
from scenarios.region_schema import RegionScenario
from sim.region.world import Bus, City, issue_cards

NOON_MIN = 12 * 60
EVENTS_MAX = 200_000


@dataclass(slots=True)
class DayTally:
    """What the day did, by city where it happened and the card's home."""

    taps: Counter[tuple[str, str]] = field(default_factory=Counter)  # (where, card's city) -> taps
    refused: Counter[str] = field(default_factory=Counter)  # reason -> taps refused
    torn: int = 0
    loads: int = 0


@dataclass(frozen=True, slots=True)
class _Event:
    minute: float
    order: int
    kind: str  # "load", "tap", "lost", "list"
    city: int  # where it happens
    asn: bytes = b""


def _rides(rng: random.Random, home: int, other: int, commuter: bool) -> list[tuple[float, int]]:
    if not commuter:
        return [(rng.uniform(420, 540), home), (rng.uniform(1020, 1140), home)]
    out = rng.uniform(390, 450)
    back = rng.uniform(990, 1050)
    return [
        (out, home),
        (out + rng.uniform(60, 90), other),
        (back, other),
        (back + rng.uniform(60, 90), home),
    ]


def plan_day(s: RegionScenario, cities: list[City], rng: random.Random) -> list[_Event]:
    """Cards issued and the day's events, in time order."""
    events: list[_Event] = []
    for c, city in enumerate(cities):
        other = 1 - c
        spec = city.spec
        residents = issue_cards(city, spec.residents, 1, s.day)
        commuters = issue_cards(city, spec.commuters, 1 + spec.residents, s.day)
        lost = set(commuters[: spec.lost_cards]) | set(residents[: max(0, spec.lost_cards - len(commuters))])
        for asn in residents + commuters:
            events.append(_Event(rng.uniform(330, 380), len(events), "load", c, asn))
            for minute, where in _rides(rng, c, other, asn in set(commuters)):
                events.append(_Event(minute, len(events), "tap", where, asn))
            if asn in lost:  # the finder rides once more in the early afternoon, at home
                events.append(_Event(NOON_MIN + rng.uniform(30, 120), len(events), "tap", c, asn))
                events.append(_Event(NOON_MIN, len(events), "lost", c, asn))
                events.append(_Event(NOON_MIN + 60 * s.hotlist_local_delay_h, len(events), "list", c, asn))
                delay_h = s.hotlist_local_delay_h + s.hotlist_interchange_delay_h
                events.append(_Event(NOON_MIN + 60 * delay_h, len(events), "list", other, asn))
    assert len(events) <= EVENTS_MAX, "a region day is bounded"
    return sorted(events, key=lambda e: (e.minute, e.order))


def _tear_hook(phase: TearPhase) -> TearHook:
    fired = [False]

    def hook(raw: bytes, at: TearPhase) -> bool:
        if fired[0] or at is not phase or raw[1] != 0x54:  # DEBIT FOR PURCHASE
            return False
        fired[0] = True
        return True

    return hook


def _tap(
    bus: Bus, card: CardOS, fare_fen: int, moment: datetime, tear: TearPhase | None, tally: DayTally
) -> None:
    channel = SimChannel(card)
    if tear is not None:
        card.tear_hook = _tear_hook(tear)
    try:
        slot = bus.slot(channel)
        try:
            slot.purchase(channel, fare_fen, moment)
        except TransactionTornError:
            tally.torn += 1
            card.tear_hook = None
            channel.insert()  # presented again: the terminal resolves the torn debit first
            slot.purchase(channel, fare_fen, moment + timedelta(seconds=3))
    except HotlistedCardError:
        tally.refused["hotlisted"] += 1
    except CardBlockedError:
        tally.refused["blocked"] += 1  # blocked by an earlier terminal that had the list
    except InsufficientBalanceError:
        tally.refused["insufficient_balance"] += 1
    finally:
        card.tear_hook = None


def run_day(s: RegionScenario, cities: list[City]) -> DayTally:
    rng = random.Random(f"region-day:{s.seed}")
    tally = DayTally()
    events = plan_day(s, cities, rng)
    owner = {asn: n for n, city in enumerate(cities) for asn in city.cards}
    midnight = datetime.combine(s.day, time())
    for event in events:
        city = cities[event.city]
        home = cities[owner[event.asn]]
        card = home.cards[event.asn]
        moment = midnight + timedelta(minutes=event.minute)
        if event.kind == "load":
            city.kiosk.load(SimChannel(card), city.spec.load_fen, moment)
            tally.loads += 1
        elif event.kind == "lost":
            with city.office.ledger.transaction():
                city.office.hotlist.add(event.asn, moment, moment)
        elif event.kind == "list":
            for bus in city.buses:
                bus.hotlist.add(event.asn)
        else:
            tear = None
            if rng.random() < s.tear_share:
                tear = rng.choice((TearPhase.BEFORE_COMMIT, TearPhase.AFTER_COMMIT))
            bus = rng.choice(city.buses)
            _tap(bus, card, city.spec.bus_fare_fen, moment, tear, tally)
            tally.taps[(city.spec.name, home.spec.name)] += 1
    return tally
