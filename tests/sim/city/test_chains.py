"""Trip chains: a citizen's trips in order (from home, from work, ...), a purchase after they
left home and within opening hours, and each sector's hourly histogram still its profile's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chisquare  # type: ignore[import-untyped]  # no stubs installed

from scenarios.schema import load
from sim.city import demand
from sim.city.chains import after_leave, quantile_times, rank_in_citizen
from sim.city.demand import TRANSFER_DELAY_S, TapKind, draw_times
from sim.city.graph import build_city
from sim.city.population import draw_columns
from sim.rng import stream

SCENARIO = load().replace(sample=0.02)  # about 40,000 citizens
CITY = build_city(SCENARIO)
COLUMNS = draw_columns(SCENARIO, CITY.district_share)
N = len(COLUMNS["home"])


def _trips() -> demand._Trips:
    rng = stream(SCENARIO.run.seed, "demand/transit", 0)
    return demand._transit_trips(rng, SCENARIO, CITY, COLUMNS, np.arange(N))


def _hourly_p(kind: TapKind, edges_h: np.ndarray) -> float:
    """p-value of the sector's drawn taps against an independent sample of its profile."""
    taps = {TapKind.METRO: 0, TapKind.TAXI: 2, TapKind.RETAIL: 3}
    t_s = demand.draw_demand(SCENARIO, CITY, COLUMNS)[taps[kind]].t_s
    reference = draw_times(stream(0, "test/chains"), 1_000_000, SCENARIO, kind)
    seen = np.histogram(t_s / 3600, edges_h)[0]
    p = np.histogram(reference / 3600, edges_h)[0] / len(reference)
    return float(chisquare(seen, p * len(t_s)).pvalue)


def test_chained_transit_times_follow_the_commuter_profile() -> None:
    t_h = _trips().t_s / 3600
    reference = draw_times(stream(0, "test/chains"), 1_000_000, SCENARIO, TapKind.BUS) / 3600
    edges = np.arange(6, 23)
    seen = np.histogram(t_h, edges)[0]
    expected = np.histogram(reference, edges)[0] / len(reference) * len(t_h)
    assert len(t_h) > 40_000
    assert chisquare(seen, expected).pvalue > 0.001
    # The hour at the morning peak holds 0.25 x 0.383 of the trips plus its base 0.5 / 16.
    at_peak = float(((t_h >= 7.5) & (t_h < 8.5)).mean())
    assert abs(at_peak - (0.25 * 0.383 + 0.5 / 16)) < 0.006


@pytest.mark.parametrize(
    ("kind", "edges_h"), [(TapKind.METRO, np.arange(6, 23)), (TapKind.RETAIL, np.arange(9, 23, 1.0))]
)
def test_each_sector_keeps_its_hourly_profile(kind: TapKind, edges_h: np.ndarray) -> None:
    assert _hourly_p(kind, edges_h) > 0.001


def test_a_citizens_trips_chain_from_home_to_work_and_back() -> None:
    trips = _trips()
    rank, count = rank_in_citizen(trips.who)
    two = count == 2
    out, back = np.flatnonzero(two & (rank == 0)), np.flatnonzero(two & (rank == 1))
    assert len(out) > 5000 and np.array_equal(trips.who[out], trips.who[back])
    home, work = COLUMNS["home"][trips.who[out]], COLUMNS["work"][trips.who[out]]
    assert np.array_equal(trips.origin[out], home) and np.array_equal(trips.dest[out], work)
    assert np.array_equal(trips.origin[back], work) and np.array_equal(trips.dest[back], home)
    gap_h = (trips.t_s[back] - trips.t_s[out]) / 3600
    assert gap_h.min() > 0
    # Strata split at the profile's median (14:05): the commute out by then, back after it,
    # a working day between them for most.
    median_s = quantile_times(np.array([0.5]), (8.0, 17.75), (0.25, 0.25), 1.0, 6.0, 22.0)[0]
    assert trips.t_s[out].max() <= median_s <= trips.t_s[back].min()
    assert 8.5 < float(np.median(gap_h)) < 9.7
    # Any chain: each trip starts where the one before ended.
    chained = trips.who[1:] == trips.who[:-1]
    assert np.array_equal(trips.origin[1:][chained], trips.dest[:-1][chained])
    assert np.all(np.diff(trips.t_s)[chained] > 0)


