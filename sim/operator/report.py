"""The framework run in words and tables: stage transitions with their months, the float,
reserve and investment income by year, revenue streams and costs, the stress test's verdict
and the targets judged (plan inputs apart from predictions)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from scenarios.framework_schema import MONEY_MAX, FrameworkScenario, Target
from sim.operator.engine import STAGES, FrameworkRun, policy_of, run_framework, stress_of
from sim.operator.judge import Judged, StageSpread, judge, replicate, stage_spreads, wilson
from sim.operator.policy import StressVerdict, breach_share, stress_test
from sim.operator.twin_check import twin_lines
from sim.staged import staged_folder

BREACH_DRAWS = 20_000


@dataclass(frozen=True, slots=True)
class YearRow:
    year: str
    stage: int
    cardholders: int
    float_fen: int
    reserve_fen: int
    invested_fen: int
    investment_income_fen: int
    revenue_fen: dict[str, int]
    cost_fen: int
    capex_fen: int


@dataclass(frozen=True, slots=True)
class FrameworkReport:
    scenario: FrameworkScenario
    run: FrameworkRun
    years: list[YearRow]
    stress: StressVerdict
    breaches: tuple[int, int]
    judged: list[Judged]
    spreads: list[StageSpread]
    stress_p: tuple[float, float, float] | None


def month_label(start: str, m: int) -> str:
    """The YYYY-MM that is `m` months after `start`."""
    n = int(start[5:]) - 1 + m
    return f"{int(start[:4]) + n // 12:04d}-{n % 12 + 1:02d}"


def _years(s: FrameworkScenario, run: FrameworkRun) -> list[YearRow]:
    labels = [month_label(s.start_month, m) for m in range(len(run.months))]
    second_capex_month = run.stage_start.get(5)
    out: dict[str, list[int]] = {}
    for label, row in zip(labels, run.months, strict=True):
        out.setdefault(label[:4], []).append(row.month)
    years = []
    for year, months in out.items():
        rows = [run.at(m) for m in months]
        last = rows[-1]
        revenue = {k: sum(r.revenue_fen[k] for r in rows) for k in last.revenue_fen}
        capex = sum(r.capex_fen for r in rows)
        if second_capex_month in months:
            capex += s.i("cost.second_city_fen")
        years.append(
            YearRow(
                year,
                last.stage,
                last.cardholders,
                last.float_fen,
                last.reserve_fen,
                last.invested_fen,
                revenue["float income"],
                revenue,
                sum(r.cost_fen for r in rows),
                capex,
            )
        )
    return years


def build_report(s: FrameworkScenario, replications: int | None = None) -> FrameworkReport:
    run = run_framework(s)
    n = s.i("framework.replications") if replications is None else replications
    reps = replicate(s, n)
    last = run.months[-1]
    stress = stress_test(
        last.float_fen, last.reserve_fen if last.stage >= 4 else last.float_fen, policy_of(s), stress_of(s)
    )
    holds = sum(
        stress_test(r.months[-1].float_fen, r.months[-1].reserve_fen, policy_of(d), stress_of(d)).holds
        for d, r in reps
    )
    breaches = breach_share(policy_of(s), BREACH_DRAWS, s.i("framework.seed"))
    return FrameworkReport(
        s,
        run,
        _years(s, run),
        stress,
        breaches,
        judge(s, run, reps),
        stage_spreads(reps),
        wilson(holds, n) if n else None,
    )


def _month_label(s: FrameworkScenario, m: float) -> str:
    if math.isinf(m):
        return "never"
    return month_label(s.start_month, int(m))


def _cny(fen: float) -> str:
    return f"CNY {fen / 100 / 1e6:,.1f}M"


def _stage_lines(r: FrameworkReport) -> list[str]:
    s = r.scenario
    out = ["stage transitions (predictions: each starts when its condition is reached):"]
    spread = {sp.stage: sp for sp in r.spreads}
    for stage, name in STAGES.items():
        start = r.run.stage_start.get(stage)
        label = "never in the run" if start is None else _month_label(s, start)
        sp = spread.get(stage)
        extra = ""
        if sp is not None and sp.median is not None:
            low, high = _month_label(s, sp.p5 or 0), _month_label(s, sp.p95 or 0)
            extra = f"; replications: median {_month_label(s, sp.median)}, 5-95% {low}..{high}"
            extra += f", never {sp.never_share:.0%}" if sp.never_share else ""
        elif sp is not None:
            extra = "; replications: never reached"
        out.append(f"  {stage} {name}: {label}{extra}")
    return out


def _year_lines(r: FrameworkReport) -> list[str]:
    out = ["by year (at year end; income, revenue, cost and capex over the year):"]
    for y in r.years:
        out.append(
            f"  {y.year} stage {y.stage} cardholders {y.cardholders:>9,} float {_cny(y.float_fen)} "
            f"reserve {_cny(y.reserve_fen)} invested {_cny(y.invested_fen)} "
            f"investment income {_cny(y.investment_income_fen)} revenue {_cny(sum(y.revenue_fen.values()))} "
            f"cost {_cny(y.cost_fen)} capex {_cny(y.capex_fen)}"
        )
    totals = {k: sum(y.revenue_fen[k] for y in r.years) for k in r.years[0].revenue_fen}
    out.append("revenue streams over the run: " + ", ".join(f"{k} {_cny(v)}" for k, v in totals.items()))
    return out


def _float_lines(r: FrameworkReport) -> list[str]:
    p = policy_of(r.scenario)
    b, n = r.breaches
    share, lo, hi = wilson(b, n)
    st = r.stress
    out = [
        f"reserve policy: {p.confidence:.2%} confidence over {p.horizon_days} days, floor "
        f"{p.floor_share:.0%} of the float; simulated breach rate {share:.2%} (95% CI {lo:.2%}..{hi:.2%}, "
        f"{n} horizons) against {1 - p.confidence:.2%} allowed",
        f"stress at the end of the run: wave {_cny(st.claimed_fen)} against reserve {_cny(st.reserve_fen)} "
        f"and investments {_cny(st.invested_fen)}: {st.verdict}",
        f"  sold {_cny(st.sold_fen)}, loss {_cny(st.loss_fen)}, shortfall {_cny(st.shortfall_fen)}; "
        f"a year's income at the shocked yield {_cny(st.income_shocked_fen)}",
    ]
    if r.stress_p is not None:
        k, low, high = r.stress_p
        out.append(f"  the stress holds in {k:.0%} of replications (95% CI {low:.0%}..{high:.0%})")
    return out


def _shown(t: Target, value: float, s: FrameworkScenario) -> str:
    if t.kpi == "stage_month":
        return _month_label(s, value)
    return _cny(value) if t.kpi.endswith("_fen") else f"{value:,.0f}"


def _target_lines(r: FrameworkReport) -> list[str]:
    s = r.scenario
    out = ["targets (plan inputs are reported, predictions judged):"]
    for j in r.judged:
        t = j.target
        due = _month_label(s, t.month)
        if t.kpi == "stage_month":
            what = f"stage {t.stage} by {due}"
        else:
            band = (
                f">= {_shown(t, t.low, s)}"
                if t.high >= MONEY_MAX
                else f"in {_shown(t, t.low, s)}..{_shown(t, t.high, s)}"
            )
            what = f"{t.kpi} at {due} {band}"
        shown = _shown(t, j.figure, s)
        if j.met is None:
            out.append(f"  {what}: {shown}: plan input (the scenario fixes it, not judged) [{t.source}]")
            continue
        p_met = (
            ""
            if j.p_met is None
            else f", P(met) {j.p_met[0]:.0%} (95% CI {j.p_met[1]:.0%}..{j.p_met[2]:.0%})"
        )
        out.append(f"  {what}: {shown}: {'met' if j.met else 'missed'} (prediction{p_met}) [{t.source}]")
    return out


def lines(r: FrameworkReport) -> list[str]:
    s = r.scenario
    head = [f"five-stage framework {s.name}: {s.title} ({s.source})"]
    body = _stage_lines(r) + _year_lines(r) + twin_lines(s, r.run) + _float_lines(r)
    return head + body + _target_lines(r)


def write_report(r: FrameworkReport, folder: Path) -> Path:
    """`report.txt` (the lines), `years.csv` (fen) and `stages.csv`, in a folder that appears whole."""
    with staged_folder(folder) as work:
        (work / "report.txt").write_text("\n".join(lines(r)) + "\n", encoding="utf-8")
        streams = list(r.years[0].revenue_fen)
        with (work / "years.csv").open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(
                [
                    "year",
                    "stage",
                    "cardholders",
                    "float_fen",
                    "reserve_fen",
                    "invested_fen",
                    *[f"{k.replace(' ', '_')}_fen" for k in streams],
                    "cost_fen",
                    "capex_fen",
                ]
            )
            for y in r.years:
                out.writerow(
                    [
                        y.year,
                        y.stage,
                        y.cardholders,
                        y.float_fen,
                        y.reserve_fen,
                        y.invested_fen,
                        *[y.revenue_fen[k] for k in streams],
                        y.cost_fen,
                        y.capex_fen,
                    ]
                )
        with (work / "stages.csv").open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(["stage", "name", "start_month"])
            for stage, name in STAGES.items():
                start = r.run.stage_start.get(stage)
                out.writerow(
                    [stage, name, "" if start is None else month_label(r.scenario.start_month, start)]
                )
    return folder / "report.txt"
