"""Queues at a plan's recharge points: top-up demand, nearest-site assignment, Erlang C.

Cardholders live as residents do (the same share per cell) and top up at the recharge point
nearest to their cell along the streets. A cardholder's top-ups per day are the twin's own: the
steady state of the top-up habit (`sim.city.steady`), less the share done at service windows.
They are not the scenario's rates at list prices over the top-up amount: cardholders pay
concessions, and a purchase larger than the balance is refused, so the card spends less than
the inputs say (`TopupDemand.spend_input_fen` against `spend_fen`). The day's top-ups
spread over the hours as the twin's recharge arrivals do (`sim.city.topup_times`).
Each site in each hour is an M/M/c queue (Poisson arrivals, c = points x kiosks, exponential
service of `kiosk_service_s`), so its mean wait is Erlang C (`sim.placement.queueing`), and the chance to
wait longer than t is P(wait) x exp(-(c mu - lambda) t). The plan's mean wait is the mean over
all top-ups of the day; its p95 the 95th percentile of that mixture. A site-hour at or above
full utilisation has no steady state: its top-ups count as waiting without bound
(`overloaded_share`), and the mean is infinite. The twin day measures real queues (with people
turning away); this is the planner's quick estimate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from scenarios.schema import Scenario
from sim.city.steady import habit
from sim.city.topup_times import arrival_density
from sim.placement.geo import Geography, PlacementError, owners
from sim.placement.queueing import erlang_c_wait_s

HOURS = 24
RHO_DESIGN = 0.8  # ASSUMPTION: a point is full at 80% utilisation in its busiest hour
P95_ITERATIONS = 100


@dataclass(frozen=True, slots=True)
class TopupDemand:
    cardholders: int
    topups_per_cardholder_day: float
    hour_share: tuple[float, ...]  # share of the day's top-ups in each hour, sums to 1
    service_s: float
    kiosks_per_point: int
    spend_input_fen: float = 0.0  # per cardholder-day: the scenario's rates at list prices
    spend_fen: float = 0.0  # per cardholder-day: what the twin's habit pays (predicted)

    @property
    def spend_gap_share(self) -> float:
        """Predicted spending over the inputs' figure, less one."""
        return self.spend_fen / self.spend_input_fen - 1 if self.spend_input_fen else 0.0

    @property
    def peak_rate_per_cardholder_s(self) -> float:
        return self.topups_per_cardholder_day * max(self.hour_share) / 3600

    def capacity_cardholders(self, rho: float = RHO_DESIGN) -> float:
        """Cardholders one point serves at utilisation `rho` in the busiest hour."""
        return rho * self.kiosks_per_point / (self.service_s * self.peak_rate_per_cardholder_s)


def hour_shares(s: Scenario) -> tuple[float, ...]:
    """Share of the day's top-ups in each hour: the twin's recharge arrivals
    (`sim.city.topup_times`: the sectors' profiles weighted by their spending, after the walk)."""
    density = arrival_density(s)
    per_hour = density.reshape(HOURS, -1).sum(axis=1)
    return tuple(float(x) for x in per_hour / per_hour.sum())


def demand_of(s: Scenario, cardholders: int | None = None) -> TopupDemand:
    """The top-up demand of `s`'s cardholders at recharge points, as the twin's day has it."""
    p = s.population
    h = habit(s)
    return TopupDemand(
        cardholders=p.cardholders if cardholders is None else cardholders,
        topups_per_cardholder_day=h.topups_per_cardholder_day * (1 - p.window_share),
        hour_share=hour_shares(s),
        service_s=s.service.kiosk_service_s,
        kiosks_per_point=s.city.kiosks_per_recharge_point,
        spend_input_fen=h.input_spend_fen,
        spend_fen=h.spend_fen,
    )


@dataclass(frozen=True, slots=True)
class PlanScore:
    coverage_share: float
    sites: int
    points: int
    walk_m_mean: float  # resident-weighted walk to the nearest point
    wait_s_mean: float  # inf when some top-ups meet a saturated point
    wait_s_p95: float
    overloaded_share: float  # top-ups arriving at a site-hour at or above full utilisation
    busiest_rho: float  # highest utilisation of any site in any hour
    site_cell: np.ndarray  # per site (sorted by cell): its cell,
    site_points: np.ndarray  # points,
    site_cardholders: np.ndarray  # cardholders nearest to it,
    site_wait_s: np.ndarray  # and its day-mean wait


def score(geo: Geography, plan: Mapping[int, int], demand: TopupDemand) -> PlanScore:
    """Coverage, walks and queue waits of `plan` for `demand`."""
    if not plan:
        raise PlacementError("plan: no recharge points to score")
    covered = np.zeros(geo.cells, bool)
    for cell in plan:
        covered[geo.reach(cell)] = True
    source, dist = owners(geo, plan)
    people = geo.residents / geo.residents.sum() * demand.cardholders
    cells = np.array(sorted(plan), dtype=np.int64)
    holders = np.bincount(source, weights=people, minlength=geo.cells)[cells]
    points = np.array([plan[c] for c in cells], dtype=np.int64)
    servers = points * demand.kiosks_per_point
    hourly = np.array(demand.hour_share) * demand.topups_per_cardholder_day / 3600  # per cardholder-s
    lam = holders[:, None] * hourly[None, :]  # (sites, hours)
    rho = lam * demand.service_s / servers[:, None]
    wait = np.full(lam.shape, np.inf)
    p_wait = np.ones(lam.shape)
    decay = np.zeros(lam.shape)
    for i, h in zip(*np.nonzero(rho < 1), strict=True):
        w = erlang_c_wait_s(float(lam[i, h]), demand.service_s, int(servers[i]))
        wait[i, h] = w
        decay[i, h] = servers[i] / demand.service_s - lam[i, h]
        p_wait[i, h] = w * decay[i, h]
    total = lam.sum()
    assert total > 0, "no top-up demand"
    share = lam / total
    overloaded = float(share[rho >= 1].sum())
    stable = rho < 1
    mean = float((share[stable] * wait[stable]).sum()) if overloaded == 0 else math.inf
    with np.errstate(invalid="ignore"):
        site_wait = np.where(lam.sum(1) > 0, (lam * wait).sum(1) / np.maximum(lam.sum(1), 1e-300), 0.0)
    return PlanScore(
        coverage_share=float(geo.residents[covered].sum() / geo.residents.sum()),
        sites=len(cells),
        points=int(points.sum()),
        walk_m_mean=float((geo.residents * dist).sum() / geo.residents.sum()),
        wait_s_mean=mean,
        wait_s_p95=_p95(share[stable], p_wait[stable], decay[stable], overloaded),
        overloaded_share=overloaded,
        busiest_rho=float(rho.max()),
        site_cell=cells,
        site_points=points,
        site_cardholders=holders,
        site_wait_s=np.nan_to_num(site_wait, nan=math.inf),
    )


def _p95(share: np.ndarray, p_wait: np.ndarray, decay: np.ndarray, overloaded: float) -> float:
    """Smallest t with P(wait > t) <= 5% for the mixture of exponential tails (bisection)."""

    def tail(t: float) -> float:
        return overloaded + float((share * p_wait * np.exp(-decay * t)).sum())

    if overloaded >= 0.05:
        return math.inf
    if tail(0.0) <= 0.05:
        return 0.0
    lo, hi = 0.0, 1.0
    while tail(hi) > 0.05:
        hi *= 2
    for _ in range(P95_ITERATIONS):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if tail(mid) > 0.05 else (lo, mid)
        if hi - lo < 1e-3:
            break
    return hi
