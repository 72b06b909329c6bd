"""Time-of-day profiles per sector: transit follows the commute, taxis run through the night,
shops open at nine and peak at lunch and in the evening; a sector with no peaks of its own
follows the commute, draw for draw."""

from __future__ import annotations

import dataclasses

import numpy as np

from scenarios.schema import Scenario, load
from sim.city.demand import TapKind, draw_times, profile_of
from sim.rng import stream

N = 100_000


def _hours(kind: TapKind, scenario: Scenario | None = None) -> np.ndarray:
    return draw_times(stream(0, "test/profiles"), N, scenario or load(), kind) / 3600


def _share(h: np.ndarray, start: float, end: float) -> float:
    return float(((h >= start) & (h < end)).mean())


def test_transit_keeps_the_commute_and_its_service_hours() -> None:
    h = _hours(TapKind.BUS)
    assert _share(h, 6, 22) == 1.0
    # Half of the trips in two peaks of 1 h around 08:00 and 17:45: the hour at each peak
    # holds 0.25 x 0.383 of the trips plus its base 0.5 / 16.
    assert abs(_share(h, 7.5, 8.5) - (0.25 * 0.383 + 0.5 / 16)) < 0.005


def test_taxis_run_through_the_night() -> None:
    h = _hours(TapKind.TAXI)
    night = _share(h, 22, 24) + _share(h, 0, 6)
    # The base (55%) over 24 h puts 8/24 of it in the night, and the 22:30 peak (15%) a little
    # over half of its draws (those past midnight fall back onto the base).
    assert 0.25 < night < 0.30, night
    assert _share(h, 3, 4) > 0.015  # an hour of the small hours still has its base, 0.55 / 24
    assert _share(h, 17.5, 18.5) > 2 * _share(h, 13, 14)


def test_shops_open_at_nine_and_peak_at_lunch_and_in_the_evening() -> None:
    h = _hours(TapKind.RETAIL)
    assert _share(h, 9, 22) == 1.0
    assert _share(h, 12, 13) > 1.5 * _share(h, 9, 10)
    assert _share(h, 18.5, 19.5) > 1.5 * _share(h, 15, 16)
    # Not the commute: the 08:00 commuter peak has no purchases at all.
    assert _share(h, 7.5, 8.5) == 0.0


def test_a_sector_without_its_own_peaks_follows_the_commute_draw_for_draw() -> None:
    s = load()
    plain = dataclasses.replace(s, demand=dataclasses.replace(s.demand, taxi_peaks_h=[], taxi_peak_shares=[]))
    assert profile_of(plain, TapKind.TAXI) == profile_of(plain, TapKind.BUS)
    assert np.array_equal(_hours(TapKind.TAXI, plain), _hours(TapKind.BUS, plain))
