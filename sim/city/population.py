"""The population: one row per simulated citizen, held as columns (numpy arrays), not objects.

Each simulated citizen stands for `weight` real cardholders (the sample). A citizen's card is
held as its compact image (about 140 bytes at issue, growing by a log record a transaction, up
to ten) in one `ImageStore`, once it is first written; until then the store makes it again from
the card factory when it is read. The card OS is materialised only for a tap.
Columns are drawn for the whole sampled population from the "population" stream and a shard
keeps its rows (every `shards`-th citizen), so a citizen is the same person whichever way the
run is split. A stream's numbers cannot be skipped (gamma, Poisson and exponential draws take a
varying count of raw numbers each, so where a citizen's numbers lie depends on everyone drawn
before), so a shard draws every citizen's numbers but computes only its own rows' opening
balances (the warm-up, `sim.city.balances`, the build's costliest part). Columns a scenario
holds constant are one value seen as a column (`np.broadcast_to`: no bytes per citizen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from devices.factory import MAX_BALANCE_FEN_DEFAULT, CardFactory, CardProfile
from model.card import CardType
from model.security import IssuerKeys
from scenarios.schema import Scenario
from sim.city.balances import warm_balances
from sim.city.images import ImageStore
from sim.rng import stream

ASN_PREFIX = bytes.fromhex("33012009")  # city 3301 (Hangzhou), issue series 2009
BALANCE_ROUNDING_FEN = 10
CITIZENS_MAX = 20_000_000  # beyond the largest city in the seeds; guards a typo in a scenario


def sampled_citizens(scenario: Scenario) -> int:
    return max(1, round(scenario.population.cardholders * scenario.run.sample))


def asn_of(index: int) -> bytes:
    return ASN_PREFIX + index.to_bytes(4, "big")


def index_of(asn: bytes) -> int:
    return int.from_bytes(asn[4:8], "big")


@dataclass(slots=True)
class Population:
    """Columns, one entry per citizen of this shard, and their card images (one buffer)."""

    index: np.ndarray  # global citizen index (the ASN's serial), int32 (CITIZENS_MAX < 2**31)
    card_type: np.ndarray  # CardType value
    home: np.ndarray  # district
    work: np.ndarray  # district
    trip_rate: np.ndarray  # transit trips a day
    taxi_rate: np.ndarray
    merchant_rate: np.ndarray
    has_pass: np.ndarray  # monthly bus pass
    bank: np.ndarray  # index into the scenario's banks
    prefers_window: np.ndarray  # tops up at a service window rather than a recharge point
    topup_threshold_fen: np.ndarray
    topup_amount_fen: np.ndarray
    opening_balance_fen: np.ndarray
    weight: np.ndarray  # real cardholders each simulated citizen stands for
    images: ImageStore
    last_board_s: np.ndarray  # time of the last transit boarding today (NaN: none yet)
    recharging: np.ndarray  # on the way to, or queuing at, a recharge point

    def __len__(self) -> int:
        return len(self.index)

    def row_of(self, global_index: int) -> int:
        """The row of a global citizen index in this shard (rows are sorted by index)."""
        row = int(np.searchsorted(self.index, global_index))
        assert self.index[row] == global_index
        return row

    def columns_nbytes(self) -> int:
        """Bytes the columns hold (a constant seen as a column holds one value, not `nbytes`)."""
        return sum(
            _held(getattr(self, name))
            for name in Population.__slots__
            if isinstance(getattr(self, name), np.ndarray)
        )

    def held_nbytes(self) -> int:
        """The bytes the population's data hold: columns and card images (not the objects'
        overheads, which `sim.day.shards.AnonPeak` measures in the resident memory)."""
        return self.columns_nbytes() + self.images.nbytes


def _held(column: np.ndarray) -> int:
    return column.itemsize if column.strides == (0,) else column.nbytes


def _constant(value: float | int, n: int, dtype: type) -> np.ndarray:
    """A read-only column of `n` times `value` that holds one value."""
    return np.broadcast_to(np.array(value, dtype), (n,))


def draw_columns(scenario: Scenario, district_share: np.ndarray) -> dict[str, np.ndarray]:
    """Every citizen's attributes, for the whole sampled population, without the opening
    balances (`opening_balances`: drawn for the rows a shard holds)."""
    p = scenario.population
    n = sampled_citizens(scenario)
    if n > CITIZENS_MAX:
        raise ValueError(f"{n} simulated citizens exceeds {CITIZENS_MAX}")
    rng = stream(scenario.run.seed, "population")
    districts = len(district_share)
    kind = rng.choice(
        np.array([CardType.ADULT, CardType.STUDENT, CardType.ELDERLY], dtype=np.int8),
        size=n,
        p=[1 - p.student_share - p.elderly_share, p.student_share, p.elderly_share],
    )
    home = rng.choice(districts, size=n, p=district_share).astype(np.int16)
    # Most people work or study near home; the rest anywhere, weighted by district size.
    anywhere = rng.choice(districts, size=n, p=district_share).astype(np.int16)
    work = np.where(rng.random(n) < 0.4, home, anywhere).astype(np.int16)
    # Trip rates vary between people (a gamma around the mean keeps them positive).
    trip_rate = (rng.gamma(4.0, p.transit_trips_per_day / 4.0, n)).astype(np.float32)
    elderly = kind == CardType.ELDERLY
    trip_rate[elderly] *= 0.6  # fewer commute trips
    trip_rate *= p.transit_trips_per_day / max(float(trip_rate.mean()), 1e-9)
    taxi_rate = _constant(p.taxi_trips_per_day, n, np.float32)
    merchant_rate = _constant(p.merchant_purchases_per_day, n, np.float32)
    has_pass = (rng.random(n) < p.monthly_pass_share) & (kind == CardType.ADULT)
    bank = rng.integers(0, len(scenario.city.banks), n).astype(np.int8)
    prefers_window = rng.random(n) < p.window_share
    return {
        "card_type": kind,
        "home": home,
        "work": work,
        "trip_rate": trip_rate,
        "taxi_rate": taxi_rate,
        "merchant_rate": merchant_rate,
        "has_pass": has_pass,
        "bank": bank,
        "prefers_window": prefers_window,
        "topup_threshold_fen": _constant(p.topup_threshold_fen, n, np.int32),
        "topup_amount_fen": _constant(p.topup_amount_fen, n, np.int32),
    }


def opening_balances(scenario: Scenario, columns: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    """The opening balances (fen) of the citizens `rows` of the whole population's `columns`:
    the same as every citizen's balances taken at `rows` (every citizen's numbers are drawn)."""
    opening = warm_balances(scenario, stream(scenario.run.seed, "balances"), columns, rows)
    return (opening // BALANCE_ROUNDING_FEN * BALANCE_ROUNDING_FEN).astype(np.int64)


def build_population(
    scenario: Scenario,
    issuer_keys: IssuerKeys,
    district_share: np.ndarray,
    shard: int = 0,
    shards: int = 1,
    with_balances: bool = True,
    columns: dict[str, np.ndarray] | None = None,
) -> Population:
    """This shard's citizens with personalised cards, holding their opening balances when
    `with_balances` (else empty, for the balances to be loaded by real records). `columns`:
    the whole population's, when the caller has drawn them already."""
    if columns is None:
        columns = draw_columns(scenario, district_share)
    n = len(columns["home"])
    rows = np.arange(shard, n, shards, dtype=np.int32)
    picked = {
        name: _constant(col[0], len(rows), col.dtype.type) if col.strides == (0,) else col[rows]
        for name, col in columns.items()
    }
    picked["opening_balance_fen"] = opening_balances(scenario, columns, rows)
    factory = CardFactory(issuer_keys)
    # Cards were issued over the years before the run (Hangzhou from 2004) and last a decade.
    # Run.day's annotation names the field `date` (a str), so mypy sees Any: typed here.
    day: date = scenario.run.day
    start, expiry = date(day.year - 5, 1, 1), date(day.year + 10, 12, 31)

    picked["opening_balance_fen"] = np.minimum(picked["opening_balance_fen"], MAX_BALANCE_FEN_DEFAULT)
    picked["opening_balance_fen"].setflags(write=False)  # the world's carried float is this array
    card_type, opening = picked["card_type"], picked["opening_balance_fen"]

    def issue(row: int) -> bytes:
        """The row's card as issued, with its opening balance (the cap is the factory's, so the
        column's capped balance is the card's)."""
        state = factory.personalise(
            CardProfile(
                asn=asn_of(int(rows[row])),
                card_type=CardType(int(card_type[row])),
                start=start,
                expiry=expiry,
            )
        )
        if with_balances:
            state.ep_balance_fen = min(int(opening[row]), state.max_balance_fen)
        return state.to_image()

    images = ImageStore(len(rows), issue)
    weight = scenario.population.cardholders / n
    return Population(
        index=rows,
        weight=_constant(weight, len(rows), np.float32),
        images=images,
        last_board_s=np.full(len(rows), np.nan),
        recharging=np.zeros(len(rows), bool),
        **picked,
    )
