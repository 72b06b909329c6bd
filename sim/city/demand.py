"""The day's demand: every tap the population will try, drawn up front as sorted columns.

Taps are drawn per sector (bus, metro, taxi, retail) for the whole sampled population from
their own named streams, then a shard keeps its citizens' taps. Times follow the scenario's
time-of-day profile (a morning and an evening peak over a flat base between the first and the
last service). What happens at each tap (the fare, the card's answer, a queue at a recharge
point) is the simulation's business at that moment; only the intent is drawn here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from scenarios.schema import Scenario
from sim.city.graph import City
from sim.rng import stream

TRANSFER_DELAY_S = (300.0, 1800.0)  # second boarding 5 to 30 minutes after the first
TAPS_PER_CITIZEN_MAX = 64  # a guard against a scenario typo (rates of hundreds a day)
DEMAND_BLOCK_CITIZENS = 1 << 16  # citizens drawn together (bounds a shard's memory while drawing)


class TapKind(IntEnum):
    BUS = 0
    METRO = 1
    TAXI = 2
    RETAIL = 3


class Tear(IntEnum):
    NONE = 0
    BEFORE_COMMIT = 1
    AFTER_COMMIT = 2


@dataclass(slots=True)
class Taps:
    """One sector's taps in time order. Meaning of a/b/c by kind:
    bus: route index / bus pick / -; metro: entry station / exit station / gate pick;
    taxi: taxi pick / distance m / -; retail: merchant index / amount fen / -."""

    kind: TapKind
    t_s: np.ndarray
    citizen: np.ndarray  # global citizen index
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    tear: np.ndarray

    def __len__(self) -> int:
        return len(self.t_s)


def draw_times(rng: np.random.Generator, n: int, scenario: Scenario) -> np.ndarray:
    """Seconds since midnight following the peaks-over-base profile, within service hours."""
    d = scenario.demand
    start_s, end_s = d.service_start_h * 3600, d.service_end_h * 3600
    u = rng.random(n)
    peak_h = np.where(u < d.peak_share / 2, d.morning_peak_h, d.evening_peak_h)
    in_peak = u < d.peak_share
    t = np.where(
        in_peak,
        rng.normal(peak_h * 3600, d.peak_width_h * 3600, n),
        rng.uniform(start_s, end_s, n),
    )
    # Peak draws outside service hours fall back onto the base, so the clipping adds no spike.
    outside = (t < start_s) | (t >= end_s)
    t[outside] = rng.uniform(start_s, end_s, int(outside.sum()))
    return t


def _counts(rng: np.random.Generator, rates: np.ndarray) -> np.ndarray:
    return np.minimum(rng.poisson(rates), TAPS_PER_CITIZEN_MAX)


def _tears(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    torn = rng.random(n) < p
    phase = np.where(rng.random(n) < 0.5, Tear.BEFORE_COMMIT, Tear.AFTER_COMMIT)
    return np.where(torn, phase, Tear.NONE).astype(np.int8)


def _pick_in(
    rng: np.random.Generator, options: list[np.ndarray], where: np.ndarray, fallback: int
) -> np.ndarray:
    """For each district in `where`, a uniform pick among `options[district]` (or any of
    `fallback` when the district has none)."""
    out = rng.integers(0, max(1, fallback), len(where)).astype(np.int32)
    u = rng.random(len(where))
    for d, opts in enumerate(options):
        if len(opts):
            mask = where == d
            out[mask] = opts[(u[mask] * len(opts)).astype(np.int64)]
    return out


def draw_demand(
    scenario: Scenario, city: City, columns: dict[str, np.ndarray], shard: int = 0, shards: int = 1
) -> list[Taps]:
    """Every sector's taps of the shard's citizens, each sorted by time.

    Citizens are drawn in blocks of DEMAND_BLOCK_CITIZENS by global index, each block from its
    own streams, so a citizen's day depends neither on the sharding nor on the population
    beyond its block, and a shard holds one block's draws at a time plus its own taps (not the
    whole population's). Block 0 draws from the streams a single-block population always used."""
    n = len(columns["home"])
    parts: list[list[Taps]] = []
    for block, start in enumerate(range(0, n, DEMAND_BLOCK_CITIZENS)):
        stop = min(n, start + DEMAND_BLOCK_CITIZENS)
        drawn = _draw_block(scenario, city, {k: v[start:stop] for k, v in columns.items()}, start, block)
        for k, taps in enumerate(drawn):
            if block == 0:
                parts.append([])
            parts[k].append(for_shard(taps, shard, shards))
    return [_sorted(_concat(p)) for p in parts]


def _concat(parts: list[Taps]) -> Taps:
    if len(parts) == 1:
        return parts[0]
    return Taps(
        parts[0].kind,
        *(np.concatenate([getattr(p, f) for p in parts]) for f in ("t_s", "citizen", "a", "b", "c", "tear")),
    )


