"""Replications of a rollout: its ASSUMPTION ranges and seeds drawn, each target as P(met).

A rollout scenario's `[[assumption]]` table gives a range to each value the seeds do not fix
(an issuance rate, a Bass coefficient, an eligible population). Replication i runs under seed
`first_seed + i` with every such value drawn uniformly in its range from the named stream
"assumptions" of that seed (`sim.rng.stream`), so the draws depend only on (scenario, seed)
and a replication is the same on any worker. Each replication is one task on the sweep's Dask
machinery (`sim.sweep.engine.run_tasks`).

Per target that the model predicts: P(met) = replications inside the target's range / N, with
the Wilson score 95% interval (scipy's `binomtest(...).proportion_ci`), which keeps inside
[0, 1] and is honest at 0 or N successes, unlike the normal approximation. Per target and
assumption, the sensitivity (a tornado row) is Spearman's rank correlation between the drawn
value and the target's figure, and P(met) in the lower and upper halves of the range: the
assumptions with the largest swing are the ones that decide the verdict.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats  # type: ignore[import-untyped]  # no stubs installed here: read back as float

from scenarios.rollout_loader import load_rollout
from scenarios.rollout_schema import AssumptionRange, RolloutScenario
from sim.rng import stream
from sim.rollout import SOURCE_PREDICTION, RolloutResult, TargetCheck
from sim.sweep.engine import LOCAL_WORKERS_DEFAULT, Progress, RunRow, SweepError, Task, Value, run_tasks
from sim.sweep.stats import CONFIDENCE

REPLICATIONS_MAX = 1000
STREAM = "assumptions"
INTERVAL_QUANTILES = (0.05, 0.5, 0.95)  # a prediction's 90% interval and its median
Draw = tuple[tuple[str, Value], ...]


def draw(ranges: tuple[AssumptionRange, ...], seed: int) -> Draw:
    """Each range's value for the replication under `seed`: uniform in [low, high], rounded to a
    whole number when both ends are whole (counts such as persons or cards a day)."""
    rng = stream(seed, STREAM)
    out: list[tuple[str, Value]] = []
    for a in ranges:
        x = float(rng.uniform(a.low, a.high))
        whole = float(a.low).is_integer() and float(a.high).is_integer()
        out.append((a.key, round(x) if whole else float(f"{x:.6g}")))
    return tuple(out)


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The Wilson score interval of a proportion (scipy)."""
    assert 0 <= successes <= n and n > 0, (successes, n)
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True, slots=True)
class Sensitivity:
    """One tornado row: how one assumption moves one target."""

    target: int  # index into the result's targets
    key: str
    rho: float  # Spearman rank correlation of the drawn value with the target's figure (NaN: constant)
    p_met_lower_half: float  # P(met) among replications drawing the value's lower half (NaN: none)
    p_met_upper_half: float

    @property
    def swing(self) -> float:
        d = self.p_met_upper_half - self.p_met_lower_half
        return 0.0 if math.isnan(d) else abs(d)


@dataclass(frozen=True, slots=True)
class Replications:
    scenario: str
    seeds: tuple[int, ...]
    draws: tuple[Draw, ...]  # one per seed, same order
    rows: tuple[RunRow, ...]  # one per seed, same order
    ranges: tuple[AssumptionRange, ...]
    sensitivity: tuple[Sensitivity, ...]
    wall_s: float
    cluster: str

    @property
    def n(self) -> int:
        return len(self.seeds)


def _values(overrides: dict[str, object]) -> Draw:
    """`--set` values as a task carries them (TOML scalars: numbers and strings)."""
    out: list[tuple[str, Value]] = []
    for key, value in overrides.items():
        if not isinstance(value, int | float | str):
            raise SweepError(
                f"--set {key}: {value!r} is not a number or a string (replications carry scalars)"
            )
        out.append((key, value))
    return tuple(out)


def check_ranges(s: RolloutScenario, path: str, overrides: Mapping[str, object]) -> None:
    """Every range's key names a value the scenario takes at both ends (checked like `--set`)."""
    for a in s.assumption:
        for end in (a.low, a.high):
            value = round(end) if float(a.low).is_integer() and float(a.high).is_integer() else end
            load_rollout(path, {**overrides, a.key: value})


def run_replications(
    path: str,
    n: int,
    *,
    overrides: Mapping[str, object] | None = None,
    first_seed: int,
    sample: float | None = None,
    dask: str = "local",
    workers: int = LOCAL_WORKERS_DEFAULT,
    progress: Progress | None = None,
) -> Replications:
    """`n` replications of the rollout scenario at `path` (with `overrides`, as `--set` gives them)
    under seeds first_seed, first_seed + 1, ..."""
    if not 2 <= n <= REPLICATIONS_MAX:
        raise SweepError(f"--replications: {n} out of range (allowed: 2..{REPLICATIONS_MAX})")
    started = time.perf_counter()
    base = dict(overrides or {})
    s = load_rollout(path, base)
    check_ranges(s, path, base)
    seeds = tuple(range(first_seed, first_seed + n))
    draws = tuple(draw(s.assumption, seed) for seed in seeds)
    tasks = [
        Task("rollout", path, None, None, seed, sample, i, overrides=(*_values(base), *d), targets=True)
        for i, (seed, d) in enumerate(zip(seeds, draws, strict=True))
    ]
    rows, where = run_tasks(tasks, dask=dask, workers=workers, progress=progress)
    assert [r.seed for r in rows] == list(seeds)
    checked = len({k.split(".")[1] for k in rows[0].kpis if k.startswith("target.")})
    sens = tuple(
        _sensitivity(i, a, [dict(d)[a.key] for d in draws], rows)
        for i in range(checked)
        for a in s.assumption
    )
    return Replications(s.name, seeds, draws, rows, s.assumption, sens, time.perf_counter() - started, where)


