"""The services over a rollout's months: the medical-insurance share of visits settled by card,
and the park annual card's holders, as MODEL OUTPUTS of adoption mechanisms.

Neither seed figure ("over 70% of medical-insurance visits use the card", "36,000+ park-card
holders by the end of 2008", seed 003) is an input. They are compared with what these
mechanisms give from the rollout's own cardholders month by month:

    medical share(m) = medical on(m) x insured holders(m) x institutions on(m) x their visit share x use(m)
      medical on(m)      = 1 in the months whose phase switches the "medical" sector on (the plan)
      insured holders(m) = min(1, cardholders(m) x insured_holder_share / insured_persons)
      institutions on(m) = 0 before institutions_from, rising linearly to all 175 by
                           institutions_full [seed 003: 175 by the end of 2006]
      use(m)             = early_use_share before the card becomes the credential
                           [seed 003: 2007-01-01], then rising to credential_use_share over
                           credential_ramp_months
    park holders: Bass diffusion from park_card_from among a potential of
                  park_potential_share x cardholders(m): dN = (p + q N/M)(M - N) a month

Each parameter marked ASSUMPTION comes with a range; the spread (5th to 95th percentile) is
over `draws` uniform draws of every range from a seeded stream, the point figure from the
point values. Only plain month rows are read (`month`, `cardholders`, `sectors`), so this module
does not depend on the rollout engine. The seed's figures are compared only where the rollout's
months hold their dates (the park figure at 2008-12, the medical share at 2009-03, the date of
the seed's "目前": its cards-issued figure is of 2009-03-02).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from scenarios.services_schema import Services
from sim.rng import stream
from sim.table import Row, Table

SEED_MEDICAL_SHARE = 0.70  # seed 003: "over 70%" of medical-insurance visits use the card
SEED_PARK_HOLDERS = 36_000  # seed 003: "36,000+" park annual card holders by the end of 2008
SEED_PARK_MONTH = "2008-12"
SEED_MEDICAL_MONTH = "2009-03"
PERCENTILES = (5.0, 95.0)
RANGED = (
    "insured_holder_share",
    "institutions_visit_share",
    "early_use_share",
    "credential_use_share",
    "credential_ramp_months",
    "park_potential_share",
    "park_p",
    "park_q",
)


class MonthLike(Protocol):
    @property
    def month(self) -> str: ...

    @property
    def cardholders(self) -> int: ...

    @property
    def sectors(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class ServicesRollout:
    months: tuple[str, ...]
    medical_share: np.ndarray  # (draws + 1, months): row 0 the point values
    park_holders: np.ndarray

    def band(self, figure: np.ndarray, i: int) -> tuple[float, float, float]:
        low, high = np.percentile(figure[1:, i], PERCENTILES)
        return float(figure[0, i]), float(low), float(high)


def _index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _params(sv: Services, draws: int, seed: int) -> dict[str, np.ndarray]:
    """Row 0 the point values, then `draws` uniform draws of each [low, point, high] range."""
    a = sv.adoption
    rng = stream(seed, "services/rollout")
    out = {}
    for name in RANGED:
        low, point, high = getattr(a, name)
        out[name] = np.concatenate([[point], rng.uniform(low, high, draws)])
    return out


def _medical(sv: Services, months: Sequence[MonthLike], p: dict[str, np.ndarray]) -> np.ndarray:
    a = sv.adoption
    holders = np.array([m.cardholders for m in months], dtype=float)
    at = np.array([_index(m.month) for m in months])
    start, full = _index(a.institutions_from), _index(a.institutions_full)
    switch = _index(sv.medical.card_settlement_from[:7])
    on = np.clip((at - start + 1) / max(1, full - start + 1), 0.0, 1.0)
    on *= np.array([1.0 if "medical" in m.sectors else 0.0 for m in months])
    insured = np.minimum(
        1.0, holders[None, :] * p["insured_holder_share"][:, None] / max(1, a.insured_persons)
    )
    since = np.maximum(0, at - switch + 1)[None, :]
    ramp = np.minimum(1.0, since / np.maximum(1.0, p["credential_ramp_months"])[:, None])
    early, later = p["early_use_share"][:, None], p["credential_use_share"][:, None]
    use = np.where(at[None, :] < switch, early, early + (later - early) * ramp)
    share: np.ndarray = insured * on[None, :] * p["institutions_visit_share"][:, None] * use
    return share


def _park(sv: Services, months: Sequence[MonthLike], p: dict[str, np.ndarray]) -> np.ndarray:
    start = _index(sv.adoption.park_card_from)
    held = np.zeros(len(p["park_p"]))
    out = np.zeros((len(held), len(months)))
    for i, m in enumerate(months):
        if _index(m.month) >= start:
            potential = p["park_potential_share"] * m.cardholders
            room = np.maximum(0.0, potential - held)
            held = held + np.minimum(
                room, (p["park_p"] + p["park_q"] * held / np.maximum(1.0, potential)) * room
            )
        out[:, i] = held
    return out


def services_rollout(sv: Services, months: Sequence[MonthLike], seed: int) -> ServicesRollout:
    p = _params(sv, sv.adoption.draws, seed)
    return ServicesRollout(tuple(m.month for m in months), _medical(sv, months, p), _park(sv, months, p))


# The services' day figures of the rollout's months (MonthRow.services_per_day), as columns.
PER_DAY = (
    "medical_visits",
    "medical_own_purse_fen",
    "account_payments",
    "account_payments_fen",
    "bike_rentals",
    "library_loans",
    "park_entries",
)


def rollout_tables(r: ServicesRollout, per_day: Sequence[Mapping[str, int]] = ()) -> dict[str, Table]:
    """The months' outputs (and, given `per_day`, each month's services figures a day, city-wide,
    from the rollout's representative days) and the comparison with the seed."""
    assert not per_day or len(per_day) == len(r.months), "one day of services figures per month"
    rows = []
    for i, month in enumerate(r.months):
        share, s_low, s_high = r.band(r.medical_share, i)
        park, p_low, p_high = r.band(r.park_holders, i)
        day = tuple(per_day[i].get(k, 0) for k in PER_DAY) if per_day else ()
        bands = (round(share, 4), round(s_low, 4), round(s_high, 4), round(park), round(p_low), round(p_high))
        rows.append((month, *bands, *day))
    columns = ["month", "medical_card_share", "share_p5", "share_p95", "park_holders", "park_p5", "park_p95"]
    columns += (
        [f"{k.removesuffix('_fen')}_per_day{'_fen' if k.endswith('_fen') else ''}" for k in PER_DAY]
        if per_day
        else []
    )
    return {
        "services_months": (columns, rows),
        "services_vs_seed": (["figure", "month", "model", "p5", "p95", "seed", "verdict"], _compare(r)),
    }