def _draw_block(
    scenario: Scenario, city: City, columns: dict[str, np.ndarray], start: int, block: int
) -> list[Taps]:
    """Every sector's taps of one block of citizens (global indices from `start`), unsorted."""
    seed = scenario.run.seed
    tear_p = scenario.faults.tear_probability
    home, work = columns["home"], columns["work"]
    n = len(home)
    ids = np.arange(n, dtype=np.int64)
    out: list[Taps] = []

    # Transit trips: bus or metro; a bus trip may continue with a second bus (a transfer).
    rng = stream(seed, "demand/transit", block)
    trips = _counts(rng, columns["trip_rate"])
    who = np.repeat(ids, trips)
    t = draw_times(rng, len(who), scenario)
    # Before noon people travel from home, after noon from work.
    origin = np.where(t < 12 * 3600, home[who], work[who])
    dest = np.where(t < 12 * 3600, work[who], home[who])
    metro = (
        (rng.random(len(who)) < scenario.population.metro_share)
        if city.stations
        else np.zeros(len(who), bool)
    )

    station_lists = [
        np.flatnonzero(city.station_district == d).astype(np.int32) for d in range(city.districts)
    ]
    m_who, m_t = who[metro], t[metro]
    entry = _pick_in(rng, station_lists, origin[metro], city.stations)
    exit_ = _pick_in(rng, station_lists, dest[metro], city.stations)
    # In and out at the same station is a trip nobody makes: move the exit one station on.
    same = entry == exit_
    if city.stations > 1:
        exit_[same] = (exit_[same] + 1) % city.stations
    out.append(
        _mine(
            TapKind.METRO,
            m_t,
            m_who,
            entry,
            exit_,
            rng.integers(0, 1 << 30, len(m_who)).astype(np.int32),
            _tears(rng, len(m_who), tear_p),
            start=start,
        )
    )

    b_who, b_t, b_origin, b_dest = who[~metro], t[~metro], origin[~metro], dest[~metro]
    routes = _pick_in(rng, city.routes_by_district, b_origin, len(city.route_numbers))
    transfer = rng.random(len(b_who)) < scenario.population.transfer_share
    x_t = b_t[transfer] + rng.uniform(*TRANSFER_DELAY_S, int(transfer.sum()))
    x_routes = _pick_in(rng, city.routes_by_district, b_dest[transfer], len(city.route_numbers))
    bus_who = np.concatenate([b_who, b_who[transfer]])
    bus_t = np.concatenate([b_t, x_t])
    bus_routes = np.concatenate([routes, x_routes])
    out.append(
        _mine(
            TapKind.BUS,
            bus_t,
            bus_who,
            bus_routes,
            rng.integers(0, 1 << 30, len(bus_who)).astype(np.int32),
            np.zeros(len(bus_who), np.int32),
            _tears(rng, len(bus_who), tear_p),
            start=start,
        )
    )

    rng = stream(seed, "demand/taxi", block)
    who = np.repeat(ids, _counts(rng, columns["taxi_rate"]))
    distance_m = np.maximum(
        1000, np.round(rng.exponential(scenario.fares.taxi_trip_km_mean * 1000, len(who)), -2)
    ).astype(np.int32)
    out.append(
        _mine(
            TapKind.TAXI,
            draw_times(rng, len(who), scenario),
            who,
            rng.integers(0, 1 << 30, len(who)).astype(np.int32),
            distance_m,
            np.zeros(len(who), np.int32),
            _tears(rng, len(who), tear_p),
            start=start,
        )
    )

    rng = stream(seed, "demand/retail", block)
    who = np.repeat(ids, _counts(rng, columns["merchant_rate"]))
    merchant_lists = [
        np.flatnonzero(city.merchant_district == d).astype(np.int32) for d in range(city.districts)
    ]
    near = np.where(rng.random(len(who)) < 0.5, home[who], work[who])
    amount = np.maximum(
        100, np.round(rng.exponential(scenario.population.merchant_spend_fen_mean, len(who)), -1)
    ).astype(np.int32)
    out.append(
        _mine(
            TapKind.RETAIL,
            draw_times(rng, len(who), scenario),
            who,
            _pick_in(rng, merchant_lists, near, len(city.merchant_district)),
            amount,
            np.zeros(len(who), np.int32),
            _tears(rng, len(who), tear_p),
            start=start,
        )
    )
    return out


def _mine(
    kind: TapKind,
    t_s: np.ndarray,
    citizen: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    tear: np.ndarray,
    start: int,
) -> Taps:
    """One sector's drawn taps of a block, its citizens numbered globally."""
    return Taps(kind, t_s, citizen + start, a, b, c, tear)


def _sorted(taps: Taps) -> Taps:
    # A stable sort on (time, citizen) so equal times keep one order on every machine.
    order = np.lexsort((taps.citizen, taps.t_s))
    return Taps(
        taps.kind,
        taps.t_s[order],
        taps.citizen[order],
        taps.a[order],
        taps.b[order],
        taps.c[order],
        taps.tear[order],
    )


def for_shard(taps: Taps, shard: int, shards: int) -> Taps:
    if shards == 1:
        return taps
    keep = taps.citizen % shards == shard
    return Taps(
        taps.kind,
        taps.t_s[keep],
        taps.citizen[keep],
        taps.a[keep],
        taps.b[keep],
        taps.c[keep],
        taps.tear[keep],
    )
