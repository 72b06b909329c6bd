"""A rollout result as plain tables: months, phases, targets, sites, flows, notes.

One function turns a `RolloutResult` into named tables of plain values; the results folder
(SQLite, CSV), the HTML report and `compare` all read these, so they cannot disagree. The
per-phase table sums money over the phase and takes counts at its last month.
"""

from __future__ import annotations

import json
from typing import Any

from model.money import format_fen
from sim.rollout.result import (
    KPI_MONEY_PER_YEAR,
    MONTH_SCALARS,
    SOURCE_PLAN_INPUT,
    RolloutResult,
    TargetCheck,
)
from sim.table import Table

FEN_PER_MILLION_CNY = 100 * 1_000_000

MONEY_SUMMED = (
    "card_spending_fen",
    "loads_fen",
    "fees_fen",
    "float_income_fen",
    "revenue_fen",
    "investment_fen",
    "opex_fen",
)


def money_text(fen: int) -> str:
    """CNY in millions for plan-sized sums (`CNY 359.0M`), else to the fen."""
    if abs(fen) >= FEN_PER_MILLION_CNY:
        return f"CNY {fen / FEN_PER_MILLION_CNY:,.1f}M"
    return f"CNY {format_fen(fen)}"


def _verdict(check: TargetCheck) -> str:
    """The verdict word; a check built without one (older results) derives it from `met`."""
    return check.verdict or ("met" if check.met else "missed")


def p_met_text(check: TargetCheck) -> str:
    """`P(met) 23% (95% CI 10%..42%)`, or "" for a single run."""
    if check.p_met is None:
        return ""
    return f"P(met) {check.p_met:.0%} (95% CI {check.p_met_low or 0:.0%}..{check.p_met_high or 0:.0%})"


def interval_text(check: TargetCheck) -> str:
    """`90% interval 1,900,000..2,400,000 (median 2,150,000, 30 replications)`, or "" for one run."""
    if check.predicted_low is None or check.predicted_high is None or check.predicted_median is None:
        return ""
    show = money_text if check.target.kpi in KPI_MONEY_PER_YEAR else (lambda v: f"{v:,}")
    low, mid, high = (round(v) for v in (check.predicted_low, check.predicted_median, check.predicted_high))
    return f"90% interval {show(low)}..{show(high)} (median {show(mid)}, {check.replications} replications)"


def target_text(check: TargetCheck) -> str:
    """`cardholders by 2009-03: prediction 2,162,114 vs 2,010,000..2,050,000: above range by
    112,114 (+5.5%)`; a plan input says so and why, and never "met"."""
    t = check.target
    money = t.kpi in KPI_MONEY_PER_YEAR

    def show(v: int) -> str:
        return money_text(v) if money else f"{v:,}"

    span = f"{show(t.low)}..{show(t.high)}" if t.high is not None else f">= {show(t.low)}"
    what = (
        f"{t.kpi.removesuffix('_fen')} in {t.due_month[:4]} to {t.due_month}"
        if money
        else f"{t.kpi} by {t.due_month}"
    )
    verdict = _verdict(check)
    if check.source == SOURCE_PLAN_INPUT:
        return f"{what}: plan input {show(check.actual)} vs {span} ({check.why})"
    if verdict == "above range":
        assert t.high is not None
        over = check.actual - t.high
        by = f"by {show(over)} over the top ({over / t.high:+.1%})" if t.high else ""
    else:
        by = f"by {show(abs(check.gap))} ({check.gap_share:+.1%})"
    shown = verdict.upper() if verdict == "missed" else verdict
    text = f"{what}: prediction {show(check.actual)} vs {span}: {shown} {by}"
    extra = "; ".join(x for x in (interval_text(check), p_met_text(check), check.why) if x)
    return f"{text}; {extra}" if extra else text


SPAN_COLUMNS = [
    "start_month", "end_month", "cardholders", "recharge_points", "terminals", "service_windows",
    "coverage_share",
    *MONEY_SUMMED, "cash_cumulative_fen", "targets_due", "targets_met", "verdicts", "sectors", "source",
]  # fmt: skip


def _spans(r: RolloutResult, label: str, spans: list[tuple[str, str, str, str, str]]) -> Table:
    """Per phase or per year: counts at the last month, money summed, the targets due in it."""
    out = []
    for name, start, end, sectors, source in spans:
        rows = [m for m in r.months if start <= m.month <= end]
        last = rows[-1]
        due = [c for c in r.targets if start <= c.target.due_month <= end]
        counts = (last.cardholders, last.recharge_points, last.terminals, last.service_windows)
        money = (sum(getattr(m, k) for m in rows) for k in MONEY_SUMMED)
        verdicts = "; ".join(target_text(c) for c in due)
        out.append(
            (name, start, end, *counts, round(last.coverage_share, 4), *money, last.cash_cumulative_fen,
             len(due), sum(c.met for c in due), verdicts, sectors, source)
        )  # fmt: skip
    return [label, *SPAN_COLUMNS], out


