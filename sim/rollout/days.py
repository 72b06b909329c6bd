"""Representative days: a rollout month mapped onto the day twin and run for real.

The month's state (cardholders, recharge points, windows, terminals by kind, sectors on) is
written into the rollout's day scenario: counts replace the city's, and each twin sector's
demand per cardholder is scaled by the share of its sectors switched on and by the share of
its fleet that accepts the card (terminals of that kind / the day scenario's fleet, at most
1: a bus without a validator takes cash). `run_day` then runs every tap through the card
protocol, the night's clearing and T+1 settlement at the rollout's sample. What a rollout
keeps from the day is per cardholder (taps, money, fees, float, settlement, and with
`[services]` the services' day figures: medical visits, account payments, bike rentals, library
loans, park entries) plus the queue waits, so months between representative days scale it by
their own cardholders.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from scenarios.rollout_schema import RolloutScenario
from scenarios.schema import Scenario
from sim.city import SECTORS as TWIN_SECTORS
from sim.day import run_day, wait_summary
from sim.rollout.plan import MonthPlan, twin_sector_shares

TWIN_PAYMENT_SECTORS = ("bus", "metro", "taxi", "retail")
# The services' day figures a rollout keeps (counts, and money in fen), a day per cardholder.
SERVICES_KEPT = (
    "medical_visits",
    "medical_visits_card",
    "medical_own_purse_payments",
    "medical_own_purse_fen",
    "account_payments",
    "account_payments_fen",
    "bike_rentals",
    "library_loans",
    "park_entries",
)


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One simulated day, per cardholder (whole-city figures = these x cardholders)."""

    month: str
    citizens: int  # simulated
    taps_per_holder: dict[str, float]  # by twin sector, a day
    purchases_fen_per_holder: float
    fees_fen_per_holder: float
    float_fen_per_holder: float  # e-purse balance at the end of the day
    positions_fen_per_holder: dict[str, float]  # net T+1 position per participant, a day
    recharge_wait_s_mean: float
    recharge_wait_s_p95: float
    window_wait_s_mean: float
    wall_s: float
    services_per_holder: dict[str, float] = field(default_factory=dict)  # SERVICES_KEPT, a day


def _acceptance(plan: MonthPlan, fleet: int, kind: str) -> float:
    return min(1.0, plan.terminals_by_kind[kind] / fleet) if fleet else 0.0


def day_scenario(s: RolloutScenario, plan: MonthPlan, sample: float, seed: int) -> Scenario:
    """The day scenario for one month of the rollout."""
    base = s.day_scenario
    c, p = base.city, base.population
    on = twin_sector_shares(s, plan.sectors)
    bus_on = on["bus"] * _acceptance(plan, c.buses, "bus")
    gates_full = c.metro_lines * c.stations_per_metro_line * c.gates_per_station
    metro_on = on["metro"] * _acceptance(plan, gates_full, "gate") if c.metro_lines else 0.0
    taxi_on = on["taxi"] * _acceptance(plan, c.taxis, "taxi")
    retail_on = on["retail"] * _acceptance(plan, c.merchants, "pos")
    # Transit is one rate split bus/metro: keep each part's own rate per cardholder.
    bus_rate = p.transit_trips_per_day * (1 - p.metro_share) * bus_on
    metro_rate = p.transit_trips_per_day * p.metro_share * metro_on
    transit = bus_rate + metro_rate
    metro_lines = c.metro_lines if metro_rate > 0 else 0
    per_station = max(1, c.metro_lines * c.stations_per_metro_line)
    city = dataclasses.replace(
        c,
        buses=max(1, min(c.buses, plan.terminals_by_kind["bus"])),
        taxis=min(c.taxis, plan.terminals_by_kind["taxi"]),
        merchants=max(1, min(c.merchants, plan.terminals_by_kind["pos"])),
        metro_lines=metro_lines,
        gates_per_station=max(1, min(c.gates_per_station, plan.terminals_by_kind["gate"] // per_station)),
        recharge_points=max(1, plan.recharge_points),
        service_windows=max(1, plan.service_windows),
    )
    population = dataclasses.replace(
        p,
        cardholders=max(1, plan.cardholders),
        transit_trips_per_day=transit,
        metro_share=metro_rate / transit if transit > 0 else 0.0,
        taxi_trips_per_day=p.taxi_trips_per_day * taxi_on if city.taxis else 0.0,
        merchant_purchases_per_day=p.merchant_purchases_per_day * retail_on,
    )
    run = dataclasses.replace(
        base.run, name=f"{s.name}-{plan.month}", seed=seed, date=f"{plan.month}-15", sample=sample, shards=1
    )
    return base.replace(run=run, city=city, population=population)


def run_representative(s: RolloutScenario, plan: MonthPlan, sample: float, seed: int) -> DayFigures:
    """Run the twin for one month's representative day and keep its figures per cardholder."""
    scenario = day_scenario(s, plan, sample, seed)
    result = run_day(scenario)
    holders = max(1, result.citizens)
    closing = result.closing()
    counts = result.metrics.tx_count.sum(axis=1)
    taps = {name: float(counts[i]) / holders for i, name in enumerate(TWIN_SECTORS)}
    positions: dict[str, float] = {}
    fees = 0
    if result.settlement is not None:
        fees = result.settlement.fees_fen
        for line in result.settlement.lines:
            positions[line.participant] = positions.get(line.participant, 0.0) + line.position_fen / holders
    _, kiosk_mean, kiosk_p95 = wait_summary(result.waits_s("kiosk"))
    _, window_mean, _ = wait_summary(result.waits_s("window"))
    tally = result.services()
    services = {k: tally.get(k) / holders for k in SERVICES_KEPT} if tally is not None else {}
    return DayFigures(
        month=plan.month,
        citizens=result.citizens,
        taps_per_holder={k: taps.get(k, 0.0) for k in TWIN_PAYMENT_SECTORS},
        purchases_fen_per_holder=closing.purchases_fen / holders,
        fees_fen_per_holder=fees / holders,
        float_fen_per_holder=closing.closing_float_fen / holders,
        positions_fen_per_holder=positions,
        recharge_wait_s_mean=kiosk_mean,
        recharge_wait_s_p95=kiosk_p95,
        window_wait_s_mean=window_mean,
        wall_s=result.wall_s,
        services_per_holder=services,
    )


def blend(a: DayFigures, b: DayFigures, w: float, month: str) -> DayFigures:
    """Per-cardholder figures a share `w` of the way from day `a` to day `b` (0: a, 1: b), for a
    month between two representative days of one phase; queue waits are the nearer day's."""
    assert 0.0 <= w <= 1.0, w

    def mix(x: float, y: float) -> float:
        return x + (y - x) * w

    def mix_map(x: dict[str, float], y: dict[str, float]) -> dict[str, float]:
        return {k: mix(x.get(k, 0.0), y.get(k, 0.0)) for k in sorted(set(x) | set(y))}

    near = a if w < 0.5 else b
    return dataclasses.replace(
        near,
        month=month,
        taps_per_holder=mix_map(a.taps_per_holder, b.taps_per_holder),
        purchases_fen_per_holder=mix(a.purchases_fen_per_holder, b.purchases_fen_per_holder),
        fees_fen_per_holder=mix(a.fees_fen_per_holder, b.fees_fen_per_holder),
        float_fen_per_holder=mix(a.float_fen_per_holder, b.float_fen_per_holder),
        positions_fen_per_holder=mix_map(a.positions_fen_per_holder, b.positions_fen_per_holder),
        services_per_holder=mix_map(a.services_per_holder, b.services_per_holder),
    )