def _sensitivity(
    target: int, a: AssumptionRange, values: list[Value], rows: tuple[RunRow, ...]
) -> Sensitivity:
    x = np.asarray(values, dtype=np.float64)
    y = np.asarray([r.kpis[f"target.{target}.actual"] for r in rows], dtype=np.float64)
    met = np.asarray([r.kpis[f"target.{target}.met"] for r in rows], dtype=np.float64)
    rho = math.nan if np.ptp(x) == 0 or np.ptp(y) == 0 else float(stats.spearmanr(x, y).statistic)
    middle = (a.low + a.high) / 2
    lower, upper = met[x < middle], met[x >= middle]
    return Sensitivity(
        target,
        a.key,
        rho,
        float(lower.mean()) if len(lower) else math.nan,
        float(upper.mean()) if len(upper) else math.nan,
    )


def with_p_met(result: RolloutResult, reps: Replications) -> RolloutResult:
    """The result with each predicted target's P(met) and interval over the replications, and the
    tornado rows in its notes. Plan inputs stay plan inputs: the scenario sets them."""
    checks: list[TargetCheck] = []
    checked = {k.split(".")[1] for k in reps.rows[0].kpis if k.startswith("target.")}
    if len(checked) != len(result.targets):
        raise SweepError(f"replications checked {len(checked)} targets, the run {len(result.targets)}")
    for i, c in enumerate(result.targets):
        if c.source != SOURCE_PREDICTION:
            checks.append(c)
            continue
        met = round(sum(r.kpis[f"target.{i}.met"] for r in reps.rows))
        low, high = wilson(met, reps.n)
        q05, median, q95 = quantiles(reps, i, INTERVAL_QUANTILES)
        checks.append(
            dataclasses.replace(
                c, p_met=met / reps.n, p_met_low=low, p_met_high=high, predicted_median=median,
                predicted_low=q05, predicted_high=q95, replications=reps.n,
            )
        )  # fmt: skip
    notes = (
        f"replications: {reps.n} (seeds {reps.seeds[0]}..{reps.seeds[-1]}), each drawing "
        + (", ".join(f"{a.key} in [{_num(a.low)}, {_num(a.high)}]" for a in reps.ranges) or "no ranges")
        + "; P(met) with the Wilson 95% interval",
        *tornado_lines(result, reps),
    )
    return dataclasses.replace(result, targets=tuple(checks), notes=(*result.notes, *notes))


def _num(x: float) -> str:
    return f"{round(x):,}" if float(x).is_integer() else f"{x:g}"


def quantiles(reps: Replications, target: int, qs: tuple[float, float, float]) -> tuple[float, float, float]:
    """The target's figure over the replications at three quantiles."""
    y = np.asarray([r.kpis[f"target.{target}.actual"] for r in reps.rows], dtype=np.float64)
    q = np.quantile(y, qs)
    return float(q[0]), float(q[1]), float(q[2])


def spread(reps: Replications, target: int) -> tuple[float, float, float]:
    """The target's figure over the replications: 2.5%, 50% and 97.5% quantiles."""
    return quantiles(reps, target, (0.025, 0.5, 0.975))


def tornado_lines(result: RolloutResult, reps: Replications) -> list[str]:
    """Per predicted target, its figure's spread and the assumptions by swing in P(met)."""
    out = []
    for i, c in enumerate(result.targets):
        if c.source != SOURCE_PREDICTION:
            continue
        lo, mid, hi = spread(reps, i)
        t = c.target
        above = sum(r.kpis[f"target.{i}.above"] for r in reps.rows) / reps.n
        met = sum(r.kpis[f"target.{i}.met"] for r in reps.rows) / reps.n
        out.append(
            f"sensitivity of {t.kpi} by {t.due_month}: median figure {mid:,.0f}, "
            f"95% of replications in {lo:,.0f}..{hi:,.0f}; missed {1 - met - above:.0%}, "
            f"met {met:.0%}, above range {above:.0%}"
        )
        rows = sorted((x for x in reps.sensitivity if x.target == i), key=lambda x: (-x.swing, x.key))
        for x in rows:
            out.append(
                f"  {x.key}: rank correlation {x.rho:+.2f}; P(met) {x.p_met_lower_half:.0%} in the lower "
                f"half of its range, {x.p_met_upper_half:.0%} in the upper"
            )
    return out
