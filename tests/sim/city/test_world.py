"""The world: a deterministic city graph, columnar population, cards as images, the fleet."""

from __future__ import annotations

import numpy as np

from devices.card_state import CardState
from scenarios.schema import load
from sim.city.graph import build_city, scaled
from sim.city.population import asn_of, draw_columns, index_of
from sim.city.terminals import Kind, kind_of
from sim.city.world import build_world

SMALL = load().replace(sample=0.0003)


def test_city_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    a, b = build_city(SMALL), build_city(SMALL)
    assert sorted(a.graph.edges) == sorted(b.graph.edges)
    assert np.array_equal(a.district_share, b.district_share)
    c = build_city(SMALL.replace(seed=2))
    assert sorted(a.graph.edges) != sorted(c.graph.edges)


def test_city_graph_holds_every_kind_of_place() -> None:
    city = build_city(SMALL)
    kinds = {k for _, k in city.graph.nodes(data="kind")}
    assert kinds == {"district", "bus_route", "station", "recharge_point", "window", "merchant"}
    assert abs(city.district_share.sum() - 1) < 1e-9
    assert all(len(r) for r in city.routes_by_district)  # a bus from every district
    line = SMALL.city.stations_per_metro_line
    assert city.stations_between(101, 100 + line) == line - 1
    assert city.stations_between(105, 105) == 0


def test_capacities_scale_with_the_sample_but_never_vanish() -> None:
    assert scaled(11, 0.0003) == 1
    assert scaled(600, 0.01) == 6
    city = build_city(SMALL)
    assert len(city.window_district) == 1 and len(city.recharge_district) == 1


def test_population_is_columnar_and_weighted() -> None:
    world = build_world(SMALL)
    pop = world.population
    n = round(SMALL.population.cardholders * SMALL.run.sample)
    assert len(pop) == n == len(pop.images)
    assert abs(float(pop.weight.sum()) - SMALL.population.cardholders) < 1
    for name in ("card_type", "home", "work", "trip_rate", "has_pass", "bank", "topup_threshold_fen"):
        assert isinstance(getattr(pop, name), np.ndarray) and len(getattr(pop, name)) == n
    shares = np.bincount(pop.card_type, minlength=4)[1:] / n
    assert abs(shares[1] - SMALL.population.student_share) < 0.05


def test_cards_are_images_holding_the_opening_balance() -> None:
    # The balance is brought forward on the card in both modes; with the back office it is the
    # clearing house's opening float (model.backoffice.opening_float), never an issuance load.
    inbox = build_world(SMALL.replace(clearing="inbox"))
    office = build_world(SMALL)
    assert int(office.carried_fen.sum()) == office.opening_float_fen() == inbox.opening_float_fen() > 0
    pop = inbox.population
    for row in (0, len(pop) - 1):
        state = CardState.from_image(pop.images[row])
        assert state.asn == asn_of(int(pop.index[row]))
        assert state.ep_balance_fen == pop.opening_balance_fen[row] == inbox.carried_fen[row]
        assert CardState.from_image(office.population.images[row]).ep_balance_fen == state.ep_balance_fen
    assert max(len(i) for i in pop.images) < 1024
    assert index_of(asn_of(123456)) == 123456


def test_shards_deal_citizens_round_robin_and_cover_everyone() -> None:
    whole = draw_columns(SMALL, build_city(SMALL).district_share)
    parts = [build_world(SMALL, k, 3).population for k in range(3)]
    indices = np.sort(np.concatenate([p.index for p in parts]))
    assert np.array_equal(indices, np.arange(len(whole["home"])))
    alone = build_world(SMALL).population
    for k, p in enumerate(parts):
        assert np.array_equal(p.home, whole["home"][k::3])
        # each shard warms up only its own rows' balances, and they are the one-process ones
        assert np.array_equal(p.opening_balance_fen, alone.opening_balance_fen[k::3])
        # a constant column is one value seen as a column
        assert (
            p.topup_amount_fen.strides == (0,)
            and int(p.topup_amount_fen[-1]) == SMALL.population.topup_amount_fen
        )
    assert len(np.unique(alone.opening_balance_fen)) > 10


def test_fleet_has_every_terminal_kind_with_distinct_ids() -> None:
    world = build_world(SMALL)
    ids = [t.terminal_id for t in world.fleet.all()]
    assert len(ids) == len(set(ids))
    for kind in Kind:
        assert world.fleet.by_kind[kind], kind
        assert all(kind_of(t.terminal_id) is kind for t in world.fleet.by_kind[kind])
    other = build_world(SMALL, 1, 2)
    assert not set(ids) & {t.terminal_id for t in other.fleet.all()}
