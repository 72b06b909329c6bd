"""Fare rules: what a tap costs, as pure functions of the rules, the card and the trip.

Terminal code charges what these functions say; the simulation and real terminals share them.
All amounts are integer fen and every discount rounds down (in the passenger's favour), applied
in a fixed order so that a fare is the same wherever it is computed:

1. the route or distance fare (bus: the flat route fare; metro: base + steps by stations);
2. the card-type concession (student, elderly) as a percentage;
3. the bus e-purse discount (Hangzhou: 91% of fare) or, on pass routes, the monthly pass
   (50% of the route fare) instead: a pass holder gets the better of the two, not both;
4. a transfer discount (a fixed amount, never below zero) when the previous boarding was
   within the transfer window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from model.card import CappRecord, CardType
from model.errors import CardTwinError

PERCENT = 100


class FareError(CardTwinError):
    """Fare rules or a trip that cannot be priced."""


@dataclass(frozen=True, slots=True)
class FareRules:
    """One city's fare table."""

    bus_fare_fen: int
    epurse_percent: int
    monthly_pass_percent: int
    student_percent: int
    elderly_percent: int
    metro_base_fen: int
    metro_base_stations: int
    metro_step_fen: int
    metro_step_stations: int
    transfer_discount_fen: int
    transfer_window_s: int
    taxi_flag_fen: int
    taxi_flag_km: int
    taxi_per_km_fen: int
    pass_route_max: int = 499
    pass_routes_excluded: frozenset[int] = frozenset({315})

    def __post_init__(self) -> None:
        for name in ("epurse_percent", "monthly_pass_percent", "student_percent", "elderly_percent"):
            value = getattr(self, name)
            if not 0 <= value <= PERCENT:
                raise FareError(f"fare rules: {name}={value} outside 0..100")
        if self.metro_base_stations < 1 or self.metro_step_stations < 1:
            raise FareError("fare rules: metro station counts must be >= 1")
        for name in ("bus_fare_fen", "metro_base_fen", "metro_step_fen", "transfer_discount_fen"):
            if getattr(self, name) < 0:
                raise FareError(f"fare rules: {name} is negative")


def concession_percent(rules: FareRules, card_type: CardType) -> int:
    if card_type == CardType.STUDENT:
        return rules.student_percent
    if card_type == CardType.ELDERLY:
        return rules.elderly_percent
    return PERCENT


def pass_valid_on(rules: FareRules, route: int) -> bool:
    """Hangzhou: the monthly pass works on routes 1-499 except 315."""
    return 1 <= route <= rules.pass_route_max and route not in rules.pass_routes_excluded


def in_transfer_window(rules: FareRules, since_previous_s: float | None) -> bool:
    return since_previous_s is not None and 0 <= since_previous_s <= rules.transfer_window_s


def _transfer(rules: FareRules, fare_fen: int, transfer: bool) -> int:
    return max(0, fare_fen - rules.transfer_discount_fen) if transfer else fare_fen


def bus_fare_fen(
    rules: FareRules, card_type: CardType, route: int, has_pass: bool, since_previous_s: float | None
) -> int:
    """The fare of one bus boarding paid with the e-purse."""
    concession = rules.bus_fare_fen * concession_percent(rules, card_type) // PERCENT
    fare = concession * rules.epurse_percent // PERCENT
    if has_pass and pass_valid_on(rules, route):
        fare = min(fare, concession * rules.monthly_pass_percent // PERCENT)
    fare = _transfer(rules, fare, in_transfer_window(rules, since_previous_s))
    assert 0 <= fare <= rules.bus_fare_fen
    return fare


def metro_list_fare_fen(rules: FareRules, stations: int) -> int:
    """The list fare for a trip of `stations` stations (0 = in and out at the same station)."""
    if stations < 0:
        raise FareError(f"metro fare: {stations} stations travelled")
    extra = max(0, stations - rules.metro_base_stations)
    steps = -(-extra // rules.metro_step_stations)  # a started step counts
    return rules.metro_base_fen + steps * rules.metro_step_fen


def metro_fare_fen(
    rules: FareRules, card_type: CardType, stations: int, since_previous_s: float | None
) -> int:
    """The fare taken at the exit gate."""
    fare = metro_list_fare_fen(rules, stations) * concession_percent(rules, card_type) // PERCENT
    return _transfer(rules, fare, in_transfer_window(rules, since_previous_s))


def metro_exit_fare(
    rules: FareRules,
    card_type: CardType,
    stations_between: Callable[[int, int], int],
    since_previous_s: float | None = None,
) -> Callable[[CappRecord, int, datetime], int]:
    """The `Fare` callable a metro exit gate gives `PurchaseTerminal.composite_exit`: it prices
    the trip from the entry station the card itself recorded."""

    def fare(entry: CappRecord, exit_station: int, exit_time: datetime) -> int:
        if entry.entry_time is not None and exit_time < entry.entry_time:
            raise FareError(f"metro exit at {exit_time} before entry at {entry.entry_time}")
        return metro_fare_fen(
            rules, card_type, stations_between(entry.entry_station, exit_station), since_previous_s
        )

    return fare


def taxi_fare_fen(rules: FareRules, distance_m: int) -> int:
    """Flag fall covers the first km; each further started km costs the per-km fare."""
    if distance_m < 0:
        raise FareError(f"taxi fare: distance {distance_m} m")
    extra_m = max(0, distance_m - rules.taxi_flag_km * 1000)
    return rules.taxi_flag_fen + -(-extra_m // 1000) * rules.taxi_per_km_fen
