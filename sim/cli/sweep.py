"""`cardtwin sweep SCENARIO --param NAME=VALUES --seeds N`: a parameter sweep with replications.

Each (value, seed) is one run on a Dask cluster (a LocalCluster of worker processes unless
`--dask tcp://HOST:PORT` names a scheduler); progress shows runs done; the results folder
(runs, per-point means with 95% intervals, figures) appears only when every run finished.
Without `--param` the sweep is N replications of the scenario as it is (said so when it
starts); a point with one run shows its mean and no interval.
"""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli.options import dask_option, list_option, out_dir_option, sample_option, workers_option
from sim.cli.progress import Progress
from sim.cli.scenario_arg import echo_shipped, kinds_of_sweep, resolve
from sim.sweep import (
    KINDS,
    LOCAL_WORKERS_DEFAULT,
    RunRow,
    SweepSpec,
    interval,
    run_sweep,
    spec_from,
    write_sweep,
)
from sim.sweep.engine import SEEDS_MAX
from sim.sweep.stats import Interval


def scenario_path(kind: str, scenario: str | None) -> Path | None:
    """SCENARIO of a sweep of this kind: a file, or a shipped scenario of that kind's name."""
    if scenario is None:
        return None
    return resolve(scenario, kinds_of_sweep(kind))


@click.command("sweep")
@click.argument("scenario", required=False)
@list_option("List the shipped scenarios of --kind (the names SCENARIO takes) and exit.")
@click.option(
    "--param",
    default=None,
    help="NAME=VALUES: a list a,b,c or a range start:stop:count. Without it: --seeds replications.",
)
# --seeds stays a plain int: the engine checks it (1..SEEDS_MAX) for every caller, CLI or not.
@click.option(
    "--seeds", type=int, default=5, show_default=True, help=f"Replications per point (1..{SEEDS_MAX})."
)
@click.option("--first-seed", type=int, default=None, help="Seeds are first-seed, first-seed + 1, ...")
@click.option(
    "--kind", type=click.Choice(KINDS), default="rollout", show_default=True, help="What one run is."
)
# --sample too: the engine checks it with the scenario's bounds (spec_from), for every caller.
@sample_option("Share of cardholders simulated in each day.", checked_by_engine=True)
@dask_option()
@workers_option(LOCAL_WORKERS_DEFAULT)
@out_dir_option()
def sweep(
    scenario: str | None,
    list_: bool,
    param: str | None,
    seeds: int,
    first_seed: int | None,
    kind: str,
    sample: float | None,
    dask: str,
    workers: int,
    out: Path | None,
) -> None:
    """Run SCENARIO (a file or a shipped name) for every value of --param and every seed; report
    KPIs with 95% intervals."""
    if list_:
        echo_shipped(kinds_of_sweep(kind))
        return
    spec = spec_from(kind, scenario_path(kind, scenario), param, seeds, first_seed, sample)
    execute(spec, dask, workers, out)


def cell(ci: Interval) -> str:
    """A KPI's figure at one point: mean ± half-width, the mean alone from one run."""
    if ci.n == 0:
        return "undefined"
    if ci.n == 1:
        return f"{ci.mean:.4g} (1 run)"
    return f"{ci.mean:.4g} ± {ci.half_width:.2g}"


def execute(spec: SweepSpec, dask: str, workers: int, out: Path | None) -> None:
    runs = len(spec.tasks())
    what = spec.param or "no --param: replications of the scenario as it is"
    click.echo(
        f"sweep {spec.kind} {spec.scenario or 'default'}: {what} "
        f"x {len(spec.seeds)} seeds = {runs} runs on {dask}",
        err=True,
    )
    with Progress(runs, "sweep", "runs") as advance:

        def done(row: RunRow) -> None:
            advance(1)

        result = run_sweep(spec, dask=dask, workers=workers, progress=done)
    name = Path(spec.scenario).stem if spec.scenario else "default"
    folder = out or Path("results") / f"sweep-{name}-{(spec.param or 'reps').replace('.', '_')}"
    report = write_sweep(result, folder)
    kpis = list(result.rows[0].kpis)
    click.echo(f"{'value':>12}  " + "  ".join(f"{k:>24}" for k in kpis))
    for point in sorted({r.point for r in result.rows}):
        mine = [r for r in result.rows if r.point == point]
        cells = [cell(interval([r.kpis[k] for r in mine])).rjust(24) for k in kpis]
        value = "as is" if mine[0].value is None else str(mine[0].value)
        click.echo(f"{value:>12}  " + "  ".join(cells))
    click.echo(f"{len(result.rows)} runs on {result.cluster}: wall {result.wall_s:.1f} s; report {report}")
