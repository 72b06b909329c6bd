"""Tables the dashboard shows and offers for download, built from a `RolloutResult`.

Plain pandas frames with unit-carrying column names (`float_fen`, `wait_s_mean`), so the CSV
a stakeholder downloads says what each number is. Dictionary fields of a month (transactions
by sector, terminals by kind, settlement by participant) become one column each.
"""

from __future__ import annotations

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no types; pandas-stubs is not a dependency

from dashboard.i18n import name, t
from sim.rollout import KPI_COUNTS, MONTH_SCALARS, MonthRow, RolloutResult, TargetCheck


def _month_record(row: MonthRow) -> dict[str, object]:
    rec: dict[str, object] = {k: getattr(row, k) for k in MONTH_SCALARS}
    rec["sectors"] = " ".join(row.sectors)
    rec.update({f"tx_per_day.{k}": v for k, v in row.tx_per_day_by_sector.items()})
    rec.update({f"terminals.{k}": v for k, v in row.terminals_by_kind.items()})
    rec.update({f"settlement_fen.{k}": v for k, v in row.settlement_fen_by_participant.items()})
    return rec


def months_frame(result: RolloutResult) -> pd.DataFrame:
    """One row per month; dictionary columns that a month lacks are 0 (nothing happened)."""
    frame = pd.DataFrame([_month_record(r) for r in result.months])
    dict_cols = [c for c in frame.columns if "." in c]
    frame[dict_cols] = frame[dict_cols].fillna(0).astype("int64")
    return frame


def sectors(result: RolloutResult) -> list[str]:
    """Every sector with transactions in some month, in first-seen order."""
    seen: dict[str, None] = {}
    for row in result.months:
        for sector in row.tx_per_day_by_sector:
            seen.setdefault(sector, None)
    return list(seen)


def target_status(check: TargetCheck, month: str) -> str:
    """`pending` before the due month (the outcome is not known yet), then met or missed."""
    if month < check.target.due_month:
        return "pending"
    return "met" if check.met else "missed"


def targets_frame(result: RolloutResult, month: str, lang: str) -> pd.DataFrame:
    """The targets as a viewer at `month` sees them: the due ones with their outcome."""
    rows = []
    for check in result.targets:
        status = target_status(check, month)
        known = status != "pending"
        rows.append(
            {
                t("kpi", lang): t(check.target.kpi, lang),
                t("due", lang): check.target.due_month,
                t("target", lang): check.target.low,
                t("actual", lang): check.actual if known else None,
                t("gap", lang): check.gap if known else None,
                t("status", lang): t(status, lang),
            }
        )
    frame = pd.DataFrame(rows)
    for column in (t("actual", lang), t("gap", lang)):
        frame[column] = frame[column].astype("Int64")  # whole numbers, blank while not due
    return frame


def next_target(result: RolloutResult, kpi: str, month: str) -> TargetCheck | None:
    """The earliest target of `kpi` due at or after `month`, if any."""
    due = [c for c in result.targets if c.target.kpi == kpi and c.target.due_month >= month]
    return min(due, key=lambda c: c.target.due_month) if due else None


def targets_csv(result: RolloutResult) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "kpi": c.target.kpi,
                "due_month": c.target.due_month,
                "low": c.target.low,
                "high": c.target.high,
                "actual": c.actual,
                "met": c.met,
                "gap": c.gap,
                "source": c.target.source,
            }
            for c in result.targets
        ]
    )


def flows_frame(result: RolloutResult) -> pd.DataFrame:
    return pd.DataFrame(
        [{"payer": f.payer, "payee": f.payee, "amount_fen": f.amount_fen} for f in result.flows],
        columns=["payer", "payee", "amount_fen"],
    )


def sites_frame(result: RolloutResult) -> pd.DataFrame:
    return pd.DataFrame(
        [{"node": s.node, "kind": s.kind, "count": s.count, "month": s.month} for s in result.sites],
        columns=["node", "kind", "count", "month"],
    )


def positions_frame(row: MonthRow, lang: str) -> pd.DataFrame:
    """A month's net T+1 positions, largest receiver first."""
    items = sorted(row.settlement_fen_by_participant.items(), key=lambda kv: -kv[1])
    return pd.DataFrame(
        {
            "participant": [name(k, lang) for k, _ in items],
            "position_yuan": [v / 100 for _, v in items],
        }
    )


def _count(v: float) -> str:
    return f"{v:,.0f}"


def _share(v: float) -> str:
    return f"{v:.1%}"


def _fen(v: float) -> str:
    return f"{v / 100:,.0f}"


def _seconds(v: float) -> str:
    return f"{v:,.1f}"


# (label key, unit key or "", formatter) of each headline figure
_FIGURES = {
    "cardholders": ("cardholders", "", _count),
    "recharge_points": ("recharge_points", "", _count),
    "terminals": ("terminals", "", _count),
    "coverage_share": ("coverage", "", _share),
    "float_fen": ("float", "yuan", _fen),
    "recharge_wait_s_mean": ("cmp_wait_mean", "seconds", _seconds),
    "recharge_wait_s_p95": ("cmp_wait_p95", "seconds", _seconds),
    "cash_cumulative_fen": ("cash_cumulative", "yuan", _fen),
    "targets_met": ("cmp_targets_met", "", _count),
    "targets_missed": ("cmp_targets_missed", "", _count),
}


def last_month_figures(result: RolloutResult) -> dict[str, float]:
    """The headline figures of a run's last month, for side-by-side comparison."""
    last = result.months[-1]
    out: dict[str, float] = {k: float(getattr(last, k)) for k in KPI_COUNTS}
    out["coverage_share"] = last.coverage_share
    out["float_fen"] = float(last.float_fen)
    out["recharge_wait_s_mean"] = last.recharge_wait_s_mean
    out["recharge_wait_s_p95"] = last.recharge_wait_s_p95
    out["cash_cumulative_fen"] = float(last.cash_cumulative_fen)
    out["targets_met"] = float(sum(c.met for c in result.targets))
    out["targets_missed"] = float(sum(not c.met for c in result.targets))
    assert out.keys() == _FIGURES.keys()
    return out


def compare_frame(a: RolloutResult, b: RolloutResult, lang: str) -> pd.DataFrame:
    """Headline figures at each run's last month, formatted, with the difference B - A."""
    fa, fb = last_month_figures(a), last_month_figures(b)
    rows = []
    for key, (label, unit, fmt) in _FIGURES.items():
        shown = t(label, lang) + (f" ({t(unit, lang)})" if unit else "")
        diff = fmt(fb[key] - fa[key])
        rows.append(
            {
                t("figure", lang): shown,
                "A": fmt(fa[key]),
                "B": fmt(fb[key]),
                t("difference", lang): diff if diff.startswith("-") else "+" + diff,
            }
        )
    return pd.DataFrame(rows)
