"""Fare rules: the Hangzhou e-purse discount, concessions, the monthly pass, transfers, distance."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from model.card.files import CappRecord, CardType
from model.terminal.fares import (
    FareError,
    FareRules,
    bus_fare_fen,
    metro_exit_fare,
    metro_list_fare_fen,
    taxi_fare_fen,
)

RULES = FareRules(
    bus_fare_fen=200,
    epurse_percent=91,
    monthly_pass_percent=50,
    student_percent=50,
    elderly_percent=50,
    metro_base_fen=200,
    metro_base_stations=4,
    metro_step_fen=100,
    metro_step_stations=4,
    transfer_discount_fen=100,
    transfer_window_s=5400,
    taxi_flag_fen=1000,
    taxi_flag_km=4,
    taxi_per_km_fen=200,
)


def test_bus_fare_with_the_epurse_is_91_percent() -> None:
    assert bus_fare_fen(RULES, CardType.ADULT, 155, False, None) == 182


def test_concessions_then_epurse_round_down() -> None:
    assert bus_fare_fen(RULES, CardType.STUDENT, 155, False, None) == 91
    assert bus_fare_fen(RULES, CardType.ELDERLY, 155, False, None) == 91


def test_monthly_pass_only_on_routes_1_to_499_except_315() -> None:
    assert bus_fare_fen(RULES, CardType.ADULT, 155, True, None) == 100
    assert bus_fare_fen(RULES, CardType.ADULT, 315, True, None) == 182
    assert bus_fare_fen(RULES, CardType.ADULT, 502, True, None) == 182


def test_transfer_discount_inside_the_window_only() -> None:
    assert bus_fare_fen(RULES, CardType.ADULT, 155, False, 600.0) == 82
    assert bus_fare_fen(RULES, CardType.ADULT, 155, False, 5401.0) == 182
    assert bus_fare_fen(RULES, CardType.STUDENT, 155, True, 60.0) == 0  # never below zero


def test_metro_distance_fare() -> None:
    assert [metro_list_fare_fen(RULES, n) for n in (0, 1, 4, 5, 8, 9, 15)] == [
        200,
        200,
        200,
        300,
        300,
        400,
        500,
    ]
    with pytest.raises(FareError):
        metro_list_fare_fen(RULES, -1)


def test_metro_exit_fare_reads_the_entry_from_the_card_record() -> None:
    entry = CappRecord(1, True, 103, b"\x33\x01\x02\x00\x00\x01", datetime(2009, 3, 2, 8, 0))
    fare = metro_exit_fare(RULES, CardType.STUDENT, lambda a, b: abs(a - b))
    assert fare(entry, 112, datetime(2009, 3, 2, 8, 30)) == 200  # 9 stations: 400, half
    with pytest.raises(FareError):
        fare(entry, 112, datetime(2009, 3, 2, 7, 0))


def test_taxi_fare_flag_then_per_started_km() -> None:
    assert taxi_fare_fen(RULES, 3000) == 1000
    assert taxi_fare_fen(RULES, 4000) == 1000
    assert taxi_fare_fen(RULES, 4100) == 1200
    assert taxi_fare_fen(RULES, 6000) == 1400


def test_bad_rules_are_refused() -> None:
    with pytest.raises(FareError, match="epurse_percent=101"):
        dataclasses.replace(RULES, epurse_percent=101)
    with pytest.raises(FareError, match="metro station counts"):
        dataclasses.replace(RULES, metro_step_stations=0)
