"""`cardtwin bench sweep`: the wall time of a 20-run sweep (4 points x 5 seeds by default).

Wall time, not CPU time: a sweep is worth running in parallel exactly when the wall clock
falls, and it includes the LocalCluster's start and stop. The machine's load moves it; the
figure is printed with the runs' own summed wall time, so the parallel speed-up shows.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from sim.sweep import KINDS, LOCAL_WORKERS_DEFAULT, run_sweep, spec_from


@click.command("sweep")
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--param", default="city.recharge_points=150,600,1000,2000", show_default=True)
@click.option("--seeds", type=int, default=5, show_default=True)
@click.option("--kind", type=click.Choice(KINDS), default="day", show_default=True)
@click.option("--sample", type=float, default=0.001, show_default=True)
@click.option("--dask", default="local", show_default=True)
@click.option("--workers", type=int, default=LOCAL_WORKERS_DEFAULT, show_default=True)
def bench_sweep(
    scenario: Path | None, param: str, seeds: int, kind: str, sample: float, dask: str, workers: int
) -> None:
    """Run a sweep (20 runs by default) and print its wall time."""
    spec = spec_from(kind, scenario, param, seeds, None, sample)
    runs = len(spec.tasks())
    started = time.perf_counter()
    with click.progressbar(length=runs, label=f"{runs} runs", show_pos=True, file=sys.stderr) as bar:
        result = run_sweep(spec, dask=dask, workers=workers, progress=lambda _: bar.update(1))
    wall = time.perf_counter() - started
    busy = sum(r.wall_s for r in result.rows)
    click.echo(
        f"sweep bench: {runs} runs ({kind}, sample {sample}, {spec.param}) on {result.cluster} "
        f"with {workers} workers: wall {wall:.1f} s (runs' own wall time summed {busy:.1f} s, "
        f"{busy / wall:.2f}x)"
    )
