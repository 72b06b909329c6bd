"""The fare table of the scripted stories: Hangzhou's bus fare at 91% with the e-purse, and a
metro priced by stations travelled (CNY 2 for the first 4, CNY 1 per 4 further). Declared as a
`FareRules` so the stories charge through the same fare functions as the city day."""

from __future__ import annotations

from model.card import CardType
from model.terminal import FareRules, bus_fare_fen, metro_exit_fare

SCRIPTED_FARES = FareRules(
    bus_fare_fen=200,
    epurse_percent=91,
    monthly_pass_percent=50,
    student_percent=100,
    elderly_percent=100,
    metro_base_fen=200,
    metro_base_stations=4,
    metro_step_fen=100,
    metro_step_stations=4,
    transfer_discount_fen=0,
    transfer_window_s=0,
    taxi_flag_fen=1000,
    taxi_flag_km=3,
    taxi_per_km_fen=200,
)


def _stations_apart(entry_station: int, exit_station: int) -> int:
    # The stories' metro is one straight line numbered in order.
    return abs(exit_station - entry_station)


BUS_FARE_FEN = bus_fare_fen(SCRIPTED_FARES, CardType.ADULT, route=155, has_pass=False, since_previous_s=None)
metro_fare = metro_exit_fare(SCRIPTED_FARES, CardType.ADULT, _stations_apart)
