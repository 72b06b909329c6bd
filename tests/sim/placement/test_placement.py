"""Recharge-point placement on the residential grid: coverage, greedy, baselines, waits."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from scenarios.schema import load
from sim.city.graph import add_walk_grid, build_city
from sim.placement import deploy as P
from sim.placement.sites import CityMap
from sim.placement.waits import demand_of, hour_shares, score


@pytest.fixture(scope="module")
def scenario():
    return load(None)


@pytest.fixture(scope="module")
def geo(scenario):
    # A small town keeps the tests quick: 60 km2 in 250 m blocks (about 1,000 cells).
    return P.geography(scenario, area_km2=60, walk_m=800)


def test_walk_grid_is_additive_and_deterministic(scenario):
    plain = build_city(scenario)
    nodes = set(plain.graph.nodes)
    city = build_city(scenario)
    grid = add_walk_grid(city, scenario.run.seed, 60)
    assert nodes <= set(city.graph.nodes)
    assert np.array_equal(city.district_share, plain.district_share)
    assert math.isclose(grid.share.sum(), 1.0)
    # Every district keeps its population share, spread over its own cells.
    per_district = np.bincount(grid.district, weights=grid.share, minlength=city.districts)
    assert np.allclose(per_district, city.district_share)
    again = add_walk_grid(build_city(scenario), scenario.run.seed, 60)
    assert np.array_equal(again.share, grid.share)
    walk = [e for e in city.graph.edges(data="kind") if e[2] == "walk"]
    assert len(walk) == len(grid.edges)


def test_reach_is_street_distance(geo):
    # On a 250 m street grid, 800 m reaches 3 blocks in Manhattan distance: at most 25 cells.
    sizes = np.diff(geo.reach_ptr)
    assert sizes.max() == 25
    centre = int(np.argmin(np.hypot(*geo.grid.xy_km.T)))
    reach = geo.reach(centre)
    assert reach[0] == centre
    blocks = np.abs(np.rint((geo.grid.xy_km[reach] - geo.grid.xy_km[centre]) * 4)).sum(1)
    assert blocks.max() == 3 and np.all(
        np.diff(geo.reach_m[geo.reach_ptr[centre] : geo.reach_ptr[centre + 1]]) >= 0
    )


def test_coverage_monotone_in_k(geo):
    shares = [P.coverage(geo, P.greedy(geo, k)) for k in (0, 1, 5, 10, 20, 40, 80)]
    assert shares[0] == 0.0
    assert all(a <= b for a, b in itertools.pairwise(shares))
    assert shares[-1] > shares[1] > 0


@pytest.mark.parametrize("k", [5, 20, 60])
@pytest.mark.parametrize("how", P.BASELINES)
def test_greedy_at_least_baseline(geo, k, how):
    assert P.coverage(geo, P.greedy(geo, k)) >= P.coverage(geo, P.baseline(geo, k, how, seed=3))


def test_first_pick_is_the_best_single_site(geo):
    plan = P.greedy(geo, 1)
    best = max(range(geo.cells), key=lambda c: P.coverage(geo, {c: 1}))
    assert P.coverage(geo, plan) == pytest.approx(P.coverage(geo, {best: 1}))


def test_incremental_equals_from_scratch(geo):
    assert P.greedy(geo, 30, existing={}) == P.greedy(geo, 30)
    assert P.greedy(geo, 30, existing=None) == P.greedy(geo, 30)
    # Uncapacitated, the state after opening sites does not depend on the order they opened in.
    first = P.greedy(geo, 12)
    assert P.greedy(geo, 18, existing=first) == P.greedy(geo, 30)


def test_deploy_month_by_month_equals_one_run(geo, scenario):
    cap = demand_of(scenario).capacity_cardholders() * 0.05  # a small town: few residents per point
    sites = P.deploy(
        geo, [("2005-01", 10), ("2005-02", 10), ("2005-03", 35), ("2005-04", 60)], capacity_residents=cap
    )
    assert sum(s.count for s in sites) == 60
    assert {s.month for s in sites} == {"2005-01", "2005-03", "2005-04"}
    assert P.plan_of(sites) == P.greedy(geo, 60, capacity_residents=cap)


def test_capacity_respected(geo):
    plan = P.greedy(geo, 300, capacity_residents=1.0, max_per_site=2)
    assert max(plan.values()) <= 2
    assert sum(plan.values()) == 300


def test_baselines(geo):
    uniform = P.baseline(geo, 50, "uniform", seed=1)
    assert sum(uniform.values()) == 50
    assert uniform == P.baseline(geo, 50, "uniform", seed=1)
    assert uniform != P.baseline(geo, 50, "uniform", seed=2)
    # Districts get points in proportion to their residents.
    district = geo.grid.district
    per = np.bincount(
        [district[c] for c, n in uniform.items() for _ in range(n)], minlength=geo.city.districts
    )
    people = np.bincount(district, weights=geo.residents, minlength=geo.city.districts)
    assert np.all(np.abs(per - 50 * people / people.sum()) < 1)
    assert sum(P.baseline(geo, 50, "random", seed=1).values()) == 50


def test_bad_inputs(geo, scenario):
    with pytest.raises(P.PlacementError, match="walk_m"):
        P.geography(scenario, walk_m=0)
    with pytest.raises(P.PlacementError, match="cell_m"):
        P.geography(scenario, cell_m=1)
    with pytest.raises(P.PlacementError, match="recharge points"):
        P.greedy(geo, -1)
    with pytest.raises(P.PlacementError, match="do not fit"):
        P.greedy(geo, geo.cells * 2 + 1, max_per_site=2)
    with pytest.raises(P.PlacementError, match="baseline 'best'"):
        P.baseline(geo, 5, "best", seed=1)
    with pytest.raises(P.PlacementError, match="not on the grid"):
        P.greedy(geo, 1, existing={geo.cells: 1})
    with pytest.raises(P.PlacementError, match="capacity"):
        P.greedy(geo, 1, capacity_residents=0)
    with pytest.raises(P.PlacementError, match="not a cell name"):
        P.cell_of("district-3")
    with pytest.raises(P.PlacementError, match="does not follow"):
        P.deploy(geo, [("2005-02", 1), ("2005-01", 2)])
    with pytest.raises(P.PlacementError, match="no recharge points"):
        score(geo, {}, demand_of(scenario))


def test_hour_shares_sum_to_one(scenario):
    shares = hour_shares(scenario)
    assert math.isclose(sum(shares), 1.0)
    # The twin's recharge arrivals: the evening peak (shops at 19:00 add to the commute), a
    # few at night (taxis run round the clock, 5% of the spending).
    assert shares.index(max(shares)) == 18 and max(shares) == pytest.approx(0.109, abs=0.002)
    assert 0 < sum(shares[:6]) < 0.01


def test_score_waits_fall_with_points(scenario):
    geo = P.geography(scenario, area_km2=60, residents=150_000)
    demand = demand_of(scenario, cardholders=150_000)
    cap = demand.capacity_cardholders()
    few, many = (score(geo, P.greedy(geo, k, capacity_residents=cap), demand) for k in (40, 120))
    assert many.coverage_share >= few.coverage_share
    assert many.points == 120 and few.points == 40
    assert many.wait_s_mean < few.wait_s_mean
    # Most top-ups never wait, so the p95 may be 0 while the mean is not.
    assert 0 <= many.wait_s_mean < math.inf and 0 <= many.wait_s_p95 <= few.wait_s_p95
    assert many.overloaded_share == 0.0
    assert math.isclose(many.site_cardholders.sum(), 150_000)


def test_score_single_site_is_erlang(geo, scenario):
    # One site takes every top-up of the day: its mean wait is the hour mix of Erlang C waits.
    from sim.placement.queueing import erlang_c_wait_s

    demand = demand_of(scenario, cardholders=2_000)
    s = score(geo, {0: 1}, demand)
    lam = [h * demand.topups_per_cardholder_day * 2_000 / 3600 for h in demand.hour_share]
    expected = sum(x * erlang_c_wait_s(x, demand.service_s, 1) for x in lam) / sum(lam)
    assert s.wait_s_mean == pytest.approx(expected)


def test_overloaded_plan_waits_without_bound(geo, scenario):
    s = score(geo, {0: 1}, demand_of(scenario, cardholders=2_000_000))
    assert s.overloaded_share > 0.05 and s.wait_s_mean == math.inf and s.wait_s_p95 == math.inf


def test_city_map(geo):
    m = P.city_map(geo)
    assert isinstance(m, CityMap)
    assert sum(m.residents.values()) == round(geo.residents.sum())
    assert all(a in m.positions_km and b in m.positions_km for a, b, _ in m.edges)


def test_the_planner_takes_the_twins_top_ups_not_the_inputs_spending(scenario):
    # The twin's queues and the planner read one figure: the steady-state habit's top-ups.
    from sim.city.steady import habit
    from sim.day.recharge_demand import recharge_demand

    demand = demand_of(scenario)
    h = habit(scenario)
    assert demand.topups_per_cardholder_day == pytest.approx(h.topups_per_cardholder_day * 0.95)
    assert demand.topups_per_cardholder_day == pytest.approx(0.0524, abs=0.0005)
    # What one recharge point takes in the twin's day, times the points, is the planner's city
    # (less the few trips that would arrive after midnight).
    twin = recharge_demand(scenario).kiosk.per_day * scenario.city.recharge_points
    twin_bins = recharge_demand(scenario).kiosk.rate_per_s
    assert twin == pytest.approx(demand.topups_per_cardholder_day * scenario.population.cardholders, rel=0.01)
    # And in the busiest hour, where a point's capacity is set: the same arrivals at one point.
    busiest = max(sum(twin_bins[k : k + 4]) * 900 for k in range(0, 96, 4))
    planner = demand.peak_rate_per_cardholder_s * 3600 * scenario.population.cardholders
    assert planner / scenario.city.recharge_points == pytest.approx(busiest, rel=0.01)
    assert demand.capacity_cardholders() == pytest.approx(8_395, abs=10)
    # Input and prediction apart: CNY 3.94 at list prices, CNY 2.76 paid, 30% less.
    assert demand.spend_input_fen == pytest.approx(394.37)
    assert demand.spend_fen == pytest.approx(276.4, abs=1.0)
    assert demand.spend_gap_share == pytest.approx(-0.299, abs=0.003)
    # The inputs' spending over the top-up amount would have asked 43% more top-ups.
    from_inputs = demand.spend_input_fen / scenario.population.topup_amount_fen * 0.95
    assert from_inputs / demand.topups_per_cardholder_day == pytest.approx(1.43, abs=0.01)
