"""`cardtwin plan SCENARIO --recharge-points N`: place recharge points and compare with another plan.

SCENARIO is a day scenario (`scenarios/default.toml`: residents = its cardholders) or a
rollout scenario (`scenarios/rollout/*.toml` or its name: residents = the largest eligible
population of its phases, walking distance and urban area from its [deployment]). The plan is
the greedy placement with a capacity per point (the cardholders one point serves at 80%
utilisation in the busiest hour); the alternative is a baseline ("uniform", "random") or a
plan file (CSV with columns node,count, such as an earlier run's plan.csv).
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from pathlib import Path

import click

from scenarios.rollout_loader import load_rollout
from scenarios.schema import Scenario
from sim.city import URBAN_AREA_KM2, WALK_CELL_M
from sim.cli.options import out_dir_option, seed_option
from sim.cli.scenario_arg import list_shipped_option, load_day, resolve
from sim.placement import (
    BASELINES,
    MAX_PER_SITE_DEFAULT,
    RHO_DESIGN,
    SUMMARY_COLUMNS,
    WALK_M_DEFAULT,
    Geography,
    PlacementError,
    Plan,
    TopupDemand,
    baseline,
    cell_of,
    check_plan,
    demand_of,
    geography,
    greedy,
    score,
    summary_row,
    write_report,
)
from sim.staged import staged_folder

PLAN_FILE_ROWS_MAX = 1_000_000


@dataclass(frozen=True, slots=True)
class PlanInputs:
    name: str
    day: Scenario
    residents: int
    walk_m: float
    area_km2: float


def plan_inputs(scenario: str | None) -> PlanInputs:
    """What the planner needs from a day or rollout scenario (a file or a shipped name)."""
    path = None if scenario is None else resolve(scenario)
    if path is not None and _is_rollout(path):
        r = load_rollout(path)
        return PlanInputs(
            r.name,
            r.day_scenario,
            max(p.eligible_persons for p in r.phase),
            r.deployment.walk_m,
            r.deployment.urban_area_km2,
        )
    s = load_day(None if path is None else str(path))
    return PlanInputs(s.run.name, s, s.population.cardholders, WALK_M_DEFAULT, URBAN_AREA_KM2)


def spending_note(demand: TopupDemand) -> str:
    """Input against prediction: the scenario's rates at list prices against what the twin's
    cardholders pay (concessions, purchases refused for want of balance)."""
    return (
        f"spending per cardholder-day: input CNY {demand.spend_input_fen / 100:.2f} (the scenario's rates "
        f"at list prices), predicted CNY {demand.spend_fen / 100:.2f} paid "
        f"({demand.spend_gap_share:+.1%}: concessions and payments refused for want of balance); "
        f"the top-ups follow the prediction"
    )


def _is_rollout(path: Path) -> bool:
    if not path.is_file():
        return False  # the day loader says why it cannot read it
    try:
        return "rollout" in tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False  # the day loader reports it with its own message


def read_plan(path: Path, geo: Geography) -> Plan:
    """A plan file: CSV with a header naming at least `node` and `count`."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise PlacementError(f"{path}: cannot read plan: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PlacementError(f"{path}: not UTF-8 text") from None
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if header is None or "node" not in header or "count" not in header:
        raise PlacementError(f"{path}:1: header must name the columns node and count")
    at_node, at_count = header.index("node"), header.index("count")
    plan: Plan = {}
    for line, row in enumerate(rows, start=2):
        if line > PLAN_FILE_ROWS_MAX:
            raise PlacementError(f"{path}:{line}: more than {PLAN_FILE_ROWS_MAX} sites")
        if not row:
            continue
        if len(row) != len(header):
            raise PlacementError(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
        try:
            cell = cell_of(row[at_node].strip())
        except PlacementError as exc:
            raise PlacementError(f"{path}:{line}: node: {exc}") from None
        count = row[at_count].strip()
        if not count.isdigit() or int(count) < 1:
            raise PlacementError(f"{path}:{line}: count: {count!r} is not a whole number >= 1")
        if cell in plan:
            raise PlacementError(f"{path}:{line}: node: cell-{cell} listed twice")
        plan[cell] = int(count)
    if not plan:
        raise PlacementError(f"{path}: no sites")
    check_plan(geo, plan, str(path))
    return plan


@click.command("plan")
@click.argument("scenario", required=False)
@list_shipped_option(("day", "rollout"))
@click.option("--recharge-points", "points", type=int, required=True, help="Recharge points to place.")
@click.option("--walk-m", type=float, default=None, help="Walking distance counted as covered (m).")
@click.option("--area-km2", type=float, default=None, help="Urban area the grid covers (km2).")
@click.option(
    "--cell-m", type=float, default=WALK_CELL_M, show_default=True, help="Block size of the grid (m)."
)
@click.option(
    "--max-per-site",
    type=int,
    default=MAX_PER_SITE_DEFAULT,
    show_default=True,
    help="Most recharge points one site (grid cell) may take.",
)
@click.option(
    "--against",
    default="uniform",
    show_default=True,
    help=f"{', '.join(BASELINES)} or a plan CSV (node,count).",
)
@seed_option("Seed of the city and the baseline (default: the scenario's).")
@out_dir_option("Report folder.")
def plan(
    scenario: str | None,
    points: int,
    walk_m: float | None,
    area_km2: float | None,
    cell_m: float,
    max_per_site: int,
    against: str,
    seed: int | None,
    out: Path | None,
) -> None:
    """Place recharge points on SCENARIO's city (a day or rollout scenario: a file or a shipped name;
    default: Hangzhou 2009) to maximise walking coverage; compare with --against."""
    if points < 1:
        raise PlacementError(f"--recharge-points: {points} out of range (allowed: >= 1)")
    inputs = plan_inputs(scenario)
    day = inputs.day if seed is None else inputs.day.replace(seed=seed)
    walk = inputs.walk_m if walk_m is None else walk_m
    geo = geography(
        day, residents=inputs.residents, walk_m=walk, area_km2=area_km2 or inputs.area_km2, cell_m=cell_m
    )
    demand = demand_of(day, cardholders=inputs.residents)
    other = (
        baseline(geo, points, against, day.run.seed, max_per_site=max_per_site)
        if against in BASELINES
        else read_plan(Path(against), geo)
    )
    capacity = demand.capacity_cardholders(RHO_DESIGN)
    click.echo(
        f"{inputs.name}: {geo.cells} cells of {cell_m:g} m, {inputs.residents} residents, walk {walk:g} m, "
        f"{capacity:.0f} cardholders per point at {RHO_DESIGN:.0%} in the busiest hour",
        err=True,
    )
    click.echo(spending_note(demand), err=True)
    mine = greedy(geo, points, capacity_residents=capacity, max_per_site=max_per_site)
    scores = {"greedy": score(geo, mine, demand), Path(against).stem: score(geo, other, demand)}
    widths = [max(len(c), 8) for c in SUMMARY_COLUMNS]
    click.echo("  ".join(c.rjust(w) for c, w in zip(SUMMARY_COLUMNS, widths, strict=True)))
    for name, s in scores.items():
        row = summary_row(name, s)
        click.echo("  ".join(str(v).rjust(w) for v, w in zip(row, widths, strict=True)))
    folder = out or Path("results") / f"plan-{inputs.name}-{points}"
    notes = [
        f"walking distance along a street grid of {cell_m:g} m blocks; covered within {walk:g} m",
        f"capacity {capacity:.0f} cardholders per point (utilisation {RHO_DESIGN:.0%} in the busiest hour), "
        f"at most {max_per_site} points per site",
        f"{demand.topups_per_cardholder_day:.4f} top-ups per cardholder a day at recharge points "
        f"(predicted: the twin's steady-state top-up habit), "
        f"{demand.service_s:g} s each, {demand.kiosks_per_point} kiosk(s) per point",
        spending_note(demand),
        "waits: Erlang C per site and hour, nearest-site assignment; inf = some site saturated",
    ]
    with staged_folder(folder) as work:
        write_report(work, geo, scores, f"Recharge points for {inputs.name}: {points}", notes)
    click.echo(f"report {folder / 'report.md'}")
