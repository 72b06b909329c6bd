"""A sweep's results folder: every run, every point's KPIs with 95% intervals, figures.

`runs` has one row per (point, seed) with each KPI; `points` one row per point and KPI with
n, mean, sd and the interval. Both go to `results.sqlite` and to CSV; `kpis.png` plots each
KPI against the swept value with its interval as error bars; `report.md` holds the tables.
The folder is written aside and renamed when whole (`sim.staged`).
"""

from __future__ import annotations

import csv
import math
import sqlite3
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sim.staged import staged_folder
from sim.sweep.engine import SweepResult
from sim.sweep.stats import interval

Row = tuple[Any, ...]
FIGURE_COLUMNS = 3


def kpi_names(result: SweepResult) -> list[str]:
    return list(result.rows[0].kpis) if result.rows else []


def tables(result: SweepResult) -> dict[str, tuple[list[str], list[Row]]]:
    spec = result.spec
    kpis = kpi_names(result)
    runs = [
        (r.point, _plain(r.value), r.seed, *(_plain(r.kpis[k]) for k in kpis), round(r.wall_s, 3))
        for r in result.rows
    ]
    points: list[Row] = []
    for point in sorted({r.point for r in result.rows}):
        mine = [r for r in result.rows if r.point == point]
        for k in kpis:
            ci = interval([r.kpis[k] for r in mine])
            points.append(
                (
                    point,
                    _plain(mine[0].value),
                    k,
                    ci.n,
                    *(_plain(x) for x in (ci.mean, ci.sd, ci.low, ci.high)),
                )
            )
    about = [
        ("kind", spec.kind),
        ("scenario", spec.scenario or "scenarios/default.toml"),
        ("param", spec.param or ""),
        ("values", ",".join(map(str, spec.values))),
        ("seeds", ",".join(map(str, spec.seeds))),
        ("sample", "" if spec.sample is None else spec.sample),
        ("runs", len(result.rows)),
        ("cluster", result.cluster),
        ("wall_s", round(result.wall_s, 3)),
    ]
    return {
        "sweep": (["key", "value"], about),
        "runs": (["point", "value", "seed", *kpis, "wall_s"], runs),
        "points": (["point", "value", "kpi", "n", "mean", "sd", "ci95_low", "ci95_high"], points),
    }


def _plain(x: Any) -> Any:
    """SQLite and CSV take no NaN: an undefined figure is an empty cell (NULL)."""
    return None if isinstance(x, float) and math.isnan(x) else x


def write_sweep(result: SweepResult, folder: Path) -> Path:
    """Write the results folder; returns the report's path."""
    data = tables(result)
    with staged_folder(folder) as work:
        with sqlite3.connect(work / "results.sqlite") as db:
            for name, (columns, rows) in data.items():
                db.execute(f"CREATE TABLE {name} ({', '.join(repr(c) for c in columns)})")
                db.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(columns))})", rows)
        db.close()
        for name, (columns, rows) in data.items():
            with (work / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
                out = csv.writer(f)
                out.writerow(columns)
                out.writerows(rows)
        _figure(result, data["points"][1], work / "kpis.png")
        (work / "report.md").write_text(_markdown(result, data), encoding="utf-8")
    return folder / "report.md"


def _figure(result: SweepResult, points: list[Row], path: Path) -> None:
    kpis = kpi_names(result)
    rows = -(-len(kpis) // FIGURE_COLUMNS)
    fig, axes = plt.subplots(rows, FIGURE_COLUMNS, figsize=(4.2 * FIGURE_COLUMNS, 3.2 * rows), squeeze=False)
    numeric = all(isinstance(v, int | float) for v in result.spec.values)
    for ax, k in zip(axes.flat, kpis, strict=False):
        mine = [p for p in points if p[2] == k and p[4] is not None]
        xs = [p[1] if numeric and p[1] is not None else p[0] for p in mine]
        means = [p[4] for p in mine]
        errors = [0.0 if p[6] is None else p[4] - p[6] for p in mine]
        ax.errorbar(xs, means, yerr=errors, marker="o", capsize=4)
        ax.set_title(k, fontsize=9)
        ax.set_xlabel(result.spec.param or "replication")
        if not numeric:
            ax.set_xticks(range(len(result.spec.values)), [str(v) for v in result.spec.values])
    for ax in list(axes.flat)[len(kpis) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{result.spec.kind} sweep: mean and 95% CI over {len(result.spec.seeds)} seeds", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _markdown(result: SweepResult, data: dict[str, tuple[list[str], list[Row]]]) -> str:
    spec = result.spec
    lines = [
        f"# Sweep of {spec.param or 'replications'} ({spec.kind})",
        "",
        f"{len(result.rows)} runs on {result.cluster}, wall {result.wall_s:.1f} s; "
        f"seeds {spec.seeds[0]}..{spec.seeds[-1]}; mean and 95% Student-t interval per point.",
        "",
    ]
    columns, rows = data["points"]
    lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    lines += ["", "![KPIs](kpis.png)", ""]
    return "\n".join(lines)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)
