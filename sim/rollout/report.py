"""A rollout's results folder: SQLite, CSV tables, matplotlib figures and report.html.

The folder is written under a temporary name next to its final place and renamed into place
only when every file is complete, so a failed or interrupted run never leaves a folder that
looks finished. `compare` writes one folder for two results: their targets side by side and
their curves overlaid.
"""

from __future__ import annotations

import csv
import html
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from sim.rollout.result import KPI_MONEY_PER_YEAR, SOURCE_PREDICTION, RolloutResult
from sim.rollout.tables import (
    FEN_PER_MILLION_CNY,
    money_text,
    tables,
    target_text,
    targets_side_by_side,
)
from sim.table import Row, Table


def _x(month: str) -> float:
    """A YYYY-MM month as a matplotlib date number (the first of the month)."""
    return float(mdates.date2num(date(int(month[:4]), int(month[5:]), 1)))  # type: ignore[no-untyped-call]


def _dates(r: RolloutResult) -> list[float]:
    return [_x(m.month) for m in r.months]


def _write_db(path: Path, data: dict[str, Table]) -> None:
    db = sqlite3.connect(path)
    try:
        with db:  # one transaction: commits at the end, or rolls back
            for name, (columns, rows) in data.items():
                db.execute(f'CREATE TABLE "{name}" ({", ".join(f"{c!r}" for c in columns)})')
                db.executemany(f'INSERT INTO "{name}" VALUES ({", ".join("?" * len(columns))})', rows)
    finally:
        db.close()


def _write_csv(folder: Path, data: dict[str, Table], prefix: str = "") -> None:
    for name, (columns, rows) in data.items():
        with (folder / f"{prefix}{name}.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(columns)
            w.writerows(rows)


def _plot_adoption(ax: Axes, r: RolloutResult, label: str) -> None:
    line = ax.plot(_dates(r), [m.cardholders / 1e6 for m in r.months], label=f"{label} cardholders")[0]
    for c in r.targets:
        if c.target.kpi == "cardholders":
            d = _x(c.target.due_month)
            marker = "s" if c.source != SOURCE_PREDICTION else "^" if c.met else "v"
            ax.plot([d], [c.target.low / 1e6], marker, color=line.get_color(), markersize=9)
    ax.set_ylabel("cardholders (million)")


def _plot_cash(ax: Axes, r: RolloutResult, label: str) -> None:
    ax.plot(_dates(r), [m.cash_cumulative_fen / FEN_PER_MILLION_CNY for m in r.months], label=f"{label} cash")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel("cumulative cash (M CNY)")


def _plot_network(ax: Axes, r: RolloutResult, label: str) -> None:
    d = _dates(r)
    ax.plot(d, [m.terminals for m in r.months], label=f"{label} terminals")
    ax.plot(
        d, [m.recharge_points * 10 for m in r.months], linestyle="--", label=f"{label} recharge points x10"
    )
    ax.set_ylabel("count")


def _plot_volume(ax: Axes, r: RolloutResult, label: str) -> None:
    d = _dates(r)
    sectors = sorted({k for m in r.months for k in m.tx_per_day_by_sector})
    for s in sectors:
        ax.plot(d, [m.tx_per_day_by_sector.get(s, 0) / 1e6 for m in r.months], label=f"{label} {s}")
    ax.set_ylabel("taps a day (million)")


PANELS: dict[str, tuple[str, Callable[[Axes, RolloutResult, str], None]]] = {
    "adoption.png": (
        "Cardholders (targets: up = met, down = missed or above range, square = plan input)",
        _plot_adoption,
    ),
    "network.png": ("Terminals and recharge points", _plot_network),
    "volume.png": ("Card taps a day by sector (twin)", _plot_volume),
    "cash.png": ("Operator's cumulative cash", _plot_cash),
}


def _figures(folder: Path, results: Sequence[tuple[str, RolloutResult]]) -> list[str]:
    names = []
    for name, (title, plot) in PANELS.items():
        fig, ax = plt.subplots(figsize=(9, 4))
        for label, r in results:
            plot(ax, r, label)
        for p in results[0][1].phases:
            ax.axvline(_x(p.start_month), color="grey", alpha=0.3)
        ax.xaxis_date()
        ax.set_title(title)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(folder / name, dpi=90)
        plt.close(fig)
        names.append(name)
    return names


def _table_html(columns: list[str], rows: list[Row], limit: int = 80) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows[:limit]
    )
    more = f"<p>({len(rows) - limit} more rows in the CSV)</p>" if len(rows) > limit else ""
    return f"<table border=1 cellspacing=0 cellpadding=3><tr>{head}</tr>{body}</table>{more}"