def targets_side_by_side(a: RolloutResult, b: RolloutResult) -> Table:
    """The targets of two rollouts matched by KPI and due month (a target only one has shows once)."""
    keys = list(dict.fromkeys((c.target.kpi, c.target.due_month) for c in (*a.targets, *b.targets)))
    by_a = {(c.target.kpi, c.target.due_month): c for c in a.targets}
    by_b = {(c.target.kpi, c.target.due_month): c for c in b.targets}

    def cell(c: TargetCheck | None) -> tuple[Any, ...]:
        return (None, None, None) if c is None else (c.actual, c.met, c.gap)

    return (
        ["kpi", "due_month", "low", "a_actual", "a_met", "a_gap", "b_actual", "b_met", "b_gap"],
        [
            (kpi, due, (by_a.get((kpi, due)) or by_b[(kpi, due)]).target.low, *cell(by_a.get((kpi, due))),
             *cell(by_b.get((kpi, due))))
            for kpi, due in keys
        ],
    )  # fmt: skip


VERDICT_COLUMNS = [
    "kpi", "due_month", "target_low", "target_high", "figure", "value", "predicted_low_90",
    "predicted_median", "predicted_high_90", "replications", "p_met", "p_met_low_95", "p_met_high_95",
    "verdict", "why",
]  # fmt: skip


def verdict_rows(r: RolloutResult) -> Table:
    """Per target: plan input or prediction, the run's figure, the prediction's 90% interval and
    P(met) over the replications (empty for one run and for a plan input), the verdict and why."""
    return VERDICT_COLUMNS, [
        (
            c.target.kpi, c.target.due_month, c.target.low, c.target.high, c.source, c.actual,
            c.predicted_low, c.predicted_median, c.predicted_high, c.replications or None,
            c.p_met, c.p_met_low, c.p_met_high, _verdict(c), c.why,
        )
        for c in r.targets
    ]  # fmt: skip


# Long on purpose: one literal per table, in the order the report and the CSVs show them; no
# branches to cut.
def tables(r: RolloutResult) -> dict[str, Table]:
    out: dict[str, Table] = {}
    out["rollout"] = (
        ["key", "value"],
        [
            ("scenario", r.scenario),
            ("source", r.source),
            ("seed", r.seed),
            ("sample", r.sample),
            ("months", len(r.months)),
            ("payback_month", r.payback_month or "none in the span"),
            ("wall_s", round(r.wall_s, 2)),
            ("targets_met", sum(c.met for c in r.targets)),
            ("targets", len(r.targets)),
            ("budget_fen", r.budget_fen),
            ("budget_month", r.budget_month),
        ],
    )
    due: dict[str, list[str]] = {}
    for c in r.targets:
        due.setdefault(c.target.due_month, []).append(target_text(c))
    out["months"] = (
        [*MONTH_SCALARS, "sectors", "terminals_by_kind", "tx_per_day_by_sector", "targets_due"],
        [
            (
                *(getattr(m, c) for c in MONTH_SCALARS),
                " ".join(m.sectors),
                json.dumps(m.terminals_by_kind, sort_keys=True),
                json.dumps(m.tx_per_day_by_sector, sort_keys=True),
                "; ".join(due.get(m.month, [])),
            )
            for m in r.months
        ],
    )
    out["phases"] = _spans(
        r, "phase", [(p.name, p.start_month, p.end_month, " ".join(p.sectors), p.source) for p in r.phases]
    )
    years = sorted({m.month[:4] for m in r.months})
    first, last = r.months[0].month, r.months[-1].month
    out["years"] = _spans(
        r, "year", [(y, max(first, f"{y}-01"), min(last, f"{y}-12"), "", "") for y in years]
    )
    out["targets"] = (
        [
            "kpi",
            "due_month",
            "low",
            "high",
            "actual",
            "met",
            "gap",
            "gap_share",
            "figure",
            "verdict",
            "p_met",
            "p_met_low",
            "p_met_high",
            "why",
            "text",
            "source",
        ],
        [
            (
                c.target.kpi,
                c.target.due_month,
                c.target.low,
                c.target.high,
                c.actual,
                c.met,
                c.gap,
                round(c.gap_share, 4),
                c.source,
                _verdict(c),
                c.p_met,
                c.p_met_low,
                c.p_met_high,
                c.why,
                target_text(c),
                c.target.source,
            )
            for c in r.targets
        ],
    )
    out["verdicts"] = verdict_rows(r)
    out["sites"] = (["node", "kind", "count", "month"], [(s.node, s.kind, s.count, s.month) for s in r.sites])
    out["flows"] = (["payer", "payee", "amount_fen"], [(f.payer, f.payee, f.amount_fen) for f in r.flows])
    out["notes"] = (["note"], [(n,) for n in r.notes])
    return out
