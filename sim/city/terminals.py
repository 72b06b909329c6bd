"""The terminal fleet: bus validators, metro gates, taxi terminals, merchant POS, recharge kiosks,
service windows and, with `[services]`, the cashier terminals of the medical institutions
(hospitals and pharmacies: the citizen's own payment by e-purse), each running the real
terminal application with its own PSAM.

A `Terminal` wraps one application with what the simulation knows about it in time: where it
is, how long it was busy, when it is out of service, how many batches it sent. Counts come from
the scenario, scaled by the sample; a shard gets its own replica of the fleet, told apart by
the shard byte of the terminal ID, so PSAM serials never collide between shards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import cast

import numpy as np

from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.backoffice import LoadHost
from model.security import IssuerKeys, IssuerKeyStore, KeyUsage
from model.terminal import LoadTerminal, PurchaseTerminal
from scenarios.schema import Scenario
from sim.city.graph import City, scaled
from sim.rng import stream

CITY_CODE = bytes.fromhex("3301")
TERMINALS_PER_KIND_MAX = 0xFFFF  # two bytes of the terminal ID


class Kind(IntEnum):
    """Terminal kinds; the value is the third byte of the terminal ID."""

    BUS = 1
    GATE = 2
    TAXI = 3
    POS = 4
    KIOSK = 5
    WINDOW = 6
    MEDICAL = 7  # a hospital's or pharmacy's cashier: the own payment of a medical visit

    @property
    def sector(self) -> str:
        return _SECTORS[self]

    @property
    def loads(self) -> bool:
        """Recharge kiosks and service windows load cards; every other kind charges them."""
        return self in (Kind.KIOSK, Kind.WINDOW)

    @property
    def online(self) -> bool:
        """Online terminals send records at once; buses and taxis upload at the depot."""
        return self not in (Kind.BUS, Kind.TAXI)


_SECTORS = {
    Kind.BUS: "bus",
    Kind.GATE: "metro",
    Kind.TAXI: "taxi",
    Kind.POS: "retail",
    Kind.KIOSK: "load_kiosk",
    Kind.WINDOW: "load_window",
    Kind.MEDICAL: "medical",
}
SECTORS = tuple(_SECTORS[k] for k in Kind)


def terminal_id(kind: Kind, shard: int, number: int) -> bytes:
    assert 0 <= number <= TERMINALS_PER_KIND_MAX and 0 <= shard <= 0xFF
    return CITY_CODE + bytes((kind, shard)) + number.to_bytes(2, "big")


def kind_of(terminal: bytes) -> Kind:
    return Kind(terminal[2])


def terminal_number(terminal: bytes) -> int:
    return int.from_bytes(terminal[4:6], "big")


ISSUANCE_NUMBER = TERMINALS_PER_KIND_MAX  # the issuance window: the last window number


@dataclass(slots=True)
class Terminal:
    kind: Kind
    app: PurchaseTerminal | LoadTerminal
    district: int
    place: int = -1  # bus route index or station index
    busy_s: float = 0.0
    down_from_s: float = float("inf")
    down_to_s: float = float("inf")
    batches_sent: int = 0

    @property
    def terminal_id(self) -> bytes:
        return self.app.terminal_id

    @property
    def purchase_app(self) -> PurchaseTerminal:
        """The application of a terminal that takes money off cards (bus, gate, taxi, POS, medical)."""
        # By kind, not isinstance: a fault injector (verify's clock skew) may stand in for the
        # application with a proxy that behaves as it does.
        assert not self.kind.loads, f"{self.kind.name}: not a purchase terminal"
        return cast(PurchaseTerminal, self.app)

    @property
    def load_app(self) -> LoadTerminal:
        """The application of a terminal that loads cards (recharge kiosk, service window)."""
        assert self.kind.loads, f"{self.kind.name}: not a load terminal"
        return cast(LoadTerminal, self.app)

    def down_at(self, t_s: float) -> bool:
        return self.down_from_s <= t_s < self.down_to_s


@dataclass(slots=True)
class Fleet:
    by_kind: dict[Kind, list[Terminal]] = field(default_factory=dict)
    gates_by_station: list[list[Terminal]] = field(default_factory=list)
    buses_by_route: list[list[Terminal]] = field(default_factory=list)

    def all(self) -> list[Terminal]:
        return [t for kind in Kind for t in self.by_kind.get(kind, [])]


def build_fleet(scenario: Scenario, city: City, keys: IssuerKeys, host: LoadHost, shard: int = 0) -> Fleet:
    c = scenario.city
    sample = scenario.run.sample
    rng = stream(scenario.run.seed, "fleet")
    psam_keys = IssuerKeyStore(keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))

    def purchase(kind: Kind, number: int) -> PurchaseTerminal:
        tid = terminal_id(kind, shard, number)
        return PurchaseTerminal(SimChannel(Psam(tid, psam_keys)))

    fleet = Fleet()
    routes = len(city.route_numbers)
    buses = max(scaled(c.buses, sample), routes)
    # Every route has at least one bus; the rest go round-robin.
    fleet.by_kind[Kind.BUS] = [
        Terminal(Kind.BUS, purchase(Kind.BUS, i), -1, i % routes) for i in range(buses)
    ]
    fleet.buses_by_route = [fleet.by_kind[Kind.BUS][r::routes] for r in range(routes)]
    gates: list[Terminal] = []
    per_station = scaled(c.gates_per_station * city.stations, sample) if city.stations else 0
    per_station = max(1, -(-per_station // max(1, city.stations))) if city.stations else 0
    for s in range(city.stations):
        row = [
            Terminal(Kind.GATE, purchase(Kind.GATE, len(gates) + g), int(city.station_district[s]), s)
            for g in range(per_station)
        ]
        gates.extend(row)
        fleet.gates_by_station.append(row)
    fleet.by_kind[Kind.GATE] = gates
    fleet.by_kind[Kind.TAXI] = [
        Terminal(Kind.TAXI, purchase(Kind.TAXI, i), int(rng.integers(city.districts)))
        for i in range(scaled(c.taxis, sample))
    ]
    fleet.by_kind[Kind.POS] = [
        Terminal(Kind.POS, purchase(Kind.POS, i), int(d), i) for i, d in enumerate(city.merchant_district)
    ]
    kiosks = c.kiosks_per_recharge_point
    fleet.by_kind[Kind.KIOSK] = [
        Terminal(Kind.KIOSK, LoadTerminal(terminal_id(Kind.KIOSK, shard, i * kiosks + k), host), int(d), i)
        for i, d in enumerate(city.recharge_district)
        for k in range(kiosks)
    ]
    fleet.by_kind[Kind.WINDOW] = [
        Terminal(Kind.WINDOW, LoadTerminal(terminal_id(Kind.WINDOW, shard, i), host), int(d), i)
        for i, d in enumerate(city.window_district)
    ]
    # One cashier terminal per institution (not scaled: a visit names its institution, and a
    # sampled day still visits most of the 175); none without [services].
    institutions = scenario.services.medical.institutions if scenario.services is not None else 0
    fleet.by_kind[Kind.MEDICAL] = [
        Terminal(Kind.MEDICAL, purchase(Kind.MEDICAL, i), i % city.districts, i) for i in range(institutions)
    ]
    for kind, terminals in fleet.by_kind.items():
        if len(terminals) > TERMINALS_PER_KIND_MAX:
            raise ValueError(f"{len(terminals)} {kind.name} terminals exceed {TERMINALS_PER_KIND_MAX}")
    _schedule_outages(scenario, fleet)
    return fleet


def _schedule_outages(scenario: Scenario, fleet: Fleet) -> None:
    """Faults: a terminal may be out of service for one stretch of the day. Drawn per terminal
    from its own stream, so a terminal's outage does not depend on the fleet's size."""
    f = scenario.faults
    if f.terminal_outage_probability <= 0:
        return
    d = scenario.demand
    for t in fleet.all():
        rng = stream(scenario.run.seed, f"outage/{t.terminal_id[2:3].hex()}/{t.terminal_id[4:].hex()}")
        if rng.random() < f.terminal_outage_probability:
            start = rng.uniform(d.service_start_h * 3600, d.service_end_h * 3600)
            t.down_from_s, t.down_to_s = start, start + f.outage_duration_s


def utilisation(terminals: list[Terminal], open_s: float) -> np.ndarray:
    return np.array([t.busy_s / open_s for t in terminals]) if terminals else np.zeros(0)