def test_a_transfer_boards_within_its_delay_and_before_the_next_trip() -> None:
    trips = _trips()
    bus_trips = trips.only(~trips.metro)
    taps = demand._bus_taps(stream(1, "test/chains/bus"), SCENARIO, CITY, bus_trips, 0.0)
    first = len(bus_trips.who)
    assert np.array_equal(taps.t_s[:first], bus_trips.t_s)
    # Each transfer after its citizen's latest trip (any mode) before it, by the drawn delay.
    day_s = 2 * 86400.0
    trip_key = trips.who * day_s + trips.t_s
    who, t_s = taps.citizen[first:], taps.t_s[first:]
    j = np.searchsorted(trip_key, who * day_s + t_s, side="right") - 1
    assert len(who) > 5000 and np.array_equal(trips.who[j], who)
    delay_s = t_s - trips.t_s[j]
    assert np.all(delay_s > 0) and np.all(delay_s <= TRANSFER_DELAY_S[1])
    assert np.all(t_s < trips.t_s[j] + trips.gap_s[j])  # before the next trip boards
    unclipped = trips.gap_s[j] >= 2 * TRANSFER_DELAY_S[1]
    assert unclipped.mean() > 0.95 and delay_s[unclipped].min() >= TRANSFER_DELAY_S[0]


def test_a_purchase_is_after_leaving_home_and_within_opening_hours() -> None:
    _metro, _bus, taxi, retail = demand.draw_demand(SCENARIO, CITY, COLUMNS)
    trips = _trips()
    leave_s = demand._leave_s(trips, N)[retail.citizen]
    commuter = ~np.isnan(leave_s)
    assert commuter.sum() > 500 and np.all(retail.t_s[commuter] >= leave_s[commuter])
    hours = SCENARIO.demand
    assert retail.t_s.min() >= hours.retail_start_h * 3600 and retail.t_s.max() < hours.retail_end_h * 3600
    # Taxis are not chained: the night's rides stay (a quarter of them 22:00-06:00).
    night = (taxi.t_s < 6 * 3600) | (taxi.t_s >= 22 * 3600)
    assert 0.15 < night.mean() < 0.35


def test_after_leave_hands_out_the_same_times_in_departure_order() -> None:
    rng = stream(0, "test/chains/after")
    t_s = rng.uniform(9 * 3600, 22 * 3600, 1000)
    leave_s = np.where(np.arange(500) % 5 == 0, np.nan, rng.uniform(6 * 3600, 12 * 3600, 500))
    who = np.sort(rng.integers(0, 500, 1000))
    out = after_leave(rng, t_s, who, leave_s)
    assert np.array_equal(np.sort(out), np.sort(t_s))
    has = ~np.isnan(leave_s[who])
    order = np.argsort(leave_s[who][has], kind="stable")
    assert np.all(np.diff(out[has][order]) >= 0) or _ties_only(leave_s[who][has][order], out[has][order])


def _ties_only(key: np.ndarray, t: np.ndarray) -> bool:
    """Times fall only where departures tie (one citizen's several purchases)."""
    falls = np.diff(t) < 0
    return bool(np.all(np.diff(key)[falls] == 0))


def test_quantile_times_invert_the_profile_that_draw_times_samples() -> None:
    f = demand.profile_of(SCENARIO, TapKind.TAXI)
    mine = quantile_times(
        stream(0, "test/q").random(400_000), f.peaks_h, f.peak_shares, f.width_h, f.start_h, f.end_h
    )
    theirs = draw_times(stream(1, "test/q"), 400_000, SCENARIO, TapKind.TAXI)
    edges = np.arange(0, 25) * 3600
    a, b = np.histogram(mine, edges)[0], np.histogram(theirs, edges)[0]
    assert chisquare(a, b / b.sum() * a.sum()).pvalue > 0.001
