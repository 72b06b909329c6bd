"""Targets judged against the run, and the replications that give each prediction its spread.

A target whose figure the plan fixes (`plan_input = true`) is reported as a plan input and
never "met": restating an input is not a verdict. Every other target is a prediction: the
base run says met or missed, and `replications` runs (replication i under seed + i, every
`[[range]]` drawn uniformly, each year's yield drawn around the scenario's with its spread)
give P(met) with a Wilson 95% interval, and each stage's start month as a median and a 5-95%
range (or the share of runs where it never starts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest  # type: ignore[import-untyped]  # no stubs installed: read back as float

from scenarios.framework_schema import FrameworkScenario, Target
from sim.operator.engine import FrameworkRun, policy_of, run_framework, stress_of
from sim.operator.policy import stress_test


@dataclass(frozen=True, slots=True)
class Judged:
    target: Target
    figure: float
    met: bool | None  # None: a plan input
    p_met: tuple[float, float, float] | None  # (share, low, high) over replications


@dataclass(frozen=True, slots=True)
class StageSpread:
    stage: int
    median: float | None
    p5: float | None
    p95: float | None
    never_share: float


def wilson(k: int, n: int) -> tuple[float, float, float]:
    """(k/n, and its Wilson score 95% interval), by scipy's binomial test."""
    if n == 0:
        return (math.nan, math.nan, math.nan)
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return k / n, float(ci.low), float(ci.high)


def figure(run: FrameworkRun, s: FrameworkScenario, t: Target) -> float:
    row = run.at(t.month)
    if t.kpi == "cardholders":
        return row.cardholders
    if t.kpi == "float_fen":
        return row.float_fen
    if t.kpi == "investment_fen":
        return sum(r.investment_income_fen for r in run.months[: t.month + 1])
    if t.kpi == "stage_month":
        start = run.stage_start.get(t.stage)
        return math.inf if start is None else start
    verdict = stress_test(row.float_fen, row.reserve_fen, policy_of(s), stress_of(s))
    return 1.0 if verdict.holds else 0.0


def met(run: FrameworkRun, s: FrameworkScenario, t: Target) -> bool:
    value = figure(run, s, t)
    if t.kpi == "stage_month":
        return value <= t.month  # the stage started by the due month
    return t.low <= value <= t.high


def _draw(s: FrameworkScenario, seed: int) -> tuple[FrameworkScenario, list[int]]:
    rng = np.random.default_rng(seed)
    changes: dict[str, float] = {}
    for r in s.ranges:
        value = float(rng.uniform(r.low, r.high))
        changes[r.key] = round(value) if float(s.values[r.key]).is_integer() and r.low.is_integer() else value
    drawn = s.with_values(changes)
    years = s.i("framework.months") // 12 + 1
    yields = rng.normal(drawn.v("float.yield_bp"), drawn.v("float.yield_sd_bp"), size=years)
    return drawn, [max(0, round(y)) for y in yields]


def replicate(s: FrameworkScenario, n: int) -> list[tuple[FrameworkScenario, FrameworkRun]]:
    out = []
    for i in range(n):
        drawn, yields = _draw(s, s.i("framework.seed") + 1 + i)
        out.append((drawn, run_framework(drawn, yields)))
    return out


def judge(
    s: FrameworkScenario, base: FrameworkRun, reps: list[tuple[FrameworkScenario, FrameworkRun]]
) -> list[Judged]:
    out = []
    for t in s.targets:
        if t.plan_input:
            out.append(Judged(t, figure(base, s, t), None, None))
            continue
        k = sum(met(run, drawn, t) for drawn, run in reps)
        out.append(Judged(t, figure(base, s, t), met(base, s, t), wilson(k, len(reps)) if reps else None))
    return out


def stage_spreads(reps: list[tuple[FrameworkScenario, FrameworkRun]]) -> list[StageSpread]:
    out = []
    for stage in range(2, 6):
        starts = [run.stage_start[stage] for _, run in reps if stage in run.stage_start]
        never = 1 - len(starts) / len(reps) if reps else math.nan
        if not starts:
            out.append(StageSpread(stage, None, None, None, never))
            continue
        q = np.percentile(starts, [50, 5, 95])
        out.append(StageSpread(stage, float(q[0]), float(q[1]), float(q[2]), never))
    return out
