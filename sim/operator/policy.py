"""The float under a policy: a reserve (备付金) that covers refunds and redemptions at a stated
confidence, the rest invested at a yield with a risk, and the stress test of that policy.

Daily net redemptions (refunds of returned cards and balances spent faster than loaded) are
modelled as independent normal draws, mean `m` and spread `s` as shares of the float; the
investments take `h` days to turn into cash, so the reserve must cover the outflow of `h` days
at confidence `c`:

    reserve = max(floor * float, float * (m * h + z_c * s * sqrt(h)))     z_c = Φ⁻¹(c)

A stress is a refund wave (a share of the float claimed within some days, on top of the usual
outflow) together with a yield shock (the yield moves by some basis points, and investments
sold early lose a haircut). The verdict: the reserve alone holds, or the reserve and the
investments sold at the haircut hold (with the loss), or the policy fails (the shortfall).
Pure functions over integer fen; the only randomness is the check of the stated confidence,
from a named seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm  # type: ignore[import-untyped]  # no stubs installed: read back as float

BP = 10_000
DRAWS_MAX = 1_000_000


@dataclass(frozen=True, slots=True)
class FloatPolicy:
    confidence: float
    horizon_days: int
    outflow_mean_share: float  # per day
    outflow_sd_share: float  # per day
    floor_share: float
    reserve_rate_bp: int  # what the reserve account earns
    yield_bp: int  # what the invested part earns, a year
    yield_sd_bp: int


@dataclass(frozen=True, slots=True)
class Stress:
    wave_share: float
    wave_days: int
    yield_shock_bp: int
    haircut_bp: int


@dataclass(frozen=True, slots=True)
class StressVerdict:
    float_fen: int
    reserve_fen: int
    invested_fen: int
    claimed_fen: int  # the wave and the usual outflow over its days
    sold_fen: int  # investments sold (face) to pay the rest
    loss_fen: int  # the haircut on what was sold
    shortfall_fen: int  # what neither could pay
    income_shocked_fen: int  # a year's investment income at the shocked yield, on what is left

    @property
    def holds(self) -> bool:
        return self.shortfall_fen == 0

    @property
    def verdict(self) -> str:
        if self.sold_fen == 0:
            return "holds: the reserve alone pays the wave"
        if self.holds:
            return "holds: the reserve and investments sold at the haircut pay the wave"
        return "FAILS: the reserve and every investment sold do not pay the wave"


def reserve_fen(float_fen: int, p: FloatPolicy) -> int:
    """The reserve the policy requires for a float (never more than the float)."""
    z = float(norm.ppf(p.confidence))
    h = p.horizon_days
    need = float_fen * (p.outflow_mean_share * h + z * p.outflow_sd_share * math.sqrt(h))
    return min(float_fen, max(math.ceil(need), math.ceil(p.floor_share * float_fen)))


def month_income_fen(reserve: int, invested: int, reserve_rate_bp: int, yield_bp: int) -> int:
    """A month's interest: the reserve at its account rate, the invested part at its yield."""
    return (reserve * reserve_rate_bp + invested * yield_bp) // (12 * BP)


def stress_test(float_fen: int, reserve: int, p: FloatPolicy, s: Stress) -> StressVerdict:
    invested = float_fen - reserve
    # each part rounded to the fen on its own: a share times a float is not exact in binary
    claimed = round(float_fen * s.wave_share) + round(float_fen * p.outflow_mean_share * s.wave_days)
    from_reserve = min(claimed, reserve)
    rest = claimed - from_reserve
    haircut = s.haircut_bp / BP
    cash_per_face = 1.0 - haircut
    sellable_cash = math.floor(invested * cash_per_face)
    paid = min(rest, sellable_cash)
    sold = min(invested, math.ceil(paid / cash_per_face)) if paid else 0
    left = invested - sold
    shocked_bp = max(0, p.yield_bp + s.yield_shock_bp)
    return StressVerdict(
        float_fen, reserve, invested, claimed, sold, sold - paid, rest - paid, left * shocked_bp // BP
    )


def breach_share(p: FloatPolicy, draws: int, seed: int) -> tuple[int, int]:
    """(breaches, draws): horizons of simulated daily outflows that exceed the reserve the
    policy sizes (a float of 1e12 fen keeps rounding out of it). Checks the stated confidence."""
    assert 1 <= draws <= DRAWS_MAX
    float_fen = 10**12
    reserve = reserve_fen(float_fen, p)
    rng = np.random.default_rng(seed)
    daily = rng.normal(p.outflow_mean_share, p.outflow_sd_share, size=(draws, p.horizon_days))
    outflow = daily.sum(axis=1) * float_fen
    return int((outflow > reserve).sum()), draws
