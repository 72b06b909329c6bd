"""A rollout result as plain tables: months, phases, targets, sites, flows, notes.

One function turns a `RolloutResult` into named tables of plain values; the results folder
(SQLite, CSV), the HTML report and `compare` all read these, so they cannot disagree. The
per-phase table sums money over the phase and takes counts at its last month.
"""

from __future__ import annotations

import json
from typing import Any

from model.money import format_fen
from sim.rollout_result import KPI_MONEY_PER_YEAR, RolloutResult, TargetCheck

Row = tuple[Any, ...]
FEN_PER_MILLION_CNY = 100 * 1_000_000
Table = tuple[list[str], list[Row]]

MONTH_COLUMNS = [
    "month",
    "phase",
    "cardholders",
    "cards_issued_in_month",
    "issuance_limited_by",
    "service_windows",
    "recharge_points",
    "terminals",
    "coverage_share",
    "card_spending_fen",
    "loads_fen",
    "float_fen",
    "fees_fen",
    "float_income_fen",
    "revenue_fen",
    "investment_fen",
    "opex_fen",
    "cash_cumulative_fen",
    "recharge_wait_s_mean",
    "recharge_wait_s_p95",
    "window_wait_s_mean",
    "representative_day",
]
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


def target_text(check: TargetCheck) -> str:
    """`cardholders by 2005-12: 369,606 vs >= 600,000: MISSED by 230,394 (-38.4%)`."""
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
    verdict = "met" if check.met else "MISSED"
    if check.met and t.high is not None and check.actual > t.high:
        verdict = "met (above the range)"
    by = f"by {show(abs(check.gap))} ({check.gap_share:+.1%})"
    return f"{what}: {show(check.actual)} vs {span}: {verdict} {by}"


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
        ],
    )
    out["months"] = (
        [*MONTH_COLUMNS, "sectors", "terminals_by_kind", "tx_per_day_by_sector"],
        [
            (
                *(getattr(m, c) for c in MONTH_COLUMNS),
                " ".join(m.sectors),
                json.dumps(m.terminals_by_kind, sort_keys=True),
                json.dumps(m.tx_per_day_by_sector, sort_keys=True),
            )
            for m in r.months
        ],
    )
    phase_rows = []
    for p in r.phases:
        rows = [m for m in r.months if p.start_month <= m.month <= p.end_month]
        last = rows[-1]
        sums = [sum(getattr(m, k) for m in rows) for k in MONEY_SUMMED]
        phase_rows.append(
            (
                p.name,
                p.start_month,
                p.end_month,
                last.cardholders,
                last.recharge_points,
                last.terminals,
                last.service_windows,
                *sums,
                last.cash_cumulative_fen,
                " ".join(p.sectors),
                p.source,
            )
        )
    out["phases"] = (
        [
            "phase",
            "start_month",
            "end_month",
            "cardholders",
            "recharge_points",
            "terminals",
            "service_windows",
            *MONEY_SUMMED,
            "cash_cumulative_fen",
            "sectors",
            "source",
        ],
        phase_rows,
    )
    out["targets"] = (
        ["kpi", "due_month", "low", "high", "actual", "met", "gap", "gap_share", "verdict", "source"],
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
                target_text(c),
                c.target.source,
            )
            for c in r.targets
        ],
    )
    out["sites"] = (["node", "kind", "count", "month"], [(s.node, s.kind, s.count, s.month) for s in r.sites])
    out["flows"] = (["payer", "payee", "amount_fen"], [(f.payer, f.payee, f.amount_fen) for f in r.flows])
    out["notes"] = (["note"], [(n,) for n in r.notes])
    return out
