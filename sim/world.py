"""The world of one run (or one shard of it): city, issuer, population, fleet, banks, host.

Everything here is built deterministically from the scenario and the seed. The world owns the
state; the day (`sim.day`) moves it through time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

import numpy as np

from model.fares import FareRules
from model.keys import IssuerKeys, IssuerKeyStore, generate_issuer_keys
from model.load_host import LoadHost
from scenarios.schema import Scenario
from sim.banks import Bank, CityFunding
from sim.city import City, build_city
from sim.demand import Taps, draw_demand, for_shard
from sim.population import Population, build_population, draw_columns, index_of
from sim.terminals import Fleet, build_fleet

ISSUER_ID = bytes.fromhex("3301000000000001")  # Hangzhou (city code 3301), issuer 1


def fare_rules(scenario: Scenario) -> FareRules:
    f = scenario.fares
    return FareRules(
        bus_fare_fen=f.bus_fare_fen,
        epurse_percent=f.epurse_percent,
        monthly_pass_percent=f.monthly_pass_percent,
        student_percent=f.student_percent,
        elderly_percent=f.elderly_percent,
        metro_base_fen=f.metro_base_fen,
        metro_base_stations=f.metro_base_stations,
        metro_step_fen=f.metro_step_fen,
        metro_step_stations=f.metro_step_stations,
        transfer_discount_fen=f.transfer_discount_fen,
        transfer_window_s=f.transfer_window_s,
        taxi_flag_fen=f.taxi_flag_fen,
        taxi_flag_km=f.taxi_flag_km,
        taxi_per_km_fen=f.taxi_per_km_fen,
    )


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

    @property
    def day_start(self) -> datetime:
        return datetime.combine(self.scenario.run.day, time(0, 0))

    def row_of_asn(self, asn: bytes) -> int:
        """This shard's population row of a card (citizens are dealt to shards round-robin)."""
        return (index_of(asn) - self.shard) // self.shards

    def opening_float_fen(self) -> int:
        return int(self.population.opening_balance_fen.sum())


def build_world(scenario: Scenario, shard: int = 0, shards: int = 1) -> World:
    assert 0 <= shard < shards
    city = build_city(scenario)
    keys = generate_issuer_keys(seed=scenario.run.seed, issuer_id=ISSUER_ID)
    store = IssuerKeyStore(keys)
    population = build_population(scenario, keys, city.district_share, shard, shards)
    banks = [Bank(name) for name in scenario.city.banks]
    world_rows = (shard, shards)

    def bank_of(asn: bytes) -> int:
        return int(population.bank[(index_of(asn) - world_rows[0]) // world_rows[1]])

    funding = CityFunding(
        banks=banks,
        bank_of=bank_of,
        decline_probability=scenario.faults.bank_decline_probability,
        seed=scenario.run.seed,
    )
    host = LoadHost(store, funding)
    fleet = build_fleet(scenario, city, keys, host, shard)
    # Demand is drawn for everyone (so a citizen's day does not depend on the sharding) and
    # each shard keeps its own citizens' taps.
    columns = draw_columns(scenario, city.district_share)
    demand = [for_shard(t, shard, shards) for t in draw_demand(scenario, city, columns)]
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
        rules=fare_rules(scenario),
        demand=demand,
    )


def planned_taps(scenario: Scenario) -> int:
    """How many taps the day's demand holds (for a progress bar), without building cards."""
    city = build_city(scenario)
    return sum(len(t) for t in draw_demand(scenario, city, draw_columns(scenario, city.district_share)))
