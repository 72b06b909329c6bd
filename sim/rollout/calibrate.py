"""Calibration: the adoption and issuance assumptions fitted to a city's dated figures.

The values a scenario marks `fit = true` in its `[[assumption]]` table are fitted, inside their
ranges, to its `[[observation]]`s (cards issued, applications, by a month) by weighted least
squares on the plan side alone (`sim.rollout.plan.plan_months`: issuance does not depend on
the twin's days, so a fit costs milliseconds per evaluation). scipy's `least_squares` (trust
region, bounded) works on each value scaled to its range; residuals are (model - observed) /
sigma. A parameter's 95% interval is the linearised one, +-1.96 standard errors from the
covariance (J^T J)^-1 of the scaled residuals: an interval wider than the range, or a
singular J, says the points do not identify that value, and the table says so instead of
printing a number it cannot support.

The held-out check refits without the last dated cards-issued figure (the one a target
usually checks) and reports the refit's prediction for it: a forecast error, not a fit
residual. Applications reported on the same date stay in: they measure demand, not issuance.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize  # type: ignore[import-untyped]  # no stubs installed here

from scenarios.rollout_schema import AssumptionRange, Observation, RolloutScenario
from scenarios.schema import ScenarioError
from sim.rollout.plan import plan_months

Z_95 = 1.959964
EVALUATIONS_MAX = 400  # model evaluations of one fit (a plan is a few ms)
FITTABLE = ("adoption.", "phase.")


@dataclass(frozen=True, slots=True)
class FittedValue:
    key: str
    start: float  # the scenario's own value
    value: float
    low: float  # 95% interval, clipped to the range; NaN when not identified
    high: float
    identified: bool


@dataclass(frozen=True, slots=True)
class Residual:
    observation: Observation
    model: float
    held_out: bool

    @property
    def error(self) -> float:
        return self.model - self.observation.value

    @property
    def error_share(self) -> float:
        return self.error / self.observation.value if self.observation.value else math.nan


@dataclass(frozen=True, slots=True)
class Calibration:
    values: tuple[FittedValue, ...]  # fitted to every observation
    residuals: tuple[Residual, ...]  # of that fit at every observation
    held_out: Residual | None  # the refit without the last cards-issued figure, at it
    held_out_values: tuple[FittedValue, ...]
    cost: float  # half the sum of squared scaled residuals of the full fit


def with_values(s: RolloutScenario, values: dict[str, float]) -> RolloutScenario:
    """The scenario with `adoption.KEY` and `phase.NAME.KEY` values replaced (no reload)."""
    adoption: dict[str, Any] = {}
    phases = list(s.phase)
    for key, value in values.items():
        parts = key.split(".")
        if parts[0] == "adoption" and len(parts) == 2 and hasattr(s.adoption, parts[1]):
            adoption[parts[1]] = value
            continue
        index = next((i for i, p in enumerate(phases) if len(parts) == 3 and p.name == parts[1]), None)
        if parts[0] == "phase" and index is not None and hasattr(phases[index], parts[2]):
            change: dict[str, Any] = {parts[2]: round(value)}
            phases[index] = dataclasses.replace(phases[index], **change)
            continue
        raise ScenarioError(
            f"{s.source}: assumption {key}: calibration fits adoption.* and phase.NAME.* only"
        )
    return dataclasses.replace(s, adoption=dataclasses.replace(s.adoption, **adoption), phase=tuple(phases))


def model_figures(s: RolloutScenario, observations: tuple[Observation, ...]) -> list[float]:
    """The plan's figure at each observation (cardholders or applications at its month's end)."""
    by_month = {p.month: p for p in plan_months(s)}
    return [float(getattr(by_month[o.month], o.kpi)) for o in observations]


def _start(s: RolloutScenario, a: AssumptionRange) -> float:
    parts = a.key.split(".")
    if parts[0] == "adoption":
        return float(getattr(s.adoption, parts[1]))
    phase = next(p for p in s.phase if p.name == parts[1])
    return float(getattr(phase, parts[2]))


def _fit(
    s: RolloutScenario, free: tuple[AssumptionRange, ...], train: tuple[Observation, ...]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], float]:
    """(values, standard errors, cost) of the free values fitted to `train`."""
    lo = np.asarray([a.low for a in free])
    width = np.asarray([a.high - a.low for a in free])
    sigma = np.asarray([o.sigma for o in train], dtype=np.float64)
    observed = np.asarray([o.value for o in train], dtype=np.float64)

    def residuals(u: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        x = lo + u * width
        trial = with_values(s, {a.key: float(v) for a, v in zip(free, x, strict=True)})
        return (np.asarray(model_figures(trial, train)) - observed) / sigma

    u0 = np.clip((np.asarray([_start(s, a) for a in free]) - lo) / width, 0.0, 1.0)
    res = optimize.least_squares(
        residuals, u0, bounds=(0.0, 1.0), diff_step=1e-2, max_nfev=EVALUATIONS_MAX, method="trf"
    )
    jac = np.asarray(res.jac)
    rank = np.linalg.matrix_rank(jac)
    se_u = np.full(len(free), math.inf)
    if rank == len(free):
        cov = np.linalg.inv(jac.T @ jac)
        se_u = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return lo + np.asarray(res.x) * width, se_u * width, float(res.cost)


def _values(
    free: tuple[AssumptionRange, ...], s: RolloutScenario, x: Any, se: Any
) -> tuple[FittedValue, ...]:
    out = []
    for a, v, e in zip(free, x, se, strict=True):
        identified = bool(math.isfinite(e) and 2 * Z_95 * e < a.high - a.low)
        low = max(a.low, v - Z_95 * e) if identified else math.nan
        high = min(a.high, v + Z_95 * e) if identified else math.nan
        out.append(FittedValue(a.key, _start(s, a), float(v), float(low), float(high), identified))
    return tuple(out)


def calibrate(s: RolloutScenario) -> Calibration | None:
    """The fit of the scenario's `fit` assumptions to its observations in the span (None: no
    observations or nothing to fit)."""
    free = tuple(a for a in s.assumption if a.fit)
    obs = tuple(o for o in s.observation if s.rollout.start_month <= o.month <= s.rollout.end_month)
    if not free or not obs:
        return None
    for a in free:
        if not a.key.startswith(FITTABLE):
            raise ScenarioError(
                f"{s.source}: assumption {a.key}: calibration fits adoption.* and phase.* only"
            )
    x, se, cost = _fit(s, free, obs)
    fitted = with_values(s, {a.key: float(v) for a, v in zip(free, x, strict=True)})
    residuals = tuple(Residual(o, m, False) for o, m in zip(obs, model_figures(fitted, obs), strict=True))
    issued = [o for o in obs if o.kpi == "cardholders"]
    if not issued:
        return Calibration(_values(free, s, x, se), residuals, None, (), cost)
    last = max(issued, key=lambda o: o.month)
    train = tuple(o for o in obs if o is not last)
    x_out, se_out, _ = _fit(s, free, train)
    refit = with_values(s, {a.key: float(v) for a, v in zip(free, x_out, strict=True)})
    held = Residual(last, model_figures(refit, (last,))[0], True)
    return Calibration(_values(free, s, x, se), residuals, held, _values(free, s, x_out, se_out), cost)


def _num(x: float) -> str:
    if math.isnan(x):
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"


def calibration_lines(c: Calibration) -> list[str]:
    """The calibration table as text: fitted values with intervals, errors at each point."""
    out = ["calibration (weighted least squares on the plan, scipy.optimize.least_squares):"]
    for title, values in (
        ("fitted to every point", c.values),
        ("refit without the held-out point", c.held_out_values),
    ):
        if not values:
            continue
        out.append(f"  {title}:")
        for v in values:
            ci = f"95% CI {_num(v.low)}..{_num(v.high)}" if v.identified else "not identified by the points"
            out.append(f"    {v.key}: {_num(v.value)} ({ci}; scenario {_num(v.start)})")
    out.append("  error at each dated point (fit to every point):")
    for r in c.residuals:
        o = r.observation
        out.append(
            f"    {o.kpi} {o.month}: model {r.model:,.0f} vs reported {o.value:,} +- {o.sigma:,}: "
            f"{r.error:+,.0f} ({r.error_share:+.1%})"
        )
    if c.held_out is not None:
        h, o = c.held_out, c.held_out.observation
        out.append(
            f"  held out {o.kpi} {o.month} (reported {o.value:,}): predicted {h.model:,.0f} by the refit, "
            f"error {h.error:+,.0f} ({h.error_share:+.1%})"
        )
    return out
