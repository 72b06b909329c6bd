"""The day's demand: every tap the population will try, drawn up front as sorted columns.

Taps are drawn per sector (bus, metro, taxi, retail) for the whole sampled population from
their own named streams, then a shard keeps its citizens' taps. Times follow the sector's
time-of-day profile (`profile_of`): transit a morning and an evening peak over a flat base
between the first and the last service; taxis and shops their own peaks and hours when the
scenario gives them (taxis through the night, shops at midday and in the evening). A
citizen's day is a chain (`sim.city.chains`): trips in order from home to work and back, a
purchase after leaving home, each sector still on its profile. What
happens at each tap (the fare, the card's answer, a queue at a recharge point) is the
simulation's business at that moment; only the intent is drawn here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from scenarios.schema import Scenario
from sim.city.chains import after_leave, gap_to_next_s, quantile_times, rank_in_citizen
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


@dataclass(frozen=True, slots=True)
class Profile:
    """A sector's time of day: normal peaks holding `peak_shares` of its taps, the rest flat
    between `start_h` and `end_h` (its hours)."""

    peaks_h: tuple[float, ...]
    peak_shares: tuple[float, ...]
    width_h: float
    start_h: float
    end_h: float


def profile_of(scenario: Scenario, kind: TapKind) -> Profile:
    """The scenario's profile for a sector: taxis and shops their own when the scenario lists
    their peaks, else (and transit always) the commuter one."""
    d = scenario.demand
    own = {
        TapKind.TAXI: (d.taxi_peaks_h, d.taxi_peak_shares, d.taxi_peak_width_h, d.taxi_start_h, d.taxi_end_h),
        TapKind.RETAIL: (
            d.retail_peaks_h,
            d.retail_peak_shares,
            d.retail_peak_width_h,
            d.retail_start_h,
            d.retail_end_h,
        ),
    }.get(kind)
    if own is not None and own[0]:
        peaks, shares, width, start, end = own
        return Profile(tuple(peaks), tuple(shares), width, start, end)
    half = d.peak_share / 2
    return Profile(
        (d.morning_peak_h, d.evening_peak_h), (half, half), d.peak_width_h, d.service_start_h, d.service_end_h
    )


def draw_times(
    rng: np.random.Generator, n: int, scenario: Scenario, kind: TapKind = TapKind.BUS
) -> np.ndarray:
    """Seconds since midnight following the sector's peaks-over-base profile, within its hours."""
    f = profile_of(scenario, kind)
    start_s, end_s = f.start_h * 3600, f.end_h * 3600
    u = rng.random(n)
    bounds = np.cumsum(f.peak_shares)
    which = np.minimum(np.searchsorted(bounds, u, side="right"), len(f.peaks_h) - 1)
    peak_h = np.asarray(f.peaks_h)[which]
    in_peak = u < bounds[-1]
    t = np.where(
        in_peak,
        rng.normal(peak_h * 3600, f.width_h * 3600, n),
        rng.uniform(start_s, end_s, n),
    )
    # Peak draws outside the hours fall back onto the base, so the clipping adds no spike.
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
    """Every sector's taps of one block of citizens (global indices from `start`), unsorted.

    Transit (metro and bus) shares one stream, taxi and retail have one each; within a stream
    the draws come in a fixed order, which is the order of the calls below.
    """
    seed = scenario.run.seed
    tear_p = scenario.faults.tear_probability
    ids = np.arange(len(columns["home"]), dtype=np.int64)
    transit_rng = stream(seed, "demand/transit", block)
    trips = _transit_trips(transit_rng, scenario, city, columns, ids)
    metro = _metro_taps(transit_rng, city, trips.only(trips.metro), tear_p)
    bus = _bus_taps(transit_rng, scenario, city, trips.only(~trips.metro), tear_p)
    leave_s = _leave_s(trips, len(ids))
    taxi = _taxi_taps(stream(seed, "demand/taxi", block), scenario, columns, ids, tear_p)
    retail = _retail_taps(stream(seed, "demand/retail", block), scenario, city, columns, ids, tear_p, leave_s)
    return [_numbered_from(taps, start) for taps in (metro, bus, taxi, retail)]


@dataclass(frozen=True, slots=True)
class _Trips:
    """A block's transit trips: who travels when, between which districts, and whether by metro."""

    who: np.ndarray  # citizen index within the block
    t_s: np.ndarray
    origin: np.ndarray
    dest: np.ndarray
    metro: np.ndarray  # bool
    gap_s: np.ndarray  # to the citizen's next trip (inf for the day's last)
    from_home: np.ndarray  # bool

    def only(self, keep: np.ndarray) -> _Trips:
        return _Trips(
            self.who[keep],
            self.t_s[keep],
            self.origin[keep],
            self.dest[keep],
            self.metro[keep],
            self.gap_s[keep],
            self.from_home[keep],
        )


def _transit_trips(
    rng: np.random.Generator, scenario: Scenario, city: City, columns: dict[str, np.ndarray], ids: np.ndarray
) -> _Trips:
    """The block's trips as chains (`sim.city.chains`): a citizen's k trips at the transit
    profile's k strata in turn, from home, from work, from home..."""
    home, work = columns["home"], columns["work"]
    who = np.repeat(ids, _counts(rng, columns["trip_rate"]))
    rank, count = rank_in_citizen(who)
    f = profile_of(scenario, TapKind.BUS)
    t_s = quantile_times((rank + rng.random(len(who))) / count, *_fields(f))
    # A lone trip before noon leaves home, after noon work; in a chain the trips alternate.
    from_home = np.where(count == 1, t_s < 12 * 3600, rank % 2 == 0)
    origin = np.where(from_home, home[who], work[who])
    dest = np.where(from_home, work[who], home[who])
    metro = (
        (rng.random(len(who)) < scenario.population.metro_share)
        if city.stations
        else np.zeros(len(who), bool)
    )
    return _Trips(who, t_s, origin, dest, metro, gap_to_next_s(who, t_s), from_home)


