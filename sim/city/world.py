"""The world of one run (or one shard of it): city, issuer, population, fleet, banks, host.

Everything here is built deterministically from the scenario and the seed. The world owns the
state; the day (`sim.day.twin`) moves it through time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

import numpy as np

from model.backoffice import Bank, LoadHost, Participant, Registry, Sector, TerminalEntry
from model.records import NO_PSAM
from model.security import IssuerKeys, IssuerKeyStore, generate_issuer_keys
from model.terminal import FareRules
from scenarios.schema import Scenario
from sim.city.banks import CityFunding, bank_of_point, load_participant
from sim.city.demand import Taps, draw_demand
from sim.city.graph import City, build_city
from sim.city.population import Population, build_population, draw_columns, index_of
from sim.city.terminals import Fleet, Kind, Terminal, build_fleet

ISSUER_ID = bytes.fromhex("3301000000000001")  # Hangzhou (city code 3301), issuer 1


@dataclass(slots=True)
class World:
    scenario: Scenario
    shard: int
    shards: int
    city: City
    issuer_keys: IssuerKeys
    key_store: IssuerKeyStore
    population: Population
    funding: CityFunding
    host: LoadHost
    fleet: Fleet
    rules: FareRules
    demand: list[Taps]
    carried_fen: np.ndarray  # opening balances no record of the day explains (the opening float)

    @property
    def day_start(self) -> datetime:
        return datetime.combine(self.scenario.run.day, time(0, 0))

    def row_of_asn(self, asn: bytes) -> int:
        """This shard's population row of a card (citizens are dealt to shards round-robin)."""
        return (index_of(asn) - self.shard) // self.shards

    def terminals(self) -> list[Terminal]:
        """Every terminal that holds records."""
        return self.fleet.all()

    def opening_float_fen(self) -> int:
        return int(self.population.opening_balance_fen.sum())


# The city's own participants are named by the issuer's city code ("bus-hz"): the city is
# declared once, by the code its issuer, terminals and cards carry.
CITY_NAMES = {bytes.fromhex("3301"): ("hz", "Hangzhou")}


def city_tag(issuer_id: bytes = ISSUER_ID) -> tuple[str, str]:
    """(the participants' city suffix, the city's name) of an issuer's city code."""
    code = issuer_id[:2]
    if code not in CITY_NAMES:
        raise ValueError(f"issuer {issuer_id.hex()}: city code {code.hex()} has no participant names")
    return CITY_NAMES[code]


def institution_participant(number: int) -> str:
    """A medical institution, paid the own payments its cashier took by e-purse (the services'
    back office names it the same: `sim.services.backend.institution_id`)."""
    return f"hosp-{number}"


_ROLES = {Kind.BUS: "bus", Kind.GATE: "metro", Kind.TAXI: "taxi", Kind.WINDOW: "window"}


def participants(scenario: Scenario) -> list[Participant]:
    """The clearing participants. ASSUMPTION: one bus company, one metro operator, one taxi
    clearing company, each merchant acceptance point its own participant, each bank's recharge
    points one participant; the operator's windows bank with the first bank; with [services],
    each medical institution a participant of the utilities fee class, banking with the first
    bank (as the services' back office settles through it)."""
    banks = scenario.city.banks
    tag, city = city_tag()
    out = [
        Participant(f"bus-{tag}", f"{city} Public Transport", Sector.BUS, banks[0]),
        Participant(f"metro-{tag}", f"{city} Metro", Sector.METRO, banks[1 % len(banks)]),
        Participant(f"taxi-{tag}", f"{city} taxi card clearing", Sector.TAXI, banks[2 % len(banks)]),
        Participant(f"window-{tag}", "Citizen card service windows (cash)", Sector.LOAD, banks[0]),
    ]
    out += [Participant(load_participant(b), f"{b} recharge points", Sector.LOAD, b) for b in banks]
    merchants = len(build_city(scenario).merchant_district)
    out += [
        Participant(f"shop-{m}", f"Merchant {m}", Sector.RETAIL, banks[m % len(banks)])
        for m in range(merchants)
    ]
    institutions = scenario.services.medical.institutions if scenario.services is not None else 0
    out += [
        Participant(institution_participant(i), f"Medical institution {i}", Sector.UTILITIES, banks[0])
        for i in range(institutions)
    ]
    return out


def registry_entries(world: World) -> list[TerminalEntry]:
    """This shard's terminals as the clearing house's registry lists them."""
    banks = world.scenario.city.banks
    tag, _ = city_tag()
    entries = []
    for t in world.terminals():
        if t.kind is Kind.POS:
            owner = f"shop-{t.place}"
        elif t.kind is Kind.MEDICAL:
            owner = institution_participant(t.place)
        elif t.kind is Kind.KIOSK:
            owner = load_participant(banks[bank_of_point(t.place, len(banks))])
        else:
            owner = f"{_ROLES[t.kind]}-{tag}"
        psam = NO_PSAM if t.kind in (Kind.KIOSK, Kind.WINDOW) else t.terminal_id
        entries.append(TerminalEntry(t.terminal_id, psam, owner))
    return entries


def build_registry(scenario: Scenario, entries: list[TerminalEntry]) -> Registry:
    return Registry(participants(scenario), entries)


def build_world(scenario: Scenario, shard: int = 0, shards: int = 1) -> World:
    assert 0 <= shard < shards
    city = build_city(scenario)
    keys = generate_issuer_keys(seed=scenario.run.seed, issuer_id=ISSUER_ID)
    store = IssuerKeyStore(keys)
    columns = draw_columns(scenario, city.district_share)
    population = build_population(scenario, keys, city.district_share, shard, shards, True, columns)
    banks = [Bank(name) for name in scenario.city.banks]
    funding = CityFunding(
        banks=banks,
        kiosks_per_point=scenario.city.kiosks_per_recharge_point,
        decline_probability=scenario.faults.bank_decline_probability,
        seed=scenario.run.seed,
    )
    host = LoadHost(store, funding)
    fleet = build_fleet(scenario, city, keys, host, shard)
    # Yesterday's balances are on the cards from the start; with the back office they are its
    # opening float (model.backoffice.opening_float), booked before the night, not loads.
    # (The same read-only array as the population's: neither changes during the day.)
    carried = population.opening_balance_fen
    # Demand is drawn for everyone (so a citizen's day does not depend on the sharding) and
    # each shard keeps its own citizens' taps.
    demand = draw_demand(scenario, city, columns, shard, shards)
    assert all(np.all(np.diff(t.t_s) >= 0) for t in demand)
    return World(
        scenario=scenario,
        shard=shard,
        shards=shards,
        city=city,
        issuer_keys=keys,
        key_store=store,
        population=population,
        funding=funding,
        host=host,
        fleet=fleet,
        rules=scenario.fares,
        demand=demand,
        carried_fen=carried,
    )


def planned_taps(scenario: Scenario) -> int:
    """How many taps the day's demand holds (for a progress bar), without building cards."""
    city = build_city(scenario)
    return sum(len(t) for t in draw_demand(scenario, city, draw_columns(scenario, city.district_share)))
