"""Where a rollout's outlets go, a map to draw them on, and the money flows it settled.

Until a placement on the city graph is available, recharge points and windows are shared out
among the day scenario's districts by their population share (largest remainder), and each
opening is dated to the month the count grew. The map is the districts on their ring, laid out
on a circle whose area is the urban area. Flows are the T+1 positions summed over the rollout:
the reserve pays merchants' and operators' banks, the loading banks pay the reserve, the fees
stay with the operator (less a third-party acquirer's share).
"""

from __future__ import annotations

import math

import numpy as np

from scenarios.rollout_schema import RolloutScenario
from sim.city import build_city
from sim.rollout_result import CityMap, Flow, MonthRow, Site


def _district_shares(s: RolloutScenario) -> np.ndarray:
    return build_city(s.day_scenario).district_share


def share_out(total: int, shares: np.ndarray) -> list[int]:
    """`total` split by `shares` in whole units (largest remainder), summing to `total`."""
    raw = shares * total
    base = np.floor(raw).astype(int)
    left = total - int(base.sum())
    for i in np.argsort(-(raw - base), kind="stable")[:left]:
        base[i] += 1
    return [int(x) for x in base]


def sites_of(s: RolloutScenario, rows: list[MonthRow]) -> tuple[Site, ...]:
    shares = _district_shares(s)
    out: list[Site] = []
    held = {"recharge_point": [0] * len(shares), "service_window": [0] * len(shares)}
    for row in rows:
        for kind, count in (("recharge_point", row.recharge_points), ("service_window", row.service_windows)):
            now = share_out(count, shares)
            for d, (a, b) in enumerate(zip(held[kind], now, strict=True)):
                if b > a:
                    out.append(Site(f"district-{d}", kind, b - a, row.month))
            held[kind] = [max(a, b) for a, b in zip(held[kind], now, strict=True)]
    return tuple(out)


def city_map(s: RolloutScenario) -> CityMap:
    shares = _district_shares(s)
    n = len(shares)
    radius_km = math.sqrt(s.deployment.urban_area_km2 / math.pi) * 0.6
    positions = {
        f"district-{d}": (
            radius_km * math.cos(2 * math.pi * d / n),
            radius_km * math.sin(2 * math.pi * d / n),
        )
        for d in range(n)
    }
    edges = tuple((f"district-{d}", f"district-{(d + 1) % n}", "bus") for d in range(n) if n > 1)
    eligible = max(p.eligible_persons for p in s.phase)
    residents = dict(zip(positions, share_out(eligible, shares), strict=True))
    return CityMap(positions, edges, residents)


def flows_of(positions: dict[str, int], gross_fees_fen: int, acquirer_fen: int) -> tuple[Flow, ...]:
    out = []
    for participant, amount in sorted(positions.items()):
        if amount > 0:
            out.append(Flow("reserve", participant, amount))
        elif amount < 0:
            out.append(Flow(participant, "reserve", -amount))
    if gross_fees_fen:
        out.append(Flow("reserve", "operator", gross_fees_fen))
    if acquirer_fen:
        out.append(Flow("operator", "acquirer", acquirer_fen))
    return tuple(out)