def _fields(f: Profile) -> tuple[tuple[float, ...], tuple[float, ...], float, float, float]:
    return f.peaks_h, f.peak_shares, f.width_h, f.start_h, f.end_h


def _leave_s(trips: _Trips, citizens: int) -> np.ndarray:
    """Each block citizen's first departure from home (NaN for a citizen who leaves no home)."""
    leave_s = np.full(citizens, np.nan)
    first = trips.from_home & (rank_in_citizen(trips.who)[0] == 0)
    leave_s[trips.who[first]] = trips.t_s[first]
    return leave_s


def _metro_taps(rng: np.random.Generator, city: City, trips: _Trips, tear_p: float) -> Taps:
    """Metro trips: an entry station in the origin district, an exit in the destination's."""
    station_lists = [
        np.flatnonzero(city.station_district == d).astype(np.int32) for d in range(city.districts)
    ]
    entry = _pick_in(rng, station_lists, trips.origin, city.stations)
    exit_ = _pick_in(rng, station_lists, trips.dest, city.stations)
    # In and out at the same station is a trip nobody makes: move the exit one station on.
    same = entry == exit_
    if city.stations > 1:
        exit_[same] = (exit_[same] + 1) % city.stations
    gate_pick = rng.integers(0, 1 << 30, len(trips.who)).astype(np.int32)
    return Taps(
        TapKind.METRO, trips.t_s, trips.who, entry, exit_, gate_pick, _tears(rng, len(trips.who), tear_p)
    )


def _bus_taps(rng: np.random.Generator, scenario: Scenario, city: City, trips: _Trips, tear_p: float) -> Taps:
    """Bus trips: a route serving the origin district; some continue on a second bus (a
    transfer) on a route serving the destination, a few minutes later."""
    n_routes = len(city.route_numbers)
    routes = _pick_in(rng, city.routes_by_district, trips.origin, n_routes)
    transfer = rng.random(len(trips.who)) < scenario.population.transfer_share
    # A transfer boards before the citizen's next trip does (half the gap at the latest).
    delay_s = np.minimum(rng.uniform(*TRANSFER_DELAY_S, int(transfer.sum())), trips.gap_s[transfer] / 2)
    transfer_t_s = trips.t_s[transfer] + delay_s
    transfer_routes = _pick_in(rng, city.routes_by_district, trips.dest[transfer], n_routes)
    who = np.concatenate([trips.who, trips.who[transfer]])
    bus_pick = rng.integers(0, 1 << 30, len(who)).astype(np.int32)
    return Taps(
        TapKind.BUS,
        np.concatenate([trips.t_s, transfer_t_s]),
        who,
        np.concatenate([routes, transfer_routes]),
        bus_pick,
        np.zeros(len(who), np.int32),
        _tears(rng, len(who), tear_p),
    )


def _taxi_taps(
    rng: np.random.Generator,
    scenario: Scenario,
    columns: dict[str, np.ndarray],
    ids: np.ndarray,
    tear_p: float,
) -> Taps:
    """Taxi rides: any taxi, over an exponential distance (at least 1 km, in steps of 100 m)."""
    who = np.repeat(ids, _counts(rng, columns["taxi_rate"]))
    distance_m = np.maximum(
        1000, np.round(rng.exponential(scenario.fares.taxi_trip_km_mean * 1000, len(who)), -2)
    ).astype(np.int32)
    t_s = draw_times(rng, len(who), scenario, TapKind.TAXI)
    taxi_pick = rng.integers(0, 1 << 30, len(who)).astype(np.int32)
    return Taps(
        TapKind.TAXI,
        t_s,
        who,
        taxi_pick,
        distance_m,
        np.zeros(len(who), np.int32),
        _tears(rng, len(who), tear_p),
    )


def _retail_taps(
    rng: np.random.Generator,
    scenario: Scenario,
    city: City,
    columns: dict[str, np.ndarray],
    ids: np.ndarray,
    tear_p: float,
    leave_s: np.ndarray,
) -> Taps:
    """Shop purchases: a merchant near home or near work (even odds), an exponential amount, at
    the retail profile's times handed out after each citizen's departure (`chains.after_leave`)."""
    home, work = columns["home"], columns["work"]
    who = np.repeat(ids, _counts(rng, columns["merchant_rate"]))
    merchant_lists = [
        np.flatnonzero(city.merchant_district == d).astype(np.int32) for d in range(city.districts)
    ]
    near = np.where(rng.random(len(who)) < 0.5, home[who], work[who])
    amount_fen = np.maximum(
        100, np.round(rng.exponential(scenario.population.merchant_spend_fen_mean, len(who)), -1)
    ).astype(np.int32)
    t_s = after_leave(rng, draw_times(rng, len(who), scenario, TapKind.RETAIL), who, leave_s)
    merchant = _pick_in(rng, merchant_lists, near, len(city.merchant_district))
    return Taps(
        TapKind.RETAIL,
        t_s,
        who,
        merchant,
        amount_fen,
        np.zeros(len(who), np.int32),
        _tears(rng, len(who), tear_p),
    )


def _numbered_from(taps: Taps, start: int) -> Taps:
    """A block's taps with its citizens numbered globally (the block's first is `start`), as
    int32 (population.CITIZENS_MAX < 2**31: half the bytes of the day's longest column but one)."""
    citizen = (taps.citizen + start).astype(np.int32)
    return Taps(taps.kind, taps.t_s, citizen, taps.a, taps.b, taps.c, taps.tear)


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
