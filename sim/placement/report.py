"""A deployment plan's report folder: sites, the comparison table and a map of both plans.

`plan.csv` and `against.csv` list each site (node, points, position, district, cardholders
nearest to it, its day-mean wait); a `plan.csv` can be given back as `--against FILE`.
`summary.csv` and `report.md` hold the comparison; `map.png` draws residents per cell and the
sites of each plan, covered cells shaded.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sim.placement.geo import Geography, node_name
from sim.placement.waits import PlanScore

SUMMARY_COLUMNS = (
    "plan",
    "points",
    "sites",
    "coverage_share",
    "walk_m_mean",
    "wait_s_mean",
    "wait_s_p95",
    "overloaded_share",
    "busiest_rho",
)


def summary_row(name: str, s: PlanScore) -> tuple[object, ...]:
    return (
        name,
        s.points,
        s.sites,
        round(s.coverage_share, 4),
        round(s.walk_m_mean, 1),
        _finite(s.wait_s_mean),
        _finite(s.wait_s_p95),
        round(s.overloaded_share, 4),
        round(s.busiest_rho, 3),
    )


def _finite(x: float) -> float | str:
    return round(x, 1) if math.isfinite(x) else "inf"


def write_sites(path: Path, geo: Geography, s: PlanScore) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["node", "count", "x_km", "y_km", "district", "cardholders", "wait_s"])
        for cell, points, holders, wait in zip(
            s.site_cell, s.site_points, s.site_cardholders, s.site_wait_s, strict=True
        ):
            x, y = geo.grid.xy_km[cell]
            district = int(geo.grid.district[cell])
            row = (node_name(int(cell)), int(points), round(float(x), 3), round(float(y), 3), district)
            out.writerow([*row, round(float(holders)), _finite(float(wait))])


def write_report(
    folder: Path, geo: Geography, scores: dict[str, PlanScore], title: str, notes: list[str]
) -> Path:
    """Write the folder's files (the names of `scores` are the plans: first the plan)."""
    names = list(scores)
    for name, file in zip(names, ("plan.csv", "against.csv"), strict=False):
        write_sites(folder / file, geo, scores[name])
    rows = [summary_row(n, s) for n, s in scores.items()]
    with (folder / "summary.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(SUMMARY_COLUMNS)
        out.writerows(rows)
    _map(folder / "map.png", geo, scores)
    lines = [f"# {title}", ""]
    lines += ["| " + " | ".join(SUMMARY_COLUMNS) + " |", "|" + "---|" * len(SUMMARY_COLUMNS)]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
    lines += ["", *[f"- {n}" for n in notes], "", "![map](map.png)", ""]
    report = folder / "report.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return report


def _map(path: Path, geo: Geography, scores: dict[str, PlanScore]) -> None:
    xy = geo.grid.xy_km
    density = geo.residents / (geo.grid.cell_m / 1000) ** 2
    fig, axes = plt.subplots(1, len(scores), figsize=(6 * len(scores), 6), squeeze=False)
    for ax, (name, s) in zip(axes[0], scores.items(), strict=True):
        covered = np.zeros(geo.cells, bool)
        for cell in s.site_cell:
            covered[geo.reach(int(cell))] = True
        shade = ax.scatter(
            xy[:, 0], xy[:, 1], c=np.log10(np.maximum(density, 1)), s=4, marker="s", cmap="Greys"
        )
        ax.scatter(xy[~covered, 0], xy[~covered, 1], s=4, marker="s", color="#f4a3a3", label="not covered")
        sites = xy[s.site_cell]
        ax.scatter(sites[:, 0], sites[:, 1], s=3 + 4 * s.site_points, color="#1f77b4", label="recharge site")
        ax.set_title(f"{name}: {s.points} points, coverage {s.coverage_share:.1%}")
        ax.set_xlabel("km")
        ax.set_ylabel("km")
        ax.set_aspect("equal")
        ax.legend(loc="lower right", fontsize=8)
    fig.colorbar(shade, ax=axes[0].tolist(), label="log10 residents per km2", shrink=0.7)
    fig.savefig(path, dpi=110)
    plt.close(fig)
