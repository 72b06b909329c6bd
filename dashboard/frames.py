"""Tables the dashboard shows and offers for download, built from a `RolloutResult`.

Plain pandas frames with unit-carrying column names (`float_fen`, `wait_s_mean`), so the CSV
a stakeholder downloads says what each number is. Dictionary fields of a month (transactions
by sector, terminals by kind, settlement by participant) become one column each.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no types; pandas-stubs is not a dependency

from dashboard import participants, units, verdicts
from dashboard.i18n import t
from sim.rollout import KPI_COUNTS, MONTH_SCALARS, Flow, MonthRow, RolloutResult, TargetCheck


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
    """Every sector with transactions in some month, in first-seen order (a sector the day
    knows but no one used, such as a metro in a city without one, is not shown)."""
    seen: dict[str, None] = {}
    for row in result.months:
        for sector, count in row.tx_per_day_by_sector.items():
            if count > 0:
                seen.setdefault(sector, None)
    return list(seen)


def status_colours(result: RolloutResult, month: str) -> list[str]:
    """The CSS colour of each target's status cell, in `targets_frame`'s row order."""
    return [f"color: {verdicts.HEX[verdicts.status(c, month)]}" for c in result.targets]


def target_figure(check: TargetCheck, lang: str) -> str:
    """The promised figure in its unit: '1,000,000' or a range 'CNY 1.00B – CNY 1.20B'."""
    kpi, low, high = check.target.kpi, check.target.low, check.target.high
    shown = units.kpi_value(kpi, low, lang)
    return shown if high is None else f"{shown} – {units.kpi_value(kpi, high, lang)}"


def status_text(check: TargetCheck, month: str, lang: str) -> str:
    """Light, status and, from replications, P(met) with its interval."""
    status = verdicts.status(check, month)
    text = f"{verdicts.DOT} {t(status, lang)}"
    p_met = verdicts.p_met_text(check, lang) if status != verdicts.PENDING else ""
    return f"{text} · {p_met}" if p_met else text


def targets_frame(result: RolloutResult, month: str, lang: str) -> pd.DataFrame:
    """The targets as a viewer at `month` sees them, every figure in its unit.

    Actual and 完成率 appear from the due month on; a plan input shows its figure as what the
    plan sets, with no completion (restating an input is no achievement).
    """
    rows = []
    for check in result.targets:
        status = verdicts.status(check, month)
        known = status not in (verdicts.PENDING, verdicts.PLAN_INPUT)
        done = verdicts.completion(check)
        rows.append(
            {
                t("kpi", lang): t(check.target.kpi, lang),
                t("due", lang): check.target.due_month,
                t("target", lang): target_figure(check, lang),
                t("actual", lang): units.kpi_value(check.target.kpi, check.actual, lang) if known else "",
                t("completion", lang): units.share(done) if known and done is not None else "",
                t("status", lang): status_text(check, month, lang),
            }
        )
    return pd.DataFrame(rows)


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


def flows_frame(flows: tuple[Flow, ...]) -> pd.DataFrame:
    """Flows as the download carries them: the parties the page shows (`participants.party`
    keys: a scenario's own participant, or a role such as `role:bus`), amounts in fen."""
    return pd.DataFrame(
        [{"payer": f.payer, "payee": f.payee, "amount_fen": f.amount_fen} for f in flows],
        columns=["payer", "payee", "amount_fen"],
    )


def sites_frame(result: RolloutResult) -> pd.DataFrame:
    return pd.DataFrame(
        [{"node": s.node, "kind": s.kind, "count": s.count, "month": s.month} for s in result.sites],
        columns=["node", "kind", "count", "month"],
    )


def positions_frame(net_fen: dict[str, int], lang: str) -> pd.DataFrame:
    """Net positions (the reserve's included), largest receiver first, in CNY."""
    items = sorted(net_fen.items(), key=lambda kv: -kv[1])
    return pd.DataFrame(
        {
            t("participant", lang): [participants.shown(k, lang) for k, _ in items],
            t("position", lang): [units.yuan(v, lang) for _, v in items],
        }
    )


def flows_table(flows: tuple[Flow, ...], lang: str) -> pd.DataFrame:
    """Settlement flows as shown: names translated, amounts in CNY, largest first."""
    ordered = sorted(flows, key=lambda f: -f.amount_fen)
    return pd.DataFrame(
        {
            t("payer", lang): [participants.shown(f.payer, lang) for f in ordered],
            t("payee", lang): [participants.shown(f.payee, lang) for f in ordered],
            t("amount", lang): [units.yuan(f.amount_fen, lang) for f in ordered],
        }
    )


Fmt = Callable[[float, str], str]


def _count(v: float, lang: str) -> str:
    return units.count(v, lang)


def _share(v: float, _lang: str) -> str:
    return f"{v:.1%}"


# (label key, formatter) of each headline figure; the formatter carries the unit
_FIGURES: dict[str, tuple[str, Fmt]] = {
    "cardholders": ("cardholders", lambda v, lang: units.count(v, lang, "cardholders")),
    "recharge_points": ("recharge_points", lambda v, lang: units.count(v, lang, "recharge_points")),
    "terminals": ("terminals", lambda v, lang: units.count(v, lang, "terminals")),
    "coverage_share": ("coverage", _share),
    "float_fen": ("float", units.yuan),
    "recharge_wait_s_mean": ("cmp_wait_mean", units.seconds),
    "recharge_wait_s_p95": ("cmp_wait_p95", units.seconds),
    "cash_cumulative_fen": ("cash_cumulative", units.yuan),
    "targets_met": ("cmp_targets_met", _count),
    "targets_missed": ("cmp_targets_missed", _count),
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
    tally = verdicts.tally(result, last.month)
    out["targets_met"] = float(tally.met)
    out["targets_missed"] = float(tally.due - tally.met)
    assert out.keys() == _FIGURES.keys()
    return out


def compare_frame(a: RolloutResult, b: RolloutResult, lang: str) -> pd.DataFrame:
    """Headline figures at each run's last month, formatted, with the difference B - A."""
    fa, fb = last_month_figures(a), last_month_figures(b)
    rows = []
    for key, (label, fmt) in _FIGURES.items():
        rows.append(
            {
                t("figure", lang): t(label, lang),
                "A": fmt(fa[key], lang),
                "B": fmt(fb[key], lang),
                t("difference", lang): units.signed(fmt(fb[key] - fa[key], lang)),
            }
        )
    return pd.DataFrame(rows)
