"""The wall time of a sweep (20 runs: 4 points x 5 seeds by default).

Wall time, not CPU time: a sweep is worth running in parallel exactly when the wall clock
falls, and it includes the LocalCluster's start and stop. The machine's load moves it; the
figure is printed with the runs' own summed wall time, so the parallel speed-up shows.
"""

from __future__ import annotations

import time

from sim.sweep import Progress, SweepSpec, run_sweep


def bench_sweep(spec: SweepSpec, dask: str, workers: int, progress: Progress) -> list[str]:
    """Run the sweep; the figures, one line."""
    runs = len(spec.tasks())
    started = time.perf_counter()
    result = run_sweep(spec, dask=dask, workers=workers, progress=progress)
    wall = time.perf_counter() - started
    busy = sum(r.wall_s for r in result.rows)
    return [
        f"sweep bench: {runs} runs ({spec.kind}, sample {spec.sample}, {spec.param}) on {result.cluster} "
        f"with {workers} workers: wall {wall:.1f} s (runs' own wall time summed {busy:.1f} s, "
        f"{busy / wall:.2f}x)"
    ]