def _page(title: str, sections: list[tuple[str, str]], figures: list[str]) -> str:
    parts = [f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"]
    parts.append(f"<h1>{html.escape(title)}</h1>")
    for heading, body in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>{body}")
    parts += [f"<p><img src='{f}'></p>" for f in figures]
    parts.append("</body></html>")
    return "\n".join(parts)


def summary_lines(r: RolloutResult) -> list[str]:
    """The report's text: every target's verdict, payback, and the totals."""
    predicted = [c for c in r.targets if c.source == SOURCE_PREDICTION]
    counts = {v: sum(c.verdict == v for c in predicted) for v in ("met", "missed", "above range")}
    out = [
        f"targets: {len(predicted)} predicted by the model ({counts['met']} met, {counts['missed']} missed, "
        f"{counts['above range']} above range), {len(r.targets) - len(predicted)} plan input(s) "
        "(figures the scenario sets, not verdicts)"
    ]
    if not r.targets:
        out = ["targets: none in this scenario (a template has no promised figures)"]
    out += [f"  {target_text(c)}  [{c.target.source}]" for c in r.targets]
    if predicted and all(c.replications == 0 for c in predicted):
        out.append(
            "  (one run: the predictions above carry no interval; --replications N gives each its 90% "
            "interval and P(met))"
        )
    invest = sum(m.investment_fen for m in r.months)
    revenue = sum(m.revenue_fen for m in r.months)
    opex = sum(m.opex_fen for m in r.months)
    out.append(
        f"investment {money_text(invest)}, opex {money_text(opex)}, "
        f"revenue {money_text(revenue)}; payback: {r.payback_month or 'not within the span'}"
    )
    if r.budget_fen and r.budget_month > r.months[-1].month:
        out.append(f"budget {money_text(r.budget_fen)} to {r.budget_month}: not checked (after the span)")
    elif r.budget_fen:
        spent = sum(m.investment_fen for m in r.months if m.month <= r.budget_month)
        verdict = "within budget" if spent <= r.budget_fen else "OVER budget"
        out.append(
            f"investment to {r.budget_month}: {money_text(spent)} vs budget {money_text(r.budget_fen)}: "
            f"{verdict} by {money_text(abs(r.budget_fen - spent))} (prediction: what the crews installed "
            "times the scenario's market unit costs, ASSUMPTION)"
        )
    return out


def _atomic(folder: Path, fill: Callable[[Path], None]) -> Path:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    try:
        fill(tmp)
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder / "report.html"


def _count_or_money(kpi: str, v: float | None) -> str:
    if v is None:
        return ""
    return money_text(round(v)) if kpi in KPI_MONEY_PER_YEAR else f"{round(v):,}"


def _share(v: float | None) -> str:
    return "" if v is None else f"{v:.0%}"


def verdicts_html(r: RolloutResult) -> str:
    """Per target: plan input or prediction, the figure, the prediction's 90% interval, P(met)
    with its 95% interval, the verdict and why (the `verdicts` table, formatted)."""
    columns = [
        "target", "due", "range", "figure", "value", "90% interval", "median", "P(met)", "95% CI",
        "verdict", "why",
    ]  # fmt: skip
    rows: list[Row] = []
    for c in r.targets:
        t, kpi = c.target, c.target.kpi
        span = _count_or_money(kpi, t.low) + (
            f"..{_count_or_money(kpi, t.high)}" if t.high is not None else "+"
        )
        interval = (
            f"{_count_or_money(kpi, c.predicted_low)}..{_count_or_money(kpi, c.predicted_high)}"
            if c.predicted_low is not None
            else ("-" if c.source != SOURCE_PREDICTION else "one run")
        )
        ci = f"{_share(c.p_met_low)}..{_share(c.p_met_high)}" if c.p_met is not None else ""
        rows.append(
            (kpi.removesuffix("_fen"), t.due_month, span, c.source, _count_or_money(kpi, c.actual), interval,
             _count_or_money(kpi, c.predicted_median), _share(c.p_met), ci, c.verdict, c.why)
        )  # fmt: skip
    return _table_html(columns, rows)


def rollout_sections(
    r: RolloutResult, data: dict[str, Table], extra: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """The report's sections in page order: (heading, HTML). A new output of a rollout (a
    sector's own figures) adds its section here, from `r` or from `data`'s tables; `extra`
    names tables a sector added to `data` (sim.services.rollout), shown last as they are."""
    return [
        ("Targets: plan inputs and predictions", verdicts_html(r)),
        ("Summary", "<pre>" + html.escape("\n".join(summary_lines(r))) + "</pre>"),
        ("Per phase", _table_html(*data["phases"])),
        ("Per calendar year", _table_html(*data["years"])),
        ("Per month", _table_html(*data["months"])),
        ("Money flows (T+1 settlement, whole rollout)", _table_html(*data["flows"])),
        ("Notes", _table_html(*data["notes"])),
        *((name, _table_html(*data[name])) for name in extra),
    ]


def write_rollout(r: RolloutResult, folder: Path, extra: dict[str, Table] | None = None) -> Path:
    """Write the results folder of one rollout; returns the report's path. `extra` tables (the
    services' outputs, `sim.services.rollout`) go into the same database, CSVs and report."""
    data = {**tables(r), **(extra or {})}

    def fill(tmp: Path) -> None:
        _write_db(tmp / "rollout.sqlite", data)
        _write_csv(tmp, data)
        figures = _figures(tmp, [(r.scenario, r)])
        page = _page(f"Rollout {r.scenario}", rollout_sections(r, data, tuple(extra or {})), figures)
        (tmp / "report.html").write_text(page, "utf-8")

    return _atomic(folder, fill)


def write_compare(a: RolloutResult, b: RolloutResult, folder: Path) -> Path:
    """Two rollouts side by side: targets, payback, totals, and overlaid figures."""
    data_a, data_b = tables(a), tables(b)
    side = (
        ["key", a.scenario, b.scenario],
        [(k, va, vb) for (k, va), (_, vb) in zip(data_a["rollout"][1], data_b["rollout"][1], strict=True)],
    )

    both = {"side_by_side": side, "targets": targets_side_by_side(a, b)}

    def fill(tmp: Path) -> None:
        prefixed = {**{f"a_{k}": v for k, v in data_a.items()}, **{f"b_{k}": v for k, v in data_b.items()}}
        _write_db(tmp / "compare.sqlite", {**both, **prefixed})
        _write_csv(tmp, both)
        _write_csv(tmp, data_a, "a_")
        _write_csv(tmp, data_b, "b_")
        figures = _figures(tmp, [(a.scenario, a), (b.scenario, b)])
        sections = [
            ("Side by side", _table_html(*side)),
            ("Targets side by side (a = A, b = B)", _table_html(*both["targets"])),
            (f"A: {a.scenario}", "<pre>" + html.escape("\n".join(summary_lines(a))) + "</pre>"),
            (f"B: {b.scenario}", "<pre>" + html.escape("\n".join(summary_lines(b))) + "</pre>"),
            ("A per phase", _table_html(*data_a["phases"])),
            ("B per phase", _table_html(*data_b["phases"])),
        ]
        (tmp / "report.html").write_text(
            _page(f"Compare {a.scenario} / {b.scenario}", sections, figures), "utf-8"
        )

    return _atomic(folder, fill)