def _verdict(seed_value: float, low: float, high: float, at_least: bool) -> str:
    if low <= seed_value <= high:
        return "seed figure inside the model's 90% band"
    if at_least and seed_value < low:
        return "model above the seed's floor (consistent with '+')"
    return "model below the seed figure" if high < seed_value else "model above the seed figure"


def _compare(r: ServicesRollout) -> list[Row]:
    out: list[Row] = []
    if SEED_MEDICAL_MONTH in r.months:
        share, s_low, s_high = r.band(r.medical_share, r.months.index(SEED_MEDICAL_MONTH))
        verdict = _verdict(SEED_MEDICAL_SHARE, s_low, s_high, True)
        out.append(
            ("medical_card_share", SEED_MEDICAL_MONTH, round(share, 4), round(s_low, 4), round(s_high, 4),
             SEED_MEDICAL_SHARE, verdict)
        )  # fmt: skip
    if SEED_PARK_MONTH in r.months:
        i = r.months.index(SEED_PARK_MONTH)
        park, p_low, p_high = r.band(r.park_holders, i)
        verdict = _verdict(SEED_PARK_HOLDERS, p_low, p_high, True)
        out.append(
            (
                "park_holders",
                SEED_PARK_MONTH,
                round(park),
                round(p_low),
                round(p_high),
                SEED_PARK_HOLDERS,
                verdict,
            )
        )
    return out


def rollout_lines(r: ServicesRollout) -> list[str]:
    """The services' outputs for the rollout's text report: quarter ends and the comparison."""
    shares = [
        f"{m} {r.medical_share[0, i]:.0%}"
        for i, m in enumerate(r.months)
        if m.endswith(("-03", "-06", "-09", "-12"))
    ]
    lines = ["medical-insurance visits settled by card (MODEL OUTPUT, by quarter; every month in "
             "services_months.csv): " + ", ".join(shares)]  # fmt: skip
    for figure, month, model, low, high, seed, verdict in _compare(r):
        pattern = "{:.0%}" if figure == "medical_card_share" else "{:,.0f}"
        model_s, low_s, high_s, seed_s = (pattern.format(v) for v in (model, low, high, seed))
        lines.append(
            f"  {figure} at {month}: model {model_s} (90% band {low_s}..{high_s} over the "
            f"ASSUMPTION ranges) vs seed 003 {seed_s}+: {verdict}"
        )
    return lines
